"""ROS 2 node serving /execute_brush_path: brush paths on the sheet to arm trajectories.

The node translates ROS messages, the action, the service and the timer into calls of the
motion supervisor (motion_executor.supervision), which decides everything.
"""

from __future__ import annotations

import sys

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory

from calligraphy_interfaces.action import ExecuteBrushPath
from calligraphy_interfaces.msg import TrajectoryAck
from calligraphy_model.cell_description import fixed_pose_in_base, load_cell_yaml
from calligraphy_model.kinematics import ArmKinematics
from calligraphy_ros_kit.futures import FutureTimeoutError, wait_for_future
from calligraphy_ros_kit.lane import SubscriptionLane
from calligraphy_ros_kit.parameters import declare_config, read_only_at_run_time
from calligraphy_ros_kit.runner import run_node
from motion_executor import conversions
from motion_executor.backends import create_backend
from motion_executor.brush_motion import MotionPlan
from motion_executor.collision import CellCollisionModel
from motion_executor.config import ExecutorConfig, MotionLimits, MoveItSettings
from motion_executor.errors import BackendUnavailableError, MotionError, MotionErrorCode
from motion_executor.handoff import Acknowledgement, controller_feedback_sample
from motion_executor.supervision import JointSample, MotionRequest, MotionSupervisor

Feedback = ExecuteBrushPath.Feedback
Result = ExecuteBrushPath.Result
_PAPER_POSE = (('paper_pose.xyz_m', 'paper_xyz_m'), ('paper_pose.rpy_rad', 'paper_rpy_rad'))


