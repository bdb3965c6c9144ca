"""The dip node: serves /dip_ink, running the scripted dip-and-wipe through the motion executor."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import rclpy
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.action import ActionClient, ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import Bool, Float64

from calligraphy_interfaces.action import DipInk, ExecuteBrushPath
from calligraphy_sim.ink_well import DEFAULT_INK_DEPTH_M, load_cell_yaml, resolve_ink_well
from ink_dipping.config import DIP_MODES, DipRoutineConfig, InkBudgetConfig, InkWellConfig
from ink_dipping.conversions import segment_to_path
from ink_dipping.reach import check_reachable
from ink_dipping.routine import DipSegment, dip_routine

_WELL_FIELDS = tuple(InkWellConfig.__dataclass_fields__)
# How long the result waits for the virtual paper's ink-load reading after the last motion (s).
_LOAD_READING_WAIT_S = 0.3


class DipError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class InkDippingNode(Node):
    """Reloads the brush at the ink well.

    Action served: /dip_ink (DipInk) — phases approach, descend, dwell, rise, wipe, retreat, each
    executed as a brush path through /execute_brush_path, with feedback naming the phase. Refused
    with BUSY_WRITING while /writer/writing is true (or another dip runs), INVALID_MODE for a mode
    other than full / quick. Canceling cancels the running motion (the executor lifts the brush
    to its safe height) and, once the brush was at the well, raises it to `dip.safe_height_m`
    above where it was, clear of the rim.
    Subscribes: /writer/writing (std_msgs/Bool, transient local), the brush ink-load topic named
    by `ink_load_topic` (std_msgs/Float64; the virtual paper's in simulation): the result reports
    the last reading during the dip, or the configured wipe target where nothing measures it.
    Parameters (read once at start; runtime changes are refused):
        cell_yaml (str, '' = urdf/cell.yaml of the checkout or the installed share): the cell
            description the well's pose comes from (`ink_well` in base_link, re-expressed in
            `paper`); the arm's start pose for the reachability check (home_positions_rad).
        ink_well.ink_depth_m (0.015): ink above the well's bottom, m.
        ink_well.{x_m, y_m, radius_m, rim_height_m, ink_surface_height_m} (paper frame, m; NaN =
            from cell_yaml): explicit values override the cell description.
        urdf_path (str, '' = the checkout's): the arm model for the reachability check.
        dip.{safe_height_m, dip_depth_m, dwell_s, wipe_count, wipe_direction_rad,
            travel_speed_m_s, wipe_speed_m_s}: the routine (DipRoutineConfig; SI units).
        wipe_target_load (0.9), ink_load_topic ('/virtual_paper/ink_load'), motion_timeout_s (60).
        max_wipe_count (10): a goal's wipe_count must lie in -1 (the mode's default) ..
            max_wipe_count, else INVALID_ARGUMENT.
    At start the well must be known and the arm must reach every waypoint of both modes' routine
    (planned with the motion executor's planner from the home pose); else the node refuses to
    start with the reason (ValueError; `ink_dipping_node` exits with status 2).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('ink_dipping_node', **kwargs)

        def declare(name, default, description):
            self.declare_parameter(name, default, ParameterDescriptor(description=description))
            return self.get_parameter(name).value

        cell_yaml = declare('cell_yaml', '', "cell description ('' = urdf/cell.yaml)")
        ink_depth = declare('ink_well.ink_depth_m', DEFAULT_INK_DEPTH_M, 'ink above the bottom, m')
        overrides = {
            name: declare(f'ink_well.{name}', float('nan'), f'{name} in paper (NaN = cell_yaml)')
            for name in _WELL_FIELDS
        }
        urdf_path = declare('urdf_path', '', "arm model for the reach check ('' = checkout's)")
        routine = {
            name: declare(f'dip.{name}', value, f'dip routine {name} (SI units)')
            for name, value in vars(DipRoutineConfig()).items()
        }
        self.wipe_target_load = float(
            declare('wipe_target_load', InkBudgetConfig().wipe_target_load, 'load after a wipe')
        )
        topic = declare('ink_load_topic', '/virtual_paper/ink_load', "brush load ('' = none)")
        self.motion_timeout_s = float(declare('motion_timeout_s', 60.0, 'per motion, s'))
        self.max_wipe_count = int(
            declare('max_wipe_count', 10, 'largest wipe_count a goal may ask for')
        )
        if self.max_wipe_count < 0:
            raise ValueError(f'max_wipe_count must be >= 0, got {self.max_wipe_count}')
        try:
            self.well = resolve_ink_well(cell_yaml, ink_depth, overrides)
        except (FileNotFoundError, ValueError) as error:
            raise ValueError(f'ink well pose missing or invalid: {error}') from None
        self.routine = DipRoutineConfig(**routine)
        for mode in DIP_MODES:
            dip_routine(self.well, self.routine, mode)  # raises ValueError on a bad combination
        cell = load_cell_yaml(cell_yaml or None)
        sheet = cell.get('paper', {})
        nearest = np.clip(
            [self.well.x_m, self.well.y_m], 0.0, [sheet.get('width_m'), sheet.get('height_m')]
        )
        if np.hypot(*(nearest - [self.well.x_m, self.well.y_m])) <= self.well.radius_m:
            raise ValueError(
                f'the ink well at ({self.well.x_m:.4f}, {self.well.y_m:.4f}) m stands on the sheet'
            )
        home = cell.get('home_positions_rad')
        if home is None or len(home) != 6:
            raise ValueError('the cell description has no home_positions_rad (6 joints)')
        duration = check_reachable(self.well, self.routine, np.asarray(home), urdf_path or None)
        self.add_on_set_parameters_callback(
            lambda _: SetParametersResult(successful=False, reason='read at start: restart')
        )

        self._writing = False
        self._ink_load: float | None = None
        self._busy = threading.Lock()
        self._motion_point = -1
        group = ReentrantCallbackGroup()
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(Bool, 'writer/writing', self._on_writing, latched)
        if topic:
            self.create_subscription(Float64, topic, self._on_ink_load, 10)
        self.motion_client = ActionClient(
            self, ExecuteBrushPath, 'execute_brush_path', callback_group=group
        )
        self._server = ActionServer(
            self, DipInk, 'dip_ink', self._execute, callback_group=group,
            cancel_callback=lambda _: CancelResponse.ACCEPT,
        )  # fmt: skip
        self.get_logger().info(
            f'ink well at ({self.well.x_m:.4f}, {self.well.y_m:.4f}) m in paper, rim '
            f'{self.well.rim_height_m * 1e3:.1f} mm and ink '
            f'{self.well.ink_surface_height_m * 1e3:.1f} mm above the sheet; a full dip takes '
            f'{duration:.1f} s'
        )

    def destroy_node(self) -> None:
        # rclpy's destroy_node leaves action servers and clients in the DDS graph. (A node whose
        # start failed has not made them.)
        for name in ('_server', 'motion_client'):
            if hasattr(self, name):
                getattr(self, name).destroy()
        super().destroy_node()

    def _on_writing(self, msg: Bool) -> None:
        self._writing = msg.data

    def _on_ink_load(self, msg: Float64) -> None:
        self._ink_load = msg.data

    def _execute(self, goal_handle):
        goal = goal_handle.request
        result = DipInk.Result()
        mode = goal.mode or DipInk.Goal.MODE_FULL
        try:
            if mode not in DIP_MODES:
                raise DipError(DipInk.Result.INVALID_MODE, f'mode must be one of {DIP_MODES}')
            if not -1 <= goal.wipe_count <= self.max_wipe_count:
                raise DipError(
                    DipInk.Result.INVALID_ARGUMENT,
                    f'wipe_count must lie in -1 (the mode default) .. {self.max_wipe_count}, '
                    f'got {goal.wipe_count}',
                )
            if self._writing:
                raise DipError(DipInk.Result.BUSY_WRITING, 'a stroke is being written')
            if not self._busy.acquire(blocking=False):
                raise DipError(DipInk.Result.BUSY_WRITING, 'another dip is running')
            try:
                self._ink_load = None
                self._dip(goal_handle, mode, goal.wipe_count)
                # The wipe's reading is published at once; let the last one arrive.
                time.sleep(_LOAD_READING_WAIT_S)
                measured = self._ink_load
            finally:
                self._busy.release()
        except DipError as error:
            result.error_code, result.error_msg = error.code, error.message
            self.get_logger().warning(f'dip: {error.message}')
            if error.code == DipInk.Result.CANCELED and goal_handle.is_cancel_requested:
                goal_handle.canceled()
            else:
                goal_handle.abort()
            return result
        except Exception as error:  # noqa: BLE001 - a bad goal must never take the node down
            self.get_logger().error(f'dip failed: {error!r}')
            result.error_code, result.error_msg = DipInk.Result.INTERNAL_ERROR, str(error)
            goal_handle.abort()
            return result
        result.success = True
        result.ink_load = measured if measured is not None else self.wipe_target_load
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
            try:
                self._run_motion(goal_handle, motion, segment.phase)
            except DipError as error:
                if error.code == DipInk.Result.CANCELED and index > 0:
                    self._clear_the_well(segment)
                raise
        goal_handle.publish_feedback(DipInk.Feedback(phase='retreat', progress=1.0))

    def _run_motion(self, goal_handle, motion, phase: str) -> None:
        self._motion_point = -1

        def on_feedback(message) -> None:
            self._motion_point = message.feedback.point_index

        handle = self._wait(
            self.motion_client.send_goal_async(motion, feedback_callback=on_feedback), 10.0, phase
        )
        if not handle.accepted:
            raise DipError(DipInk.Result.EXECUTION_FAILED, f'{phase}: motion goal rejected')
        result_future = handle.get_result_async()
        deadline = time.monotonic() + self.motion_timeout_s
        while not result_future.done():
            if goal_handle.is_cancel_requested:
                # The executor lifts the brush before it answers the cancel.
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

    def _clear_the_well(self, segment: DipSegment) -> None:
        """After a cancel at the well: rise to the dip's safe height above where the brush was.

        The executor's own lift goes to its safe height, which need not clear the rim.
        """
        index = int(np.clip(self._motion_point, 0, len(segment.x_m) - 1))
        path = segment_to_path(
            DipSegment(
                'retreat',
                segment.x_m[index : index + 1],
                segment.y_m[index : index + 1],
                np.array([-self.routine.safe_height_m]),
                np.array([0.0]),
            )
        )
        motion = ExecuteBrushPath.Goal(path=path, skip_approach=True, skip_retreat=True)
        try:
            handle = self._wait(self.motion_client.send_goal_async(motion), 10.0, 'clear')
            if handle.accepted:
                self._wait(handle.get_result_async(), self.motion_timeout_s, 'clear the well')
        except DipError as error:
            self.get_logger().error(f'could not raise the brush clear of the well: {error}')

    @staticmethod
    def _wait(future, timeout_s: float, what: str):
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout_s):
            raise DipError(DipInk.Result.EXECUTION_FAILED, f'{what}: no answer')
        return future.result()


def main(args=None) -> int:
    rclpy.init(args=args)
    try:
        node = InkDippingNode()
    except (ValueError, FileNotFoundError) as error:
        print(f'ink_dipping_node: error: {error}', file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    executor = MultiThreadedExecutor()
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
