"""The dip node: serves /dip_ink, running the scripted dip-and-wipe through the motion executor.

The node translates ROS messages and actions into calls of the dip sequencer
(ink_dipping.sequencing), which decides everything.
"""

from __future__ import annotations

import sys

import numpy as np
from rclpy.action import ActionClient, ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import Bool, Float64

from calligraphy_interfaces.action import DipInk, ExecuteBrushPath
from calligraphy_model.cell_description import (
    InkWellSettings,
    load_cell_yaml,
    resolve_ink_well,
    sheet_size_m,
)
from calligraphy_ros_kit.futures import FutureTimeoutError, wait_for_future
from calligraphy_ros_kit.parameters import declare_config
from calligraphy_ros_kit.runner import run_node
from ink_dipping.config import DIP_MODES, DipNodeConfig, DipRoutineConfig
from ink_dipping.conversions import segment_to_path
from ink_dipping.errors import DipError, DipErrorCode
from ink_dipping.reach import check_reachable
from ink_dipping.routine import DipSegment, dip_routine
from ink_dipping.sequencing import ANSWER_TIMEOUT_S, DipSequencer, MotionResult


def _wait(future, timeout_s: float, what: str):
    try:
        return wait_for_future(future, timeout_s)
    except FutureTimeoutError:
        raise DipError(DipErrorCode.EXECUTION_FAILED, f'{what}: no answer') from None


class _Motion:
    """One ExecuteBrushPath goal for the sequencer (a MotionHandle)."""

    def __init__(self) -> None:
        self.point_index = -1
        self.accepted = False

    def sent(self, handle) -> _Motion:
        self._handle = handle
        self.accepted = handle.accepted
        self._result = handle.get_result_async() if handle.accepted else None
        return self

    def on_feedback(self, message) -> None:
        self.point_index = message.feedback.point_index

    def done(self) -> bool:
        return self._result.done()

    def result(self) -> MotionResult:
        result = self._result.result().result
        return MotionResult(
            result.success,
            result.error_msg,
            unreachable=result.error_code == ExecuteBrushPath.Result.UNREACHABLE,
        )

    def wait_result(self, timeout_s: float, what: str) -> MotionResult:
        _wait(self._result, timeout_s, what)
        return self.result()

    def cancel(self, timeout_s: float | None, what: str) -> None:
        future = self._handle.cancel_goal_async()
        if timeout_s is not None:
            _wait(future, timeout_s, what)


class _Goal:
    def __init__(self, goal_handle) -> None:
        self._handle = goal_handle

    def feedback(self, phase: str, progress: float) -> None:
        self._handle.publish_feedback(DipInk.Feedback(phase=phase, progress=progress))

    def cancel_requested(self) -> bool:
        return self._handle.is_cancel_requested


