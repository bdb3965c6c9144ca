"""The dip node: serves /dip_ink, running the scripted dip-and-wipe through the motion executor."""

from __future__ import annotations

import threading
import time

import rclpy
from rclpy.action import ActionClient, ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import Bool, Float64

from calligraphy_interfaces.action import DipInk, ExecuteBrushPath
from ink_dipping.config import DIP_MODES, DipRoutineConfig, InkBudgetConfig, InkWellConfig
from ink_dipping.conversions import segment_to_path
from ink_dipping.routine import dip_routine


class DipError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class InkDippingNode(Node):
    """Reloads the brush at the ink well.

    Action served: /dip_ink (DipInk) — phases approach, descend, dwell, rise, wipe, retreat, each
    executed as a brush path through /execute_brush_path. Refused with BUSY_WRITING while
    /writer/writing is true; canceling cancels the running motion, which lifts the brush clear of
    the well to the safe height.
    Subscribes: /writer/writing (std_msgs/Bool, transient local), the brush ink load topic named by
    `ink_load_topic` (std_msgs/Float64; the virtual paper's in simulation) to report the load after
    a dip — without a reading the result reports the configured wipe target.
    Parameters: ink_well.{x_m, y_m, radius_m, rim_height_m, ink_surface_height_m} (paper frame, m;
    required: the node refuses to start without a valid pose), dip.{safe_height_m, dip_depth_m,
    dwell_s, wipe_count, wipe_direction_rad, travel_speed_m_s, wipe_speed_m_s}, wipe_target_load,
    ink_load_topic, motion_timeout_s.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('ink_dipping_node', **kwargs)
        for name in vars(InkWellConfig()):
            self.declare_parameter(f'ink_well.{name}', float('nan'))
        for name, value in vars(DipRoutineConfig()).items():
            self.declare_parameter(f'dip.{name}', value)
        self.declare_parameter('wipe_target_load', InkBudgetConfig().wipe_target_load)
        self.declare_parameter('ink_load_topic', '/virtual_paper/ink_load')
        self.declare_parameter('motion_timeout_s', 60.0)
        try:
            self.well = InkWellConfig(
                **{n: self.get_parameter(f'ink_well.{n}').value for n in vars(InkWellConfig())}
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f'ink well pose missing or invalid in parameters: {error}') from error
        self.routine = DipRoutineConfig(
            **{n: self.get_parameter(f'dip.{n}').value for n in vars(DipRoutineConfig())}
        )
        self.wipe_target_load = float(self.get_parameter('wipe_target_load').value)
        self.motion_timeout_s = float(self.get_parameter('motion_timeout_s').value)

        self._writing = False
        self._ink_load: float | None = None
        self._busy = threading.Lock()
        group = ReentrantCallbackGroup()
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(Bool, 'writer/writing', self._on_writing, latched)
        topic = self.get_parameter('ink_load_topic').value
        if topic:
            self.create_subscription(Float64, topic, self._on_ink_load, 10)
        self.motion_client = ActionClient(
            self, ExecuteBrushPath, 'execute_brush_path', callback_group=group
        )
        self._server = ActionServer(
            self, DipInk, 'dip_ink', self._execute, callback_group=group,
            cancel_callback=lambda _: CancelResponse.ACCEPT,
        )  # fmt: skip

    def _on_writing(self, msg: Bool) -> None:
        self._writing = msg.data

    def _on_ink_load(self, msg: Float64) -> None:
        self._ink_load = msg.data

    def _execute(self, goal_handle):
        goal = goal_handle.request
        result = DipInk.Result()
        mode = goal.mode or 'full'
        try:
            if mode not in DIP_MODES:
                raise DipError(DipInk.Result.INVALID_MODE, f'mode must be one of {DIP_MODES}')
            if self._writing:
                raise DipError(DipInk.Result.BUSY_WRITING, 'a stroke is being written')
            if not self._busy.acquire(blocking=False):
                raise DipError(DipInk.Result.BUSY_WRITING, 'another dip is running')
            try:
                self._dip(goal_handle, mode, goal.wipe_count)
            finally:
                self._busy.release()
        except DipError as error:
            result.error_code, result.error_msg = error.code, error.message
            self.get_logger().warn(f'dip: {error.message}')
            if error.code == DipInk.Result.CANCELED and goal_handle.is_cancel_requested:
                goal_handle.canceled()
            else:
                goal_handle.abort()
            return result
        result.success = True
        # Give the ink-load reading of the wipe time to arrive.
        time.sleep(0.2)
        result.ink_load = self._ink_load if self._ink_load is not None else self.wipe_target_load
        goal_handle.succeed()
        return result

    def _dip(self, goal_handle, mode: str, wipe_count: int) -> None:
        segments = dip_routine(self.well, self.routine, mode, wipe_count)
        if not self.motion_client.wait_for_server(timeout_sec=10.0):
            raise DipError(DipInk.Result.EXECUTION_FAILED, '/execute_brush_path not available')
        for index, segment in enumerate(segments):
            goal_handle.publish_feedback(
                DipInk.Feedback(phase=segment.phase, progress=index / len(segments))
            )
            motion = ExecuteBrushPath.Goal(
                path=segment_to_path(segment), time_scale=1.0,
                skip_approach=index > 0, skip_retreat=index < len(segments) - 1,
            )  # fmt: skip
            self._run_motion(goal_handle, motion, segment.phase)
        goal_handle.publish_feedback(DipInk.Feedback(phase='retreat', progress=1.0))

    def _run_motion(self, goal_handle, motion, phase: str) -> None:
        handle = self._wait(self.motion_client.send_goal_async(motion), 10.0, phase)
        if not handle.accepted:
            raise DipError(DipInk.Result.EXECUTION_FAILED, f'{phase}: motion goal rejected')
        result_future = handle.get_result_async()
        deadline = time.monotonic() + self.motion_timeout_s
        while not result_future.done():
            if goal_handle.is_cancel_requested:
                self._wait(handle.cancel_goal_async(), 10.0, 'cancel')
                self._wait(result_future, self.motion_timeout_s, 'lift after cancel')
                raise DipError(DipInk.Result.CANCELED, f'canceled during {phase}')
            if time.monotonic() > deadline:
                handle.cancel_goal_async()
                raise DipError(DipInk.Result.EXECUTION_FAILED, f'{phase}: timed out')
            time.sleep(0.01)
        result = result_future.result().result
        if not result.success:
            code = (
                DipInk.Result.INK_WELL_UNREACHABLE
                if result.error_code == ExecuteBrushPath.Result.UNREACHABLE
                else DipInk.Result.EXECUTION_FAILED
            )
            raise DipError(code, f'{phase}: {result.error_msg}')

    @staticmethod
    def _wait(future, timeout_s: float, what: str):
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout_s):
            raise DipError(DipInk.Result.EXECUTION_FAILED, f'{what}: no answer')
        return future.result()


def main(args=None) -> None:
    rclpy.init(args=args)
    node = InkDippingNode()
    executor = MultiThreadedExecutor()
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
