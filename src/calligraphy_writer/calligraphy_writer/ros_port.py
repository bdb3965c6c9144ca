"""The sequencer's WriterPort made of the cell's ROS services and actions: /plan_strokes,
/compute_brush_path, /observe_paper, /lift_brush, /execute_brush_path and /dip_ink."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from builtin_interfaces.msg import Time
from rclpy.action import ActionClient
from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from calligraphy_interfaces.action import DipInk, ExecuteBrushPath
from calligraphy_interfaces.msg import BrushPath
from calligraphy_interfaces.srv import ComputeBrushPath, ObservePaper, PlanStrokes
from calligraphy_ros_kit.conversions import brush_state_to_msg, stroke_measurement_from_msg
from calligraphy_ros_kit.futures import FutureTimeoutError, ServerGoneError, wait_for_future
from calligraphy_ros_kit.goals import GoalStatusWatch, send_goal
from calligraphy_writer import sequencer as seq
from calligraphy_writer.brush_feedback import StrokeFeedback
from calligraphy_writer.chain_progress import ChainProgress
from calligraphy_writer.config import WriterConfig
from calligraphy_writer.conversions import planned_character, scores_from_msg
from calligraphy_writer.observation_images import save_observation
from calligraphy_writer.sequencer import Observation, PlannedCharacter, WriteError
from calligraphy_writer.sheet_grid import Box

# PlanStrokes error codes map one to one onto the writer's where the meaning is the same.
_PLAN_ERRORS = {
    PlanStrokes.Response.EMPTY_TEXT: seq.EMPTY_CHARACTER,
    PlanStrokes.Response.CHARACTER_NOT_IN_FONT: seq.CHARACTER_NOT_IN_FONT,
    PlanStrokes.Response.FONT_UNREADABLE: seq.FONT_UNREADABLE,
    PlanStrokes.Response.SIZE_OUT_OF_RANGE: seq.SIZE_OUT_OF_RANGE,
}

# How long an optional service (the camera's /observe_paper, the executor's /lift_brush) is
# looked for: it is discovered long before the first stroke when it runs, so a longer wait only
# delays a goal that goes on without it.
OPTIONAL_SERVICE_WAIT_S = 2.0
# How often a refused motion goal is sent again while another client's goal holds the arm.
ARM_BUSY_RETRY_S = 0.25


def _answer(future, timeout_s: float, what: str, server_alive=None):
    """wait_for_future with its failures as the writer's SERVICE_UNAVAILABLE."""
    try:
        return wait_for_future(future, timeout_s, server_alive)
    except FutureTimeoutError:
        message = f'{what}: no answer within {timeout_s:.0f} s'
        raise WriteError(seq.SERVICE_UNAVAILABLE, message) from None
    except ServerGoneError:
        raise WriteError(seq.SERVICE_UNAVAILABLE, f'{what} went away') from None