class _Goal:
    """One goal's feedback and cancel for the supervisor."""

    def __init__(self, goal_handle) -> None:
        self._handle = goal_handle

    def feedback(self, phase: str, index: int, count: int, error_m: float) -> None:
        self._handle.publish_feedback(
            Feedback(
                phase=phase, point_index=int(index), point_count=int(count),
                tip_error_m=float(error_m),
            )
        )  # fmt: skip

    def cancel_requested(self) -> bool:
        return self._handle.is_cancel_requested


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
    Parameters (read once at start; runtime changes are rejected): ExecutorConfig's fields,
        MotionLimits' as `limits.*`, MoveItSettings' as `moveit.*`, and paper_pose.xyz_m,
        paper_pose.rpy_rad (double[3] each; unset = cell.yaml's `paper`).
    Subscribes also, where speed_scaling_topic is set, to the arm's speed scaling
        (std_msgs/Float64, percent: /speed_scaling_state_broadcaster/speed_scaling on a UR).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('motion_executor_node', **kwargs)
        self.config = self._read_config()
        kinematics = ArmKinematics(self.config.urdf_path or None)
        cell = load_cell_yaml(self.config.cell_yaml or None)
        # The sheet where the one cell description (cell.yaml, written by calibration) puts it,
        # unless paper_pose.* overrides it.
        paper_in_base = self.config.paper_in_base()
        if paper_in_base is None:
            paper_in_base = fixed_pose_in_base(cell, 'paper')
        self.backend = create_backend(
            self.config.backend,
            kinematics,
            self.config.planner_config(),
            paper_in_base,
            self.config.moveit,
            CellCollisionModel.from_cell_yaml(cell, paper_in_base),
        )
        self._joint_names = kinematics.joint_names
        self._group = ReentrantCallbackGroup()
        self._trajectory_pub = self.create_publisher(
            JointTrajectory, 'arm_controller/joint_trajectory', 10
        )
        # A ros2_control cell: trajectories go as FollowJointTrajectory goals (control_msgs comes
        # with the ROS distribution; it has no wheel, so the simulated cell uses the topic).
        self._controller = None
        self._controller_result = None
        self._controller_start_s = 0.0
        self.uses_controller = self.config.controller_interface == 'follow_joint_trajectory'
        if self.uses_controller:
            try:
                from control_msgs.action import FollowJointTrajectory
            except ImportError as error:
                raise BackendUnavailableError(
                    'controller_interface follow_joint_trajectory needs control_msgs (install '
                    f"the ROS distribution's ros-<distro>-control-msgs): {error}"
                ) from None
            self._controller_type = FollowJointTrajectory
            self._controller = ActionClient(
                self, FollowJointTrajectory, self.config.controller_action,
                callback_group=self._group,
            )  # fmt: skip
        self.supervisor = MotionSupervisor(self.config, self.backend, self, self.get_logger())
        if self.config.speed_scaling_topic:
            self.create_subscription(
                Float64, self.config.speed_scaling_topic, self._on_speed_scaling, 10,
                callback_group=self._group,
            )  # fmt: skip
        self.create_subscription(
            TrajectoryAck, 'arm_controller/trajectory_ack', self._on_ack, 10,
            callback_group=self._group,
        )  # fmt: skip
        # On a lane of its own: 400-500 joint states a second woke this node's executor (and
        # in `calligraphy write`, that of six other nodes) for each one (calligraphy_ros_kit.lane).
        self._lane = SubscriptionLane(self)
        self._lane.create_subscription(
            JointState,
            'joint_states',
            self._on_joint_state,
            # Newest only: a backlog of old states would make every stamp we derive stale.
            QoSProfile(depth=1),
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
                self.supervisor.idle_tick,
                callback_group=self._group,
                clock=Clock(clock_type=ClockType.STEADY_TIME),
            )
        self.get_logger().info(
            f'serving /execute_brush_path with the {self.backend.name} backend '
            f'(safe height {self.config.safe_height_m * 1e3:.0f} mm)'
        )

    def destroy_node(self) -> None:
        # rclpy's destroy_node leaves action servers and clients in the DDS graph. (A node whose
        # start failed has not made them.)
        for name in ('_server', '_controller', '_lane'):
            if getattr(self, name, None) is not None:
                getattr(self, name).destroy()
        super().destroy_node()

    @property
    def _latest(self) -> JointSample | None:
        """The newest joint state the supervisor heard (tests wait for the arm with it)."""
        return self.supervisor.latest

    def _read_config(self) -> ExecutorConfig:
        fixed = {
            'limits': declare_config(self, MotionLimits, 'limits.'),
            'moveit': declare_config(self, MoveItSettings, 'moveit.'),
        }
        for name, field_name in _PAPER_POSE:
            self.declare_parameter(
                name,
                Parameter.Type.DOUBLE_ARRAY,
                ParameterDescriptor(description='sheet pose in base_link (unset = cell.yaml)'),
            )
            try:
                fixed[field_name] = tuple(self.get_parameter(name).value)
            except ParameterUninitializedException:
                fixed[field_name] = ()
        read_only_at_run_time(self, *(name for name, _ in _PAPER_POSE))
        return declare_config(self, ExecutorConfig, **fixed)

    # ---------------------------------------------------------------- inputs
    def _on_joint_state(self, msg: JointState) -> None:
        positions = conversions.joint_positions_from_msg(msg, self._joint_names)
        if positions is not None:
            self.supervisor.on_joint_state(
                conversions.time_to_seconds(msg.header.stamp), positions
            )

    def _on_controller_feedback(self, msg) -> None:
        sample = controller_feedback_sample(
            msg.feedback, self._joint_names, self._controller_start_s
        )
        if sample is not None:
            self.supervisor.on_controller_sample(*sample)

    def _on_speed_scaling(self, msg: Float64) -> None:
        self.supervisor.speed_fraction = min(max(float(msg.data) / 100.0, 0.0), 1.0)

    def _on_ack(self, msg: TrajectoryAck) -> None:
        requested = msg.requested_start
        self.supervisor.on_ack(
            Acknowledgement(
                requested.sec * 1_000_000_000 + requested.nanosec,
                conversions.time_to_seconds(msg.start),
                msg.accepted,
                msg.reason,
            )
        )

    # ---------------------------------------------------------------- the action and service
    def _on_goal(self, _goal) -> GoalResponse:
        return GoalResponse.ACCEPT if self.supervisor.try_accept() else GoalResponse.REJECT

    def _execute(self, goal_handle) -> Result:
        goal = goal_handle.request
        outcome = self.supervisor.execute(
            MotionRequest(
                point_count=len(goal.path.x_m) + sum(len(p.x_m) for p in goal.then_paths),
                load_path=lambda: conversions.brush_path_from_msg(goal.path),
                load_then_paths=lambda: tuple(
                    conversions.brush_path_from_msg(p) for p in goal.then_paths
                ),
                time_scale=goal.time_scale,
                skip_approach=goal.skip_approach,
                skip_retreat=goal.skip_retreat,
                approach_height_m=goal.approach_height_m,
                retreat_height_m=goal.retreat_height_m,
            ),
            _Goal(goal_handle),
        )
        result = Result(error_code=int(outcome.code), error_msg=outcome.message)
        if outcome.success:
            result.success = True
            result.tip_rms_error_m = outcome.tip_rms_error_m
            result.tip_max_error_m = outcome.tip_max_error_m
            result.duration_s = outcome.duration_s
            result.arrived_at = conversions.seconds_to_time(outcome.arrived_at_s)
            goal_handle.succeed()
        elif outcome.code == MotionErrorCode.CANCELED:
            goal_handle.canceled()
        else:
            goal_handle.abort()
        return result

    def _on_lift_brush(self, _request, response: Trigger.Response) -> Trigger.Response:
        response.success, response.message = self.supervisor.lift_brush()
        return response

    # ---------------------------------------------------------------- the arm (ArmLink)
    def trajectory_listened(self) -> bool:
        return self._trajectory_pub.get_subscription_count() > 0

    def ack_published(self) -> bool:
        return self.count_publishers(self.resolve_topic_name('arm_controller/trajectory_ack')) > 0

    def publish(self, plan: MotionPlan, start_ns: int) -> None:
        self._trajectory_pub.publish(self._trajectory(plan, start_ns))

    def publish_stop(self, joint_names: tuple[str, ...]) -> None:
        self._trajectory_pub.publish(JointTrajectory(joint_names=list(joint_names)))

    @staticmethod
    def _trajectory(plan: MotionPlan, start_ns: int) -> JointTrajectory:
        msg = conversions.plan_to_trajectory_msg(plan, 0.0)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(start_ns, 1_000_000_000)
        return msg

    def send_to_controller(self, plan: MotionPlan, start_ns: int, wait: bool) -> float:
        """Send a trajectory as a FollowJointTrajectory goal; its acceptance is the
        acknowledgement. Returns the start on the plan clock (feedback times count from it)."""
        action = self.config.controller_action
        timeout = self.config.trajectory_ack_timeout_s
        start_s = start_ns * 1e-9
        if not self._controller.wait_for_server(timeout_sec=timeout):
            raise MotionError(MotionErrorCode.CONTROLLER_UNAVAILABLE, f'{action} is not available')
        self._controller_start_s = start_s
        self._controller_result = None
        sent = self._controller.send_goal_async(
            self._controller_type.Goal(trajectory=self._trajectory(plan, start_ns)),
            feedback_callback=self._on_controller_feedback,
        )
        if not wait:
            return start_s
        try:
            handle = wait_for_future(sent, timeout)
        except FutureTimeoutError:
            raise MotionError(
                MotionErrorCode.CONTROLLER_UNAVAILABLE,
                f'{action} did not answer the trajectory within {timeout:g} s',
            ) from None
        if not handle.accepted:
            raise MotionError(
                MotionErrorCode.CONTROLLER_UNAVAILABLE,
                f'{action} rejected the trajectory (its log says why: joints, limits, or a '
                'start that ended in the past)',
            )
        self._controller_result = handle.get_result_async()
        return start_s

    def controller_outcome(self) -> tuple[bool, str] | None:
        future = self._controller_result
        if future is None or not future.done():
            return None
        result = future.result().result
        return result.error_code == 0, result.error_string or f'error code {result.error_code}'


def main(args: list[str] | None = None) -> int:
    return run_node(
        MotionExecutorNode,
        'motion_executor_node',
        args,
        threads=4,
        start_errors=(BackendUnavailableError,),
    )


if __name__ == '__main__':
    sys.exit(main())
