"""ROS 2 node serving /execute_brush_path: brush paths on the sheet to arm trajectories."""

from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
import rclpy
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.exceptions import ParameterUninitializedException
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory

from calligraphy_interfaces.action import ExecuteBrushPath
from calligraphy_interfaces.msg import TrajectoryAck
from motion_executor import conversions
from motion_executor.backends import MotionBackend, create_backend
from motion_executor.collision import CellCollisionModel
from motion_executor.config import ExecutorConfig
from motion_executor.errors import BackendUnavailableError, MotionError, MotionErrorCode
from motion_executor.handoff import Acknowledgement, HandoffTracker, controller_feedback_sample
from motion_executor.kinematics import ArmKinematics
from motion_executor.planner import PHASE_APPROACH, PHASE_WRITING, MotionPlan
from motion_executor.tracking import TrackingMonitor

Feedback = ExecuteBrushPath.Feedback
Result = ExecuteBrushPath.Result

# (parameter, config field, default, description)
_PARAMETERS = (
    ('backend', 'backend', 'native', "motion backend: 'native' (pinocchio + ruckig) or 'moveit'"),
    ('urdf_path', 'urdf_path', '', "cell URDF ('' = urdf/calligraphy_cell.urdf of the checkout)"),
    ('moveit.planning_group', 'moveit_planning_group', 'ur_manipulator', 'MoveIt planning group'),
    ('safe_height_m', 'safe_height_m', 0.03, 'tip height above the sheet for travel, metres'),
    ('max_pressing_depth_m', 'max_pressing_depth_m', 0.008, 'deepest accepted pressing, metres'),
    ('limits.joint_velocity_rad_s', 'joint_velocity_rad_s', 1.0, 'travel joint speed, rad/s'),
    (
        'limits.joint_acceleration_rad_s2',
        'joint_acceleration_rad_s2',
        2.0,
        'travel joint acceleration, rad/s^2',
    ),
    ('limits.joint_jerk_rad_s3', 'joint_jerk_rad_s3', 20.0, 'travel joint jerk, rad/s^3'),
    ('limits.vertical_speed_m_s', 'vertical_speed_m_s', 0.05, 'descent / rise speed, m/s'),
    (
        'limits.vertical_acceleration_m_s2',
        'vertical_acceleration_m_s2',
        0.5,
        'descent / rise acceleration, m/s^2',
    ),
    ('limits.vertical_jerk_m_s3', 'vertical_jerk_m_s3', 10.0, 'descent / rise jerk, m/s^3'),
    (
        'joint_state_timeout_s',
        'joint_state_timeout_s',
        0.5,
        'silence of /joint_states (wall clock) that aborts a motion, seconds',
    ),
    (
        'arm_startup_wait_s',
        'arm_startup_wait_s',
        10.0,
        'how long a goal waits for the first /joint_states of an arm still starting, seconds',
    ),
    (
        'trajectory_start_lead_s',
        'trajectory_start_lead_s',
        0.2,
        'start trajectories this long after the newest joint state (robot time), seconds',
    ),
    (
        'trajectory_ack',
        'trajectory_ack',
        False,
        "wait for the arm's TrajectoryAck on /arm_controller/trajectory_ack before judging "
        'tracking (the simulated arm sends one)',
    ),
    (
        'trajectory_ack_timeout_s',
        'trajectory_ack_timeout_s',
        5.0,
        'how long to wait for the arm to acknowledge a trajectory, seconds (wall clock)',
    ),
    (
        'controller_interface',
        'controller_interface',
        'topic',
        "how trajectories reach the arm: 'topic' (/arm_controller/joint_trajectory) or "
        "'follow_joint_trajectory' (a ros2_control controller's action, controller_action)",
    ),
    (
        'controller_action',
        'controller_action',
        '/arm_controller/follow_joint_trajectory',
        'the FollowJointTrajectory action of the arm controller (controller_interface '
        'follow_joint_trajectory)',
    ),
    (
        'max_tracking_error_m',
        'max_tracking_error_m',
        0.01,
        'tip deviation from the plan that aborts a motion while writing, metres',
    ),
    (
        'max_travel_tracking_error_m',
        'max_travel_tracking_error_m',
        0.05,
        'tip deviation from the plan that aborts a motion in the air (approach, retreat), metres',
    ),
    ('goal_tolerance_rad', 'goal_tolerance_rad', 0.01, 'final joint tolerance, rad'),
    (
        'settle_timeout_s',
        'settle_timeout_s',
        2.0,
        'robot time after the trajectory end to reach the final point, seconds',
    ),
    ('feedback_rate_hz', 'feedback_rate_hz', 20.0, 'action feedback rate, Hz'),
    (
        'cell_yaml',
        'cell_yaml',
        '',
        "fixed objects for the collision check ('' = urdf/cell.yaml beside the cell URDF)",
    ),
    (
        'idle_lift_timeout_s',
        'idle_lift_timeout_s',
        8.0,
        'a brush left below the safe height this long after a goal, with no new goal, is lifted '
        '(wall clock) seconds; 0 = never',
    ),
    ('max_path_points', 'max_path_points', 20000, 'most points a brush path may have'),
    ('max_path_duration_s', 'max_path_duration_s', 300.0, 'longest writing time of a path, s'),
    ('max_time_scale', 'max_time_scale', 10.0, 'largest accepted goal time_scale'),
)
# How far below the safe height a lifted tip may end (the arm's goal tolerance), metres.
_SAFE_HEIGHT_TOLERANCE_M = 0.002
# How long a goal waits for a lift already under way (service or watchdog), seconds.
_LIFT_WAIT_S = 30.0