class RosWriterPort:
    """The WriterPort of the sequencer, made of the cell's services and actions, whose clients
    it creates on `node`. Publishes /writer/writing (std_msgs/Bool, transient local) and
    /writer/brush_path (each path as it is sent for execution)."""

    def __init__(
        self,
        node: Node,
        config: WriterConfig,
        feedback: StrokeFeedback,
        ink_load: Callable[[], float],
        group: CallbackGroup,
    ) -> None:
        self.node = node
        self.config = config
        self.feedback = feedback
        self.ink_load = ink_load
        self.cancel_requested = lambda: False
        self._motion_goal = None
        # The arm has moved for this goal: a failure or cancel must leave it at the safe height.
        self.moved = False
        # Robot time the arm was last seen arriving at a path's end (observations wait for a
        # frame from then on).
        self._arrived_at = Time()
        # The controller's depth-clipping warnings of this goal, per character.
        self.depth_clipped: dict[str, list[str]] = {}
        # The learned policy's fallbacks of this goal (strokes outside its training data).
        self.fell_back: dict[str, list[str]] = {}
        self.plan_client = node.create_client(PlanStrokes, 'plan_strokes', callback_group=group)
        self.path_client = node.create_client(
            ComputeBrushPath, 'compute_brush_path', callback_group=group
        )
        self.observe_client = node.create_client(
            ObservePaper, 'observe_paper', callback_group=group
        )
        self.motion_client = ActionClient(
            node, ExecuteBrushPath, 'execute_brush_path', callback_group=group
        )
        self.dip_client = ActionClient(node, DipInk, 'dip_ink', callback_group=group)
        # The goals each server accepted, for a goal whose answer Fast DDS drops (goals.py).
        self._watches = {
            self.motion_client: GoalStatusWatch(node, 'execute_brush_path', group),
            self.dip_client: GoalStatusWatch(node, 'dip_ink', group),
        }
        self.lift_client = node.create_client(Trigger, 'lift_brush', callback_group=group)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.writing_pub = node.create_publisher(Bool, 'writer/writing', latched)
        self.writing_pub.publish(Bool(data=False))
        self.path_pub = node.create_publisher(BrushPath, 'writer/brush_path', 10)

    def destroy(self) -> None:
        # rclpy's destroy_node leaves action clients (waitables) in the DDS graph.
        self.motion_client.destroy()
        self.dip_client.destroy()
        for watch in self._watches.values():
            watch.destroy()

    def start_goal(self, cancel_requested) -> None:
        self.cancel_requested = cancel_requested
        self.moved = False
        self.depth_clipped = {}
        self.fell_back = {}

    def _log(self):
        return self.node.get_logger()

    def _service(self, client, request, what: str, discovery_s: float | None = None):
        timeout = self.config.service_timeout_s
        if not client.wait_for_service(timeout_sec=discovery_s or timeout):
            raise WriteError(seq.SERVICE_UNAVAILABLE, f'{what} is not available')
        return _answer(client.call_async(request), timeout, what, client.service_is_ready)

    def plan(
        self, text: str, font: str, size_m: float, layout: str, box: Box | None
    ) -> list[PlannedCharacter]:
        request = PlanStrokes.Request(
            text=text, font=font, char_size_m=size_m, layout=layout, use_box=box is not None
        )
        if box is not None:
            request.box_x_m, request.box_y_m = box.x_m, box.y_m
        response = self._service(self.plan_client, request, '/plan_strokes')
        if response.error_code != PlanStrokes.Response.SUCCESS:
            code = _PLAN_ERRORS.get(response.error_code, seq.PLANNING_FAILED)
            raise WriteError(code, response.error_msg)
        return [planned_character(plan) for plan in response.plans]

    def compute_path(self, plan, stroke_index, brush_state, controller):
        request = ComputeBrushPath.Request(
            plan=plan, stroke_indices=[stroke_index], controller=controller
        )
        state = self.feedback.state_for_stroke(stroke_index, brush_state, self.ink_load())
        request.brush_state = brush_state_to_msg(state)
        response = self._service(self.path_client, request, '/compute_brush_path')
        if response.error_code != ComputeBrushPath.Response.SUCCESS or not response.paths:
            raise WriteError(seq.CONTROLLER_FAILED, response.error_msg or 'no path returned')
        for warning in response.warnings:
            self._log().warning(f'controller: {warning}')
            if 'clipped' in warning:
                # The stroke is wider than the brush writes at the depth limit: the caller should
                # know the character came out thinner than the font's, not only the log.
                self.depth_clipped.setdefault(plan.character, []).append(warning)
        if any(response.fell_back):
            # Out of the model's distribution: the analytic controller wrote this stroke. The
            # caller should see it (a brush or stroke unlike the training data), not only the log.
            reason = next((w for w in response.warnings if 'fell back' in w), 'no reason given')
            self.fell_back.setdefault(plan.character, []).append(reason)
        path = response.paths[0]
        stroke = plan.strokes[stroke_index]
        self.feedback.commanded(
            stroke_index,
            np.array([[p.x, p.y] for p in stroke.centreline], dtype=float).reshape(-1, 2),
            np.column_stack([path.x_m, path.y_m]),
            np.asarray(path.pressing_depth_m, dtype=float),
        )
        return path

    def _check_cancel(self, what: str) -> None:
        if self.cancel_requested():
            raise WriteError(seq.CANCELED, f'canceled while waiting for {what}')

    def _send_goal(self, client, goal, what: str, feedback_callback=None):
        """The accepted goal handle. The motion executor refuses goals only while it executes
        another one (another client's, such as a dip asked for between our strokes): wait for
        it to finish, up to motion_timeout_s, then fail with ARM_BUSY."""
        config = self.config
        if not client.wait_for_server(timeout_sec=config.service_timeout_s):
            raise WriteError(seq.SERVICE_UNAVAILABLE, f'{what} is not available')
        deadline = time.monotonic() + config.motion_timeout_s
        while True:
            try:
                handle = send_goal(
                    client, goal, config.service_timeout_s, self._watches[client],
                    feedback_callback=feedback_callback,
                )  # fmt: skip
            except FutureTimeoutError:
                message = f'{what}: no answer within {config.service_timeout_s:.0f} s'
                raise WriteError(seq.SERVICE_UNAVAILABLE, message) from None
            if handle.accepted:
                return handle
            if time.monotonic() >= deadline:
                raise WriteError(
                    seq.ARM_BUSY,
                    f"the arm is busy with another client's goal: {what} refused ours for "
                    f'{config.motion_timeout_s:.0f} s',
                )
            self._check_cancel(what)
            time.sleep(ARM_BUSY_RETRY_S)
            self._check_cancel(what)

    def _run_action(
        self, client, goal, timeout_s: float, what: str, feedback_callback=None, on_tick=None
    ):
        handle = self._send_goal(client, goal, what, feedback_callback)
        self.moved = True
        self._motion_goal = handle
        try:
            result_future = handle.get_result_async()
            deadline = time.monotonic() + timeout_s
            while not result_future.done():
                if on_tick is not None:
                    on_tick()
                if self.cancel_requested():
                    _answer(handle.cancel_goal_async(), self.config.service_timeout_s, what)
                    _answer(result_future, timeout_s, what)
                    raise WriteError(seq.CANCELED, f'canceled during {what}')
                if time.monotonic() > deadline:
                    handle.cancel_goal_async()
                    raise WriteError(seq.EXECUTION_FAILED, f'{what}: no result in {timeout_s} s')
                time.sleep(0.01)
            return result_future.result().result
        finally:
            self._motion_goal = None

    def dip(self) -> float:
        timeout_s = self.config.motion_timeout_s
        deadline = time.monotonic() + timeout_s
        while True:
            goal = DipInk.Goal(mode='full', wipe_count=-1)
            result = self._run_action(self.dip_client, goal, timeout_s, '/dip_ink')
            # Our strokes are not being written now: BUSY_WRITING means another client's dip.
            if result.error_code != DipInk.Result.BUSY_WRITING:
                break
            if time.monotonic() >= deadline:
                raise WriteError(
                    seq.ARM_BUSY,
                    f"the arm is busy with another client's goal: /dip_ink refused ours for "
                    f'{timeout_s:.0f} s ({result.error_msg})',
                )
            self._check_cancel('/dip_ink')
            time.sleep(ARM_BUSY_RETRY_S)
        if not result.success:
            raise WriteError(seq.DIP_FAILED, result.error_msg)
        return result.ink_load

    @property
    def chains_strokes(self) -> bool:
        return self.config.chain_strokes

    def execute(self, path, hop_after: bool, then_paths=(), on_stroke=None) -> None:
        for each in (path, *then_paths):
            self.path_pub.publish(each)
        hop = self.config.hop_height_m
        goal = ExecuteBrushPath.Goal(
            path=path,
            time_scale=1.0,
            # The executor travels no lower than where the brush starts (up to its safe height):
            # after a dip, a goal or at the start this is the safe height.
            approach_height_m=hop,
            retreat_height_m=hop if hop_after else 0.0,
            then_paths=list(then_paths),
        )
        progress = ChainProgress([path, *then_paths], on_stroke)
        result = self._run_action(
            self.motion_client, goal, self.config.motion_timeout_s, '/execute_brush_path',
            feedback_callback=progress.on_feedback if then_paths else None,
            on_tick=progress.tick if then_paths else None,
        )  # fmt: skip
        if result.success:
            progress.finish()
        else:
            progress.tick()
            raise WriteError(
                seq.EXECUTION_FAILED, f'{result.error_msg} (code {result.error_code})'
            )
        self._arrived_at = result.arrived_at

    @property
    def moves_away_to_observe(self) -> bool:
        return self.config.observe_from == 'clear_view'

    def _clear_view(self, plan) -> None:
        """Move the brush out of the camera's way (observe_from: clear_view): a one-point path
        clear_view_below_box_m below the character box, towards the robot, where the arm hides
        none of the box from the cell's camera above the sheet (calligraphy_sim.occlusion_bench).
        """
        path = BrushPath(controller='clear_view', stroke_index=-1)
        path.header.frame_id = 'paper'
        path.x_m = [plan.box_x_m + plan.box_size_m / 2.0]
        path.y_m = [plan.box_y_m - self.config.clear_view_below_box_m]
        path.pressing_depth_m = [-self.config.clear_view_height_m]
        path.time_from_start_s = [0.0]
        # From the hop height where the last stroke left the brush, the executor moves it there
        # in one go, rising on the way (from higher, it travels at its height).
        goal = ExecuteBrushPath.Goal(
            path=path, time_scale=1.0, skip_retreat=True,
            approach_height_m=self.config.hop_height_m or self.config.clear_view_height_m,
        )  # fmt: skip
        result = self._run_action(
            self.motion_client, goal, self.config.motion_timeout_s, '/execute_brush_path'
        )
        if not result.success:
            raise WriteError(
                seq.EXECUTION_FAILED,
                f'moving out of the camera view: {result.error_msg} (code {result.error_code})',
            )
        self._arrived_at = result.arrived_at

    def observe(self, plan, strokes_written: int, save: bool) -> Observation:
        if self.config.observe_from == 'clear_view':
            self._clear_view(plan)
        request = ObservePaper.Request(
            box_x_m=plan.box_x_m,
            box_y_m=plan.box_y_m,
            box_size_m=plan.box_size_m,
            target=plan,
            strokes_written=strokes_written,
            include_images=save,
            # A frame from before the arm arrived would miss the stroke just written (or show the
            # arm over it): the camera's clock alone can lag the arm's.
            not_before=self._arrived_at,
        )
        try:
            response = self._service(
                self.observe_client, request, '/observe_paper', OPTIONAL_SERVICE_WAIT_S
            )
        except WriteError as error:
            raise WriteError(seq.OBSERVATION_FAILED, error.message) from error
        if response.error_code != ObservePaper.Response.SUCCESS:
            raise WriteError(seq.OBSERVATION_FAILED, response.error_msg)
        observation = response.observation
        darkness = observation.strokes[-1].darkness if observation.strokes else None
        image_path = ''
        if save:
            image_path = save_observation(
                self.config.save_dir, plan.character, observation.rectified
            )
        measured = [stroke_measurement_from_msg(s) for s in observation.strokes]
        state = self.feedback.observed(measured)
        if measured:
            last = measured[-1]
            self._log().info(
                f'{plan.character} stroke {last.stroke_index}: width '
                f'{1e3 * last.measured_width_mean_m:.2f} mm for '
                f'{1e3 * last.planned_width_mean_m:.2f} planned, IoU {observation.score.iou:.3f}, '
                f'width gain {self.feedback.estimate.width_gain:.3f}'
            )
        return Observation(
            scores_from_msg(observation.score),
            brush_state=state,
            last_stroke_darkness=darkness,
            image_path=image_path,
        )

    def lift(self) -> None:
        # The motion executor lifts the brush when its goal is canceled or aborted, but between
        # strokes the brush waits at the hop height (10 mm): ask the executor to lift it from
        # wherever it is once the arm has moved in this goal.
        handle = self._motion_goal
        if handle is not None:
            _answer(handle.cancel_goal_async(), self.config.service_timeout_s, 'lift')
        if not self.moved:
            return
        client = self.lift_client
        if not client.wait_for_service(timeout_sec=OPTIONAL_SERVICE_WAIT_S):
            self._log().warning(
                '/lift_brush is not available: the brush may stay above the sheet below the '
                'safe height'
            )
            return
        response = _answer(
            client.call_async(Trigger.Request()),
            self.config.motion_timeout_s,
            '/lift_brush',
            client.service_is_ready,
        )
        if not response.success:
            raise WriteError(seq.EXECUTION_FAILED, f'/lift_brush: {response.message}')

    def set_writing(self, writing: bool) -> None:
        self.writing_pub.publish(Bool(data=writing))