class InkDippingNode(Node):
    """Reloads the brush at the ink well.

    Action served: /dip_ink (DipInk) — phases approach, descend, dwell, rise, wipe, retreat,
    executed as one brush path through /execute_brush_path, with feedback naming each phase as
    the executor reaches it. Refused
    with BUSY_WRITING while /writer/writing is true (or another dip runs), INVALID_MODE for a mode
    other than full / quick. Canceling cancels the running motion (the executor lifts the brush
    to its safe height) and, once the brush was at the well, raises it to `dip.safe_height_m`
    above where it was, clear of the rim.
    Subscribes: /writer/writing (std_msgs/Bool, transient local), the brush ink-load topic named
    by `ink_load_topic` (std_msgs/Float64; the virtual paper's in simulation): the result reports
    the last reading during the dip, or the configured wipe target where nothing measures it.
    Parameters (read once at start; runtime changes are refused): DipNodeConfig's (cell_yaml,
        urdf_path, wipe_target_load, ink_load_topic, motion_timeout_s, max_wipe_count),
        `ink_well.*` (InkWellSettings: ink_depth_m, and x_m, y_m, radius_m, rim_height_m,
        ink_surface_height_m in paper, NaN = from cell_yaml), `dip.*` (DipRoutineConfig).
    At start the well must be known and the arm must reach every waypoint of both modes' routine
    from the home pose (ink_dipping.reach); else the node refuses to start with the reason
    (`ink_dipping_node` exits with status 2).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('ink_dipping_node', **kwargs)
        config = declare_config(self, DipNodeConfig)
        well_settings = declare_config(self, InkWellSettings, 'ink_well.')
        self.routine = declare_config(self, DipRoutineConfig, 'dip.')
        try:
            self.well = resolve_ink_well(
                config.cell_yaml, well_settings.ink_depth_m, well_settings.overrides()
            )
        except (FileNotFoundError, ValueError) as error:
            raise ValueError(f'ink well pose missing or invalid: {error}') from None
        for mode in DIP_MODES:
            dip_routine(self.well, self.routine, mode)  # raises ValueError on a bad combination
        cell = load_cell_yaml(config.cell_yaml or None)
        nearest = np.clip([self.well.x_m, self.well.y_m], 0.0, sheet_size_m(cell))
        if np.hypot(*(nearest - [self.well.x_m, self.well.y_m])) <= self.well.radius_m:
            raise ValueError(
                f'the ink well at ({self.well.x_m:.4f}, {self.well.y_m:.4f}) m stands on the sheet'
            )
        home = cell.get('home_positions_rad')
        if home is None or len(home) != 6:
            raise ValueError('the cell description has no home_positions_rad (6 joints)')
        duration = check_reachable(
            self.well, self.routine, np.asarray(home), config.urdf_path or None
        )
        self.sequencer = DipSequencer(
            self.well,
            self.routine,
            self,
            self.get_logger(),
            max_wipe_count=config.max_wipe_count,
            wipe_target_load=config.wipe_target_load,
            motion_timeout_s=config.motion_timeout_s,
        )
        group = ReentrantCallbackGroup()
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(
            Bool, 'writer/writing', lambda m: self.sequencer.on_writing(m.data), latched
        )
        if config.ink_load_topic:
            self.create_subscription(
                Float64, config.ink_load_topic, lambda m: self.sequencer.on_ink_load(m.data), 10
            )
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

    @property
    def _writing(self) -> bool:
        """Whether the writer says a stroke is being written (tests wait on it)."""
        return self.sequencer.writing

    def _execute(self, goal_handle):
        goal = goal_handle.request
        outcome = self.sequencer.run(goal.mode, goal.wipe_count, _Goal(goal_handle))
        result = DipInk.Result(error_code=int(outcome.code), error_msg=outcome.message)
        if outcome.success:
            result.success = True
            result.ink_load = outcome.ink_load
            goal_handle.succeed()
        elif outcome.code == DipErrorCode.CANCELED and goal_handle.is_cancel_requested:
            goal_handle.canceled()
        else:
            goal_handle.abort()
        return result

    # ---------------------------------------------------------------- the executor (MotionPort)
    def wait_for_server(self, timeout_s: float) -> bool:
        return self.motion_client.wait_for_server(timeout_sec=timeout_s)

    def send(
        self, segment: DipSegment, skip_approach: bool, skip_retreat: bool, what: str
    ) -> _Motion:
        goal = ExecuteBrushPath.Goal(
            path=segment_to_path(segment), time_scale=1.0,
            skip_approach=skip_approach, skip_retreat=skip_retreat,
        )  # fmt: skip
        motion = _Motion()
        sent = self.motion_client.send_goal_async(goal, feedback_callback=motion.on_feedback)
        return motion.sent(_wait(sent, ANSWER_TIMEOUT_S, what))


def main(args: list[str] | None = None) -> int:
    return run_node(InkDippingNode, 'ink_dipping_node', args)


if __name__ == '__main__':
    sys.exit(main())