@dataclass(frozen=True)
class _JointSample:
    stamp_s: float
    positions: np.ndarray
    received_wall_s: float


class _AbortError(Exception):
    def __init__(self, code: MotionErrorCode, message: str, lift_from: np.ndarray | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.lift_from = lift_from


class MotionExecutorNode(Node):
    """Executes timed brush paths with the arm.

    Action server:
        /execute_brush_path (calligraphy_interfaces/ExecuteBrushPath): validate and plan (codes
            EMPTY_PATH, INVALID_PATH, OUTSIDE_PAPER, TOO_DEEP, UNREACHABLE, JOINT_STATES_STALE,
            CONTROLLER_UNAVAILABLE before anything moves), stream the trajectory, report progress
            and tip error, finish on arrival; on cancel, stale joint states or a tracking error the
            brush is lifted to the safe height. One goal at a time (others are rejected).
    Publishes:
        /arm_controller/joint_trajectory (trajectory_msgs/JointTrajectory), stamped in robot time
            (the clock of /joint_states), answered by /arm_controller/trajectory_ack
            (calligraphy_interfaces/TrajectoryAck) when trajectory_ack is set; or, with
            controller_interface follow_joint_trajectory, goals of the controller_action
            (control_msgs/FollowJointTrajectory), whose acceptance is the acknowledgement and
            whose feedback (desired.time_from_start, actual) is what tracking is judged on.
    Subscribes:
        /joint_states (sensor_msgs/JointState).
    Service:
        /lift_brush (std_srvs/Trigger): lift the brush vertically to the safe height from where
            the arm is; answers after arrival, or at once with the reason (a goal executing, no
            fresh joint states, a lift that would collide).
    Safety: every plan and lift is checked against the cell's fixed objects (cell_yaml; COLLISION
        before anything moves). A goal that ends with the brush below the safe height and is not
        followed by another within idle_lift_timeout_s (wall clock) has the brush lifted by the
        node (a cancelled or vanished client between strokes). Goal fields are bounded:
        time_scale, approach_height_m and retreat_height_m (INVALID_ARGUMENT), the path's point
        count and duration (INVALID_PATH).
    Parameters (read once at start; runtime changes are rejected):
        backend (str, 'native' | 'moveit'), urdf_path (str), moveit.planning_group (str),
        safe_height_m, max_pressing_depth_m, limits.joint_velocity_rad_s,
        limits.joint_acceleration_rad_s2, limits.joint_jerk_rad_s3, limits.vertical_speed_m_s,
        limits.vertical_acceleration_m_s2, limits.vertical_jerk_m_s3, joint_state_timeout_s,
        trajectory_start_lead_s, max_tracking_error_m, max_travel_tracking_error_m,
        goal_tolerance_rad, settle_timeout_s, feedback_rate_hz, idle_lift_timeout_s,
        max_path_duration_s, max_time_scale (floats, SI units), max_path_points (int),
        cell_yaml (str),
        paper_pose.xyz_m, paper_pose.rpy_rad (double[3] each; unset = the URDF's `paper` frame).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('motion_executor_node', **kwargs)
        self.config = self._read_config()
        kinematics = ArmKinematics(self.config.urdf_path or None)
        paper_in_base = self.config.paper_in_base()
        self.backend: MotionBackend = create_backend(
            self.config.backend,
            kinematics,
            self.config.planner_config(),
            paper_in_base,
            self.config.moveit_planning_group,
            CellCollisionModel.from_cell_yaml(
                self.config.cell_yaml or None,
                kinematics.paper_in_base if paper_in_base is None else paper_in_base,
            ),
        )
        self._joint_names = kinematics.joint_names
        self._group = ReentrantCallbackGroup()
        self._lock = threading.Lock()
        self._latest: _JointSample | None = None
        self._recent: list[_JointSample] = []
        self._busy = False
        # A lift outside any goal (the lift_brush service or the idle watchdog) is under way.
        self._lifting = False
        # Wall time the last goal ended (None: no goal since the last lift, or one is running).
        self._idle_since: float | None = None
        self._trajectory_pub = self.create_publisher(
            JointTrajectory, '/arm_controller/joint_trajectory', 10
        )
        self._handoff = HandoffTracker()
        # A ros2_control cell: trajectories go as FollowJointTrajectory goals (control_msgs comes
        # with the ROS distribution; it has no wheel, so the simulated cell uses the topic).
        self._controller = None
        self._controller_result = None
        self._controller_start_s = 0.0
        if self.config.controller_interface == 'follow_joint_trajectory':
            try:
                from control_msgs.action import FollowJointTrajectory
            except ImportError as error:
                raise BackendUnavailableError(
                    'controller_interface follow_joint_trajectory needs control_msgs (install '
                    f"the ROS distribution's ros-<distro>-control-msgs): {error}"
                ) from None
            self._controller_type = FollowJointTrajectory
            self._controller = ActionClient(
                self,
                FollowJointTrajectory,
                self.config.controller_action,
                callback_group=self._group,
            )
        self.create_subscription(
            TrajectoryAck,
            '/arm_controller/trajectory_ack',
            self._on_ack,
            10,
            callback_group=self._group,
        )
        self.create_subscription(
            JointState,
            '/joint_states',
            self._on_joint_state,
            # Newest only: a backlog of old states would make every stamp we derive stale.
            QoSProfile(depth=1),
            callback_group=self._group,
        )
        self._server = ActionServer(
            self,
            ExecuteBrushPath,
            'execute_brush_path',
            execute_callback=self._execute,
            goal_callback=self._on_goal,
            cancel_callback=lambda _: CancelResponse.ACCEPT,
            callback_group=self._group,
        )
        self.create_service(Trigger, 'lift_brush', self._on_lift_brush, callback_group=self._group)
        if self.config.idle_lift_timeout_s > 0.0:
            self.create_timer(
                min(0.25, self.config.idle_lift_timeout_s / 4.0),
                self._on_idle_watchdog,
                callback_group=self._group,
                clock=Clock(clock_type=ClockType.STEADY_TIME),
            )
        self.add_on_set_parameters_callback(self._reject_runtime_changes)
        self.get_logger().info(
            f'serving /execute_brush_path with the {self.backend.name} backend '
            f'(safe height {self.config.safe_height_m * 1e3:.0f} mm)'
        )

    # ---------------------------------------------------------------- parameters
    def destroy_node(self) -> None:
        # rclpy's destroy_node leaves action servers and clients in the DDS graph. (A node whose
        # start failed has not made them.)
        for name in ('_server', '_controller'):
            if getattr(self, name, None) is not None:
                getattr(self, name).destroy()
        super().destroy_node()

    def _read_config(self) -> ExecutorConfig:
        values = {}
        for name, field_name, default, description in _PARAMETERS:
            self.declare_parameter(name, default, ParameterDescriptor(description=description))
            values[field_name] = self.get_parameter(name).value
        for name, field_name in (
            ('paper_pose.xyz_m', 'paper_xyz_m'),
            ('paper_pose.rpy_rad', 'paper_rpy_rad'),
        ):
            self.declare_parameter(
                name,
                Parameter.Type.DOUBLE_ARRAY,
                ParameterDescriptor(description='sheet pose in base_link (unset = from URDF)'),
            )
            try:
                values[field_name] = tuple(self.get_parameter(name).value)
            except ParameterUninitializedException:
                values[field_name] = ()
        return ExecutorConfig(**values)

    def _reject_runtime_changes(self, parameters: list[Parameter]) -> SetParametersResult:
        own = {name for name, *_ in _PARAMETERS} | {'paper_pose.xyz_m', 'paper_pose.rpy_rad'}
        changed = [p.name for p in parameters if p.name in own]
        if changed:
            return SetParametersResult(
                successful=False, reason=f'{changed} are read at start; restart the node'
            )
        return SetParametersResult(successful=True)

    # ---------------------------------------------------------------- joint states
    def _on_joint_state(self, msg: JointState) -> None:
        positions = conversions.joint_positions_from_msg(msg, self._joint_names)
        if positions is None:
            return
        sample = _JointSample(
            conversions.time_to_seconds(msg.header.stamp), positions, time.monotonic()
        )
        with self._lock:
            self._latest = sample
            # With a ros2_control controller, its feedback says where along the trajectory the
            # arm is; the joint states then only tell that the arm is alive.
            if self._busy and self._controller is None:
                self._recent.append(sample)

    def _on_controller_feedback(self, msg) -> None:
        sample = controller_feedback_sample(
            msg.feedback, self._joint_names, self._controller_start_s
        )
        if sample is None:
            return
        with self._lock:
            if self._busy:
                self._recent.append(_JointSample(sample[0], sample[1], time.monotonic()))

    def _send_to_controller(self, msg: JointTrajectory, start_s: float, wait: bool) -> float:
        """Send a trajectory as a FollowJointTrajectory goal; its acceptance is the
        acknowledgement. Returns the start on the plan clock (feedback times count from it)."""
        action = self.config.controller_action
        timeout = self.config.trajectory_ack_timeout_s
        if not self._controller.wait_for_server(timeout_sec=timeout):
            raise MotionError(MotionErrorCode.CONTROLLER_UNAVAILABLE, f'{action} is not available')
        self._controller_start_s = start_s
        self._controller_result = None
        sent = self._controller.send_goal_async(
            self._controller_type.Goal(trajectory=msg),
            feedback_callback=self._on_controller_feedback,
        )
        if not wait:
            return start_s
        answered = threading.Event()
        sent.add_done_callback(lambda _: answered.set())
        if not answered.wait(timeout):
            raise MotionError(
                MotionErrorCode.CONTROLLER_UNAVAILABLE,
                f'{action} did not answer the trajectory within {timeout:g} s',
            )
        handle = sent.result()
        if not handle.accepted:
            raise MotionError(
                MotionErrorCode.CONTROLLER_UNAVAILABLE,
                f'{action} rejected the trajectory (its log says why: joints, limits, or a '
                'start that ended in the past)',
            )
        self._controller_result = handle.get_result_async()
        return start_s

    def _uses_ack(self) -> bool:
        """The simulated arm's TrajectoryAck (topic hand-off only)."""
        return self.config.trajectory_ack and self._controller is None

    def _controller_outcome(self) -> tuple[bool, str] | None:
        """(succeeded, what the controller said) once its goal has ended; None before."""
        future = self._controller_result
        if future is None or not future.done():
            return None
        result = future.result().result
        return result.error_code == 0, result.error_string or f'error code {result.error_code}'

    def _on_ack(self, msg: TrajectoryAck) -> None:
        requested = msg.requested_start
        self._handoff.record(
            Acknowledgement(
                requested.sec * 1_000_000_000 + requested.nanosec,
                conversions.time_to_seconds(msg.start),
                msg.accepted,
                msg.reason,
            )
        )

    def _wait_for_arm(self, ready) -> bool:
        """Poll `ready()` for up to arm_startup_wait_s: an arm (or its controller) that is still
        starting is waited for, not refused."""
        deadline = time.monotonic() + self.config.arm_startup_wait_s
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.05)
        return ready()

    def _fresh_state(self) -> _JointSample:
        # The arm has never reported: it may still be starting.
        self._wait_for_arm(lambda: self._latest is not None)
        with self._lock:
            latest = self._latest
        if latest is None or time.monotonic() - latest.received_wall_s > (
            self.config.joint_state_timeout_s
        ):
            raise MotionError(
                MotionErrorCode.JOINT_STATES_STALE,
                f'no /joint_states with all arm joints within the last '
                f'{self.config.joint_state_timeout_s} s',
            )
        return latest

    def _drain(self) -> list[_JointSample]:
        with self._lock:
            samples, self._recent = self._recent, []
        return samples

    # ---------------------------------------------------------------- action
    def _on_goal(self, _goal) -> GoalResponse:
        with self._lock:
            if self._busy:
                self.get_logger().warning('rejected a brush path: another one is executing')
                return GoalResponse.REJECT
            self._busy = True
            self._recent = []
        return GoalResponse.ACCEPT

    def _execute(self, goal_handle) -> Result:
        result = Result()
        started = None
        try:
            goal = goal_handle.request
            self._feedback(goal_handle, 'planning', -1, len(goal.path.x_m), 0.0)
            self._check_goal_bounds(goal)
            path = conversions.brush_path_from_msg(goal.path)
            self._check_path_duration(path.time_from_start_s, goal.time_scale)
            self._wait_for_idle_lift()
            state = self._fresh_state()
            # The controller may be discovered a moment after its states.
            if self._controller is None and not self._wait_for_arm(
                lambda: self._trajectory_pub.get_subscription_count() > 0
            ):
                raise MotionError(
                    MotionErrorCode.CONTROLLER_UNAVAILABLE,
                    'nothing subscribes to /arm_controller/joint_trajectory',
                )
            if self._uses_ack() and not self._wait_for_arm(
                lambda: self.count_publishers('/arm_controller/trajectory_ack') > 0
            ):
                raise MotionError(
                    MotionErrorCode.CONTROLLER_UNAVAILABLE,
                    'nothing publishes /arm_controller/trajectory_ack',
                )
            plan = self.backend.plan(
                path,
                state.positions,
                goal.time_scale,
                goal.skip_approach,
                goal.skip_retreat,
                goal.approach_height_m,
                goal.retreat_height_m,
            )
            started, monitor = self._stream(plan, state)
            self._follow(goal_handle, plan, started, monitor, len(goal.path.x_m))
            result.success = True
            result.error_code = Result.SUCCESS
            result.tip_rms_error_m = monitor.writing_rms_error_m
            result.tip_max_error_m = monitor.writing_max_error_m
            result.duration_s = plan.duration_s
            goal_handle.succeed()
        except MotionError as error:
            # Rejected before any motion.
            result.error_code = int(error.code)
            result.error_msg = error.message
            self.get_logger().warning(f'brush path rejected: {error}')
            goal_handle.abort()
        except _AbortError as abort:
            self._lift(abort.lift_from, wait=abort.code == MotionErrorCode.CANCELED)
            result.error_code = int(abort.code)
            result.error_msg = abort.message
            if abort.code == MotionErrorCode.CANCELED:
                goal_handle.canceled()
            else:
                self.get_logger().error(f'brush path aborted: {abort.message}')
                goal_handle.abort()
        except Exception as error:  # noqa: BLE001 - a bad goal must never take the node down
            self.get_logger().error(f'brush path failed: {error!r}')
            result.error_code = Result.INTERNAL_ERROR
            result.error_msg = f'internal error: {error}'
            goal_handle.abort()
        finally:
            with self._lock:
                self._busy = False
                self._idle_since = time.monotonic()
        return result

    # ---------------------------------------------------------------- goal bounds
    def _check_goal_bounds(self, goal) -> None:
        """Refuse goal fields out of their bounds before anything is planned."""
        c = self.config
        count = len(goal.path.x_m)
        if count > c.max_path_points:
            raise MotionError(
                MotionErrorCode.INVALID_PATH,
                f'the brush path has {count} points; at most {c.max_path_points} are accepted',
            )
        scale = goal.time_scale
        if not math.isfinite(scale) or scale < 0.0 or scale > c.max_time_scale:
            raise MotionError(
                MotionErrorCode.INVALID_ARGUMENT,
                f'time_scale must be 0 (= 1) or in (0, {c.max_time_scale:g}], got {scale!r}',
            )
        for name in ('approach_height_m', 'retreat_height_m'):
            value = getattr(goal, name)
            if not math.isfinite(value) or value < 0.0 or value > c.safe_height_m + 1e-9:
                raise MotionError(
                    MotionErrorCode.INVALID_ARGUMENT,
                    f'{name} must be 0 (the safe height) or up to the safe height of '
                    f'{c.safe_height_m * 1e3:.0f} mm, got {value!r}',
                )

    def _check_path_duration(self, time_from_start_s: np.ndarray, time_scale: float) -> None:
        if len(time_from_start_s) < 2 or not np.all(np.isfinite(time_from_start_s)):
            return  # the planner names what is wrong with such a path
        duration = float(time_from_start_s[-1] - time_from_start_s[0]) * (time_scale or 1.0)
        if duration > self.config.max_path_duration_s:
            raise MotionError(
                MotionErrorCode.INVALID_PATH,
                f'the brush path takes {duration:.0f} s to write; at most '
                f'{self.config.max_path_duration_s:g} s are accepted',
            )

    # ---------------------------------------------------------------- safe state
    def _wait_for_idle_lift(self) -> None:
        """A goal accepted while the node lifts the brush on its own starts after the lift."""
        deadline = time.monotonic() + _LIFT_WAIT_S
        while time.monotonic() < deadline:
            with self._lock:
                if not self._lifting:
                    self._idle_since = None
                    return
            time.sleep(0.02)
        raise MotionError(
            MotionErrorCode.CONTROLLER_UNAVAILABLE,
            f'a lift of the brush did not finish within {_LIFT_WAIT_S:.0f} s',
        )

    def _on_lift_brush(self, _request, response: Trigger.Response) -> Trigger.Response:
        with self._lock:
            if self._busy or self._lifting:
                response.success = False
                response.message = (
                    'busy: a brush path is executing (cancel it; a cancel lifts the brush)'
                    if self._busy
                    else 'busy: the brush is already being lifted'
                )
                return response
            self._lifting = True
        try:
            response.success, response.message = self._lift_to_safe_height()
        except Exception as error:  # noqa: BLE001 - a failed lift must never take the node down
            response.success, response.message = False, f'internal error: {error}'
        finally:
            with self._lock:
                self._lifting = False
        self.get_logger().info(f'lift_brush: {response.message}')
        return response

    def _on_idle_watchdog(self) -> None:
        timeout = self.config.idle_lift_timeout_s
        with self._lock:
            since = self._idle_since
            if self._busy or self._lifting or since is None or time.monotonic() - since < timeout:
                return
            self._lifting = True
            self._idle_since = None
        try:
            lifted, message = self._lift_to_safe_height()
            if lifted and message.startswith('lifted'):
                self.get_logger().warning(
                    f'no goal for {timeout:g} s with the brush below the safe height: {message}'
                )
            elif not lifted:
                self.get_logger().error(f'idle watchdog could not lift the brush: {message}')
        except Exception as error:  # noqa: BLE001 - the watchdog must never take the node down
            self.get_logger().error(f'idle watchdog failed: {error!r}')
        finally:
            with self._lock:
                self._lifting = False

    def _tip_height_m(self, sample: _JointSample) -> float:
        return float(self.backend.planner.tip_in_paper(sample.positions)[2])

    def _lift_to_safe_height(self) -> tuple[bool, str]:
        """Lift the brush vertically from where the arm is; (arrived, what happened)."""
        with self._lock:
            latest = self._latest
        if latest is None or time.monotonic() - latest.received_wall_s > (
            self.config.joint_state_timeout_s
        ):
            return False, (
                'no /joint_states with all arm joints within the last '
                f'{self.config.joint_state_timeout_s:g} s: the arm position is unknown'
            )
        safe = self.config.safe_height_m
        before = self._tip_height_m(latest)
        if before >= safe - _SAFE_HEIGHT_TOLERANCE_M:
            return True, (
                f'the brush is already at {before * 1e3:.1f} mm, at or above the safe height of '
                f'{safe * 1e3:.0f} mm'
            )
        try:
            self.backend.plan_lift(latest.positions)
        except MotionError as error:
            return False, f'cannot lift: {error.message}'
        self._lift(latest.positions, wait=True)
        with self._lock:
            after = self._tip_height_m(self._latest) if self._latest else before
        if after < safe - _SAFE_HEIGHT_TOLERANCE_M:
            return False, (
                f'the lift did not arrive: the tip is at {after * 1e3:.1f} mm, the safe height is '
                f'{safe * 1e3:.0f} mm'
            )
        return True, f'lifted the brush from {before * 1e3:.1f} mm to {after * 1e3:.1f} mm'

    def _stream(self, plan: MotionPlan, state: _JointSample) -> tuple[float, TrackingMonitor]:
        return self._hand_off(plan, state), TrackingMonitor(plan, self.backend.planner)

    def _hand_off(
        self,
        plan: MotionPlan,
        fallback: _JointSample | None = None,
        is_lift: bool = False,
        wait_ack: bool = True,
    ) -> float:
        """Send `plan` to the arm, timed in its future; the robot time it starts at.

        The stamp is taken from the newest joint state, not the one planned from: planning takes
        wall time. With `trajectory_ack` the start is the one the arm acknowledged (later than
        stamped when the trajectory arrived late); no acknowledgement within the timeout stops the
        arm and raises CONTROLLER_UNAVAILABLE, so tracking is never judged against a trajectory
        the arm does not follow. A lift is never stopped: should it still arrive, the brush goes
        up, which is where it must end. Without `wait_ack` (a lift nobody waits for) the
        requested start is returned at once.
        """
        with self._lock:
            newest = self._latest or fallback
        stamp_s = newest.stamp_s + self.config.trajectory_start_lead_s if newest else 0.0
        start_ns = self._handoff.unique_start_ns(stamp_s)
        msg = conversions.plan_to_trajectory_msg(plan, 0.0)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(start_ns, 1_000_000_000)
        if self._controller is not None:
            return self._send_to_controller(msg, start_ns * 1e-9, wait_ack)
        self._trajectory_pub.publish(msg)
        if not (self._uses_ack() and wait_ack):
            return start_ns * 1e-9
        ack = self._handoff.wait(start_ns, self.config.trajectory_ack_timeout_s)
        if ack is not None and ack.accepted:
            return ack.start_s
        if not is_lift:
            # Hold where the arm is: should the trajectory still arrive, the stop comes after it.
            stop = JointTrajectory()
            stop.joint_names = list(plan.joint_names)
            self._trajectory_pub.publish(stop)
        raise MotionError(
            MotionErrorCode.CONTROLLER_UNAVAILABLE,
            f'the arm rejected the trajectory: {ack.reason}'
            if ack is not None
            else 'the arm did not acknowledge the trajectory within '
            f'{self.config.trajectory_ack_timeout_s:g} s',
        )

    def _follow(self, goal_handle, plan: MotionPlan, start: float, monitor, count: int) -> None:
        period = 1.0 / self.config.feedback_rate_hz
        plan_time = -self.config.trajectory_start_lead_s
        last_positions = plan.positions[0]
        while True:
            time.sleep(period)
            samples = self._drain()
            for sample in samples:
                previous_time, plan_time = plan_time, sample.stamp_s - start
                last_positions = sample.positions
                error = monitor.update(plan_time, sample.positions)
                limit = (
                    self.config.max_tracking_error_m
                    if plan.phase_at(max(plan_time, 0.0)) == PHASE_WRITING
                    else self.config.max_travel_tracking_error_m
                )
                if error > limit:
                    raise _AbortError(
                        MotionErrorCode.TRACKING_ERROR,
                        f'brush tip {error * 1e3:.1f} mm off the plan at {plan_time:.2f} s',
                        sample.positions,
                    )
                # Only the newest joint state is kept, and on a loaded machine a whole phase can
                # pass between two of them: every phase begun since the last one is reported.
                for name, begin, _ in plan.phases:
                    if previous_time < begin <= plan_time:
                        index = plan.point_index_at(begin)
                        self._feedback(goal_handle, name, index, count, error)
            if goal_handle.is_cancel_requested:
                raise _AbortError(
                    MotionErrorCode.CANCELED, 'canceled; brush lifted', last_positions
                )
            with self._lock:
                latest = self._latest
            if time.monotonic() - latest.received_wall_s > self.config.joint_state_timeout_s:
                # The arm's state is unknown: lift from where it was commanded to be.
                raise _AbortError(
                    MotionErrorCode.JOINT_STATES_STALE,
                    f'/joint_states silent for more than {self.config.joint_state_timeout_s} s '
                    'during the motion; brush lifted',
                    plan.positions_at(max(plan_time, 0.0) + period),
                )
            if monitor.arrived(plan_time, last_positions, self.config.goal_tolerance_rad):
                return
            outcome = self._controller_outcome()
            if outcome is not None:
                # The controller has ended its goal: it reached the end within its own
                # tolerances, or it aborted and says why (no feedback follows either way).
                succeeded, said = outcome
                if succeeded:
                    return
                raise _AbortError(
                    MotionErrorCode.TRACKING_ERROR,
                    f'{self.config.controller_action} aborted the trajectory: {said}',
                    last_positions,
                )
            if plan_time > plan.duration_s + self.config.settle_timeout_s:
                raise _AbortError(
                    MotionErrorCode.TRACKING_ERROR,
                    f'the arm did not reach the final point within '
                    f'{self.config.settle_timeout_s} s of the trajectory end',
                    last_positions,
                )
            self._feedback(
                goal_handle,
                plan.phase_at(plan_time) if plan_time >= 0.0 else PHASE_APPROACH,
                plan.point_index_at(plan_time),
                count,
                monitor.last_error_m,
            )

    def _lift(self, from_positions: np.ndarray | None, wait: bool) -> None:
        if from_positions is None:
            return
        try:
            plan = self.backend.plan_lift(from_positions)
        except MotionError as error:
            self.get_logger().error(f'could not plan the lift: {error}')
            return
        try:
            start = self._hand_off(plan, is_lift=True, wait_ack=wait)
        except MotionError as error:
            self.get_logger().error(f'could not lift the brush: {error}')
            return
        if not wait:
            return
        monitor = TrackingMonitor(plan, self.backend.planner)
        deadline = time.monotonic() + 5.0 + 3.0 * plan.duration_s
        while time.monotonic() < deadline:
            time.sleep(1.0 / self.config.feedback_rate_hz)
            with self._lock:
                latest = self._latest
            if latest and monitor.arrived(
                latest.stamp_s - start, latest.positions, self.config.goal_tolerance_rad
            ):
                return
        self.get_logger().warning('the lift did not finish within its timeout')

    def _feedback(self, goal_handle, phase: str, index: int, count: int, error: float) -> None:
        feedback = Feedback()
        feedback.phase = phase
        feedback.point_index = int(index)
        feedback.point_count = int(count)
        feedback.tip_error_m = float(error)
        goal_handle.publish_feedback(feedback)


def main(args: list[str] | None = None) -> int:
    rclpy.init(args=args)
    try:
        node = MotionExecutorNode()
    except (BackendUnavailableError, ValueError, FileNotFoundError) as error:
        print(f'motion_executor_node: error: {error}', file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    executor = MultiThreadedExecutor(num_threads=4)
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
