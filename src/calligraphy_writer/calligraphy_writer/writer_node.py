"""The writer node: serves /write_character and /write_text by sequencing the cell's services."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import rclpy
from rclpy.action import ActionClient, ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from calligraphy_interfaces.action import DipInk, ExecuteBrushPath, WriteCharacter, WriteText
from calligraphy_interfaces.msg import BrushPath
from calligraphy_interfaces.srv import ComputeBrushPath, ObservePaper, PlanStrokes
from calligraphy_writer import sequencer as seq
from calligraphy_writer.brush_feedback import StrokeFeedback
from calligraphy_writer.cells import Box, SheetCells, box_size, clipped
from calligraphy_writer.config import CONTROLLERS, WriterConfig
from calligraphy_writer.conversions import planned_character, scores_from_msg, scores_to_msg
from calligraphy_writer.sequencer import (
    CharacterOutcome,
    CharacterSequencer,
    Observation,
    PlannedCharacter,
    Progress,
    WriteError,
)
from camera_feedback.conversions import brush_state_to_msg, stroke_measurement_from_msg
from ink_dipping.budget import InkBudget
from ink_dipping.config import InkBudgetConfig

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


def _wait(future, timeout_s: float, what: str, server_alive=None):
    """Block a goal thread on a future that the executor completes, with a timeout; when
    `server_alive()` turns false (the server left the graph) fail at once instead."""
    done = threading.Event()
    future.add_done_callback(lambda _: done.set())
    deadline = time.monotonic() + timeout_s
    while not done.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            raise WriteError(
                seq.SERVICE_UNAVAILABLE, f'{what}: no answer within {timeout_s:.0f} s'
            )
        if server_alive is not None and not server_alive():
            raise WriteError(seq.SERVICE_UNAVAILABLE, f'{what} went away')
    return future.result()


class RosCell:
    """The CellPort of the sequencer, made of the cell's services and actions."""

    def __init__(self, node: WriterNode) -> None:
        self.node = node
        self.cancel_requested = lambda: False
        self._motion_goal = None
        # The arm has moved for this goal: a failure or cancel must leave it at the safe height.
        self.moved = False
        # The controller's depth-clipping warnings of this goal, per character.
        self.depth_clipped: dict[str, list[str]] = {}

    def start_goal(self, cancel_requested) -> None:
        self.cancel_requested = cancel_requested
        self.moved = False
        self.depth_clipped = {}

    def _service(self, client, request, what: str, discovery_s: float | None = None):
        timeout = self.node.config.service_timeout_s
        if not client.wait_for_service(timeout_sec=discovery_s or timeout):
            raise WriteError(seq.SERVICE_UNAVAILABLE, f'{what} is not available')
        return _wait(client.call_async(request), timeout, what, client.service_is_ready)

    def compute_path(self, plan, stroke_index, brush_state, controller):
        request = ComputeBrushPath.Request(
            plan=plan, stroke_indices=[stroke_index], controller=controller
        )
        state = self.node.feedback.state_for_stroke(
            stroke_index, brush_state, self.node.budget.load
        )
        request.brush_state = brush_state_to_msg(state)
        response = self._service(self.node.path_client, request, '/compute_brush_path')
        if response.error_code != ComputeBrushPath.Response.SUCCESS or not response.paths:
            raise WriteError(seq.CONTROLLER_FAILED, response.error_msg or 'no path returned')
        for warning in response.warnings:
            self.node.get_logger().warning(f'controller: {warning}')
            if 'clipped' in warning:
                # The stroke is wider than the brush writes at the depth limit: the caller should
                # know the character came out thinner than the font's, not only the log.
                self.depth_clipped.setdefault(plan.character, []).append(warning)
        path = response.paths[0]
        stroke = plan.strokes[stroke_index]
        self.node.feedback.commanded(
            stroke_index,
            np.array([[p.x, p.y] for p in stroke.centreline], dtype=float).reshape(-1, 2),
            np.column_stack([path.x_m, path.y_m]),
            np.asarray(path.pressing_depth_m, dtype=float),
        )
        return path

    def _check_cancel(self, what: str) -> None:
        if self.cancel_requested():
            raise WriteError(seq.CANCELED, f'canceled while waiting for {what}')

    def _send_goal(self, client, goal, what: str):
        """The accepted goal handle. The motion executor refuses goals only while it executes
        another one (another client's, such as a dip asked for between our strokes): wait for
        it to finish, up to motion_timeout_s, then fail with ARM_BUSY."""
        config = self.node.config
        if not client.wait_for_server(timeout_sec=config.service_timeout_s):
            raise WriteError(seq.SERVICE_UNAVAILABLE, f'{what} is not available')
        deadline = time.monotonic() + config.motion_timeout_s
        while True:
            handle = _wait(client.send_goal_async(goal), config.service_timeout_s, what)
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

    def _run_action(self, client, goal, timeout_s: float, what: str):
        handle = self._send_goal(client, goal, what)
        self.moved = True
        self._motion_goal = handle
        try:
            result_future = handle.get_result_async()
            deadline = time.monotonic() + timeout_s
            while not result_future.done():
                if self.cancel_requested():
                    _wait(handle.cancel_goal_async(), self.node.config.service_timeout_s, what)
                    _wait(result_future, timeout_s, what)
                    raise WriteError(seq.CANCELED, f'canceled during {what}')
                if time.monotonic() > deadline:
                    handle.cancel_goal_async()
                    raise WriteError(seq.EXECUTION_FAILED, f'{what}: no result in {timeout_s} s')
                time.sleep(0.01)
            return result_future.result().result
        finally:
            self._motion_goal = None

    def dip(self) -> float:
        deadline = time.monotonic() + self.node.config.motion_timeout_s
        while True:
            result = self._run_action(
                self.node.dip_client,
                DipInk.Goal(mode='full', wipe_count=-1),
                self.node.config.motion_timeout_s,
                '/dip_ink',
            )
            # Our strokes are not being written now: BUSY_WRITING means another client's dip.
            if result.error_code != DipInk.Result.BUSY_WRITING:
                break
            if time.monotonic() >= deadline:
                raise WriteError(
                    seq.ARM_BUSY,
                    f"the arm is busy with another client's goal: /dip_ink refused ours for "
                    f'{self.node.config.motion_timeout_s:.0f} s ({result.error_msg})',
                )
            self._check_cancel('/dip_ink')
            time.sleep(ARM_BUSY_RETRY_S)
        if not result.success:
            raise WriteError(seq.DIP_FAILED, result.error_msg)
        return result.ink_load

    def execute(self, path, hop_after: bool) -> None:
        self.node.path_pub.publish(path)
        hop = self.node.config.hop_height_m
        goal = ExecuteBrushPath.Goal(
            path=path,
            time_scale=1.0,
            # The executor travels no lower than where the brush starts (up to its safe height):
            # after a dip, a goal or at the start this is the safe height.
            approach_height_m=hop,
            retreat_height_m=hop if hop_after else 0.0,
        )
        result = self._run_action(
            self.node.motion_client,
            goal,
            self.node.config.motion_timeout_s,
            '/execute_brush_path',
        )
        if not result.success:
            raise WriteError(
                seq.EXECUTION_FAILED, f'{result.error_msg} (code {result.error_code})'
            )

    def observe(self, plan, strokes_written: int, save: bool) -> Observation:
        request = ObservePaper.Request(
            box_x_m=plan.box_x_m,
            box_y_m=plan.box_y_m,
            box_size_m=plan.box_size_m,
            target=plan,
            strokes_written=strokes_written,
            include_images=save,
        )
        try:
            response = self._service(
                self.node.observe_client, request, '/observe_paper', OPTIONAL_SERVICE_WAIT_S
            )
        except WriteError as error:
            raise WriteError(seq.OBSERVATION_FAILED, error.message) from error
        if response.error_code != ObservePaper.Response.SUCCESS:
            raise WriteError(seq.OBSERVATION_FAILED, response.error_msg)
        observation = response.observation
        darkness = observation.strokes[-1].darkness if observation.strokes else None
        image_path = self.node.save_observation(plan, observation) if save else ''
        measured = [stroke_measurement_from_msg(s) for s in observation.strokes]
        state = self.node.feedback.observed(measured)
        if measured:
            last = measured[-1]
            self.node.get_logger().info(
                f'{plan.character} stroke {last.stroke_index}: width '
                f'{1e3 * last.measured_width_mean_m:.2f} mm for '
                f'{1e3 * last.planned_width_mean_m:.2f} planned, IoU {observation.score.iou:.3f}, '
                f'width gain {self.node.feedback.estimate.width_gain:.3f}'
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
            _wait(handle.cancel_goal_async(), self.node.config.service_timeout_s, 'lift')
        if not self.moved:
            return
        client = self.node.lift_client
        if not client.wait_for_service(timeout_sec=OPTIONAL_SERVICE_WAIT_S):
            self.node.get_logger().warning(
                '/lift_brush is not available: the brush may stay above the sheet below the '
                'safe height'
            )
            return
        response = _wait(
            client.call_async(Trigger.Request()),
            self.node.config.motion_timeout_s,
            '/lift_brush',
            client.service_is_ready,
        )
        if not response.success:
            raise WriteError(seq.EXECUTION_FAILED, f'/lift_brush: {response.message}')

    def set_writing(self, writing: bool) -> None:
        self.node.writing_pub.publish(Bool(data=writing))


class WriterNode(Node):
    """Writes characters and texts on the sheet.

    Actions served: /write_character (WriteCharacter), /write_text (WriteText). One goal at a
    time: a goal that arrives while another is being written is accepted and then aborted at once
    with error_code BUSY (so the caller gets a code and a message, which a plain rejection cannot
    carry).
    Services used: /plan_strokes, /compute_brush_path, /observe_paper (optional: the first
    observation that fails marks the camera lost for the rest of the goal, which is written open
    loop and says so in the result's warnings), /lift_brush (std_srvs/Trigger, the motion
    executor's: after a cancel or failure the brush goes to the safe height). Actions used:
    /execute_brush_path (a goal the executor refuses because another client's goal holds the arm
    is sent again until motion_timeout_s, then ARM_BUSY), /dip_ink.
    Services served: /writer/new_sheet (std_srvs/Trigger: all cells free; the used cells are
    kept in sheet_state_file across restarts until then). Texts and next-free-cell characters go
    into the free cells of the layout only, never over a used cell.
    Publishes: /writer/writing (std_msgs/Bool, transient local): true while a stroke is being
    written (the dip server refuses goals then); /writer/brush_path (BrushPath): each path as it
    is sent for execution (for recording).
    Parameters: font, size_m, min_size_m, max_size_m, controller, use_feedback, layout,
    sheet_width_m, sheet_height_m, margin_m, spacing_m, service_timeout_s, motion_timeout_s,
    hop_height_m, save_dir, sheet_state_file, ink.capacity_m2, ink.floor_load,
    ink.wipe_target_load, ink.policy, ink.every_n_strokes, ink.fading_darkness.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('writer_node', **kwargs)
        defaults, ink_defaults = WriterConfig(), InkBudgetConfig()
        for name, value in vars(defaults).items():
            self.declare_parameter(name, value)
        for name, value in vars(ink_defaults).items():
            self.declare_parameter(f'ink.{name}', value)
        self.config = WriterConfig(
            **{name: self.get_parameter(name).value for name in vars(defaults)}
        )
        self.budget = InkBudget(
            InkBudgetConfig(
                **{name: self.get_parameter(f'ink.{name}').value for name in vars(ink_defaults)}
            )
        )
        self.cells = SheetCells(self.config, self.config.sheet_state_file, self.get_logger().error)
        self._busy = threading.Lock()
        self._cell = RosCell(self)
        self.feedback = StrokeFeedback()
        self._sequencer = CharacterSequencer(self._cell, self.budget)

        group = ReentrantCallbackGroup()
        self.plan_client = self.create_client(PlanStrokes, 'plan_strokes', callback_group=group)
        self.path_client = self.create_client(
            ComputeBrushPath, 'compute_brush_path', callback_group=group
        )
        self.observe_client = self.create_client(
            ObservePaper, 'observe_paper', callback_group=group
        )
        self.motion_client = ActionClient(
            self, ExecuteBrushPath, 'execute_brush_path', callback_group=group
        )
        self.dip_client = ActionClient(self, DipInk, 'dip_ink', callback_group=group)
        self.lift_client = self.create_client(Trigger, 'lift_brush', callback_group=group)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.writing_pub = self.create_publisher(Bool, 'writer/writing', latched)
        self.writing_pub.publish(Bool(data=False))
        self.path_pub = self.create_publisher(BrushPath, 'writer/brush_path', 10)
        self.create_service(Trigger, 'writer/new_sheet', self._new_sheet, callback_group=group)
        self._character_server = ActionServer(
            self,
            WriteCharacter,
            'write_character',
            self._execute_character,
            callback_group=group,
            cancel_callback=lambda _: CancelResponse.ACCEPT,
        )
        self._text_server = ActionServer(
            self,
            WriteText,
            'write_text',
            self._execute_text,
            callback_group=group,
            cancel_callback=lambda _: CancelResponse.ACCEPT,
        )

    def destroy_node(self) -> None:
        # rclpy's destroy_node leaves action servers and clients (waitables) in the DDS graph:
        # a writer destroyed and made again in one process would still be found by clients.
        # (A node whose start failed has not made them.)
        for name in ('_character_server', '_text_server', 'motion_client', 'dip_client'):
            if hasattr(self, name):
                getattr(self, name).destroy()
        super().destroy_node()

    # ---- helpers used by RosCell -------------------------------------------------------------

    def save_observation(self, plan, observation) -> str:
        if not self.config.save_dir or not observation.rectified.data:
            return ''
        image = observation.rectified
        channels = 3 if image.encoding == 'rgb8' else 1
        pixels = np.frombuffer(bytes(image.data), np.uint8).reshape(
            image.height, image.width, channels
        )
        if channels == 3:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
        folder = Path(self.config.save_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f'{time.strftime("%Y%m%d-%H%M%S")}-U+{ord(plan.character):04X}.png'
        cv2.imwrite(str(path), pixels)
        return str(path.resolve())

    # ---- goals -------------------------------------------------------------------------------

    def _new_sheet(self, request, response):
        self.cells.clear()
        response.success, response.message = True, 'all cells free'
        return response

    def _start_goal(self, goal_handle) -> None:
        self._cell.start_goal(lambda: goal_handle.is_cancel_requested)
        self._sequencer.start_goal()

    def _plan(self, text: str, font: str, size_m: float, layout: str, box: Box | None):
        request = PlanStrokes.Request(
            text=text, font=font, char_size_m=size_m, layout=layout, use_box=box is not None
        )
        if box is not None:
            request.box_x_m, request.box_y_m = box.x_m, box.y_m
        response = self._cell._service(self.plan_client, request, '/plan_strokes')
        if response.error_code != PlanStrokes.Response.SUCCESS:
            code = _PLAN_ERRORS.get(response.error_code, seq.PLANNING_FAILED)
            raise WriteError(code, response.error_msg)
        return [planned_character(plan) for plan in response.plans]

    def _controller(self, name: str) -> str:
        controller = name or self.config.controller
        if controller not in CONTROLLERS:
            raise WriteError(
                seq.CONTROLLER_FAILED,
                f'controller {clipped(controller)} is not one of {", ".join(CONTROLLERS)}',
            )
        return controller

    def _execute_character(self, goal_handle):
        goal = goal_handle.request
        result = WriteCharacter.Result(score=scores_to_msg({}))
        if not self._busy.acquire(blocking=False):
            return self._abort(goal_handle, result, seq.BUSY, 'the writer is busy with a goal')
        try:
            outcome = self._write_character(goal, goal_handle)
        finally:
            self._busy.release()
        result.success = outcome.success
        result.error_code, result.error_msg = outcome.error_code, outcome.error_msg
        result.strokes_written, result.stroke_count = outcome.strokes_written, outcome.stroke_count
        result.dips, result.image_path = outcome.dips, outcome.image_path
        result.score = scores_to_msg(outcome.scores)
        result.duration_s = outcome.duration_s
        result.warnings = list(outcome.warnings)
        return self._finish(goal_handle, result, outcome)

    def _write_character(self, goal, goal_handle) -> CharacterOutcome:
        character = goal.character
        self._start_goal(goal_handle)
        try:
            if len(character) != 1:
                raise WriteError(
                    seq.EMPTY_CHARACTER if not character else seq.PLANNING_FAILED,
                    f'expected exactly one character, got {clipped(character)}',
                )
            size = box_size(self.config, goal.size_m)
            controller = self._controller(goal.controller)
            if goal.next_free_cell:
                box = self.cells.next_free(size)
                if box is None:
                    raise WriteError(
                        seq.BOX_OUTSIDE_SHEET,
                        f'no free cell of {size * 1000:g} mm left on the sheet '
                        '(/writer/new_sheet frees all cells)',
                    )
            else:
                box = Box(goal.box_x_m, goal.box_y_m, size)
                if not self.cells.on_sheet(box):
                    raise WriteError(
                        seq.BOX_OUTSIDE_SHEET,
                        f'box at ({box.x_m:.3f}, {box.y_m:.3f}) m of side {size:.3f} m is not '
                        'on the sheet',
                    )
            self._feedback_character(goal_handle, Progress('planning', 0, 0, math.nan, 1.0))
            planned = self._plan(character, goal.font or self.config.font, size, '', box)
        except WriteError as error:
            return CharacterOutcome(character, error_code=error.code, error_msg=error.message)
        if not planned:
            return CharacterOutcome(
                character, error_code=seq.PLANNING_FAILED, error_msg='nothing to write'
            )
        self.cells.mark_used(box)
        return self._run(
            planned[0],
            controller,
            goal.use_feedback,
            goal_handle,
            lambda progress: self._feedback_character(goal_handle, progress),
        )

    def _run(
        self,
        planned: PlannedCharacter,
        controller: str,
        use_feedback: bool,
        goal_handle,
        on_progress,
        more_follow: bool = False,
    ) -> CharacterOutcome:
        outcome = self._sequencer.write(
            planned,
            controller,
            use_feedback,
            on_progress,
            cancel_requested=lambda: goal_handle.is_cancel_requested,
            save_image=bool(self.config.save_dir),
            more_follow=more_follow,
        )
        thinned = self._cell.depth_clipped.get(planned.character)
        if thinned:
            outcome.warnings.append(
                f'{planned.character}: {len(thinned)} stroke(s) wider than the brush writes at '
                f'the pressing depth limit were written thinner ({thinned[0]})'
            )
        for warning in outcome.warnings:
            self.get_logger().warning(warning)
        return outcome

    def _feedback_character(self, goal_handle, progress: Progress) -> None:
        goal_handle.publish_feedback(
            WriteCharacter.Feedback(
                phase=progress.phase,
                stroke_index=progress.stroke_index,
                stroke_count=progress.stroke_count,
                running_iou=progress.running_iou,
                ink_load=progress.ink_load,
            )
        )

    def _execute_text(self, goal_handle):
        goal = goal_handle.request
        result = WriteText.Result()
        if not self._busy.acquire(blocking=False):
            return self._abort(goal_handle, result, seq.BUSY, 'the writer is busy with a goal')
        started = time.monotonic()
        try:
            outcome = self._write_text(goal, goal_handle, result)
        finally:
            self._busy.release()
        result.duration_s = time.monotonic() - started
        return self._finish(goal_handle, result, outcome)

    def _plan_text(self, goal) -> list[PlannedCharacter]:
        """Each character of the text planned in its free cell of the layout asked for (or the
        configured one), before anything is written."""
        if not goal.text.strip():
            raise WriteError(seq.EMPTY_CHARACTER, 'the text is empty')
        size = box_size(self.config, goal.size_m)
        self._controller(goal.controller)
        placed = self.cells.place_text(goal.text, size, goal.layout or self.config.layout)
        font = goal.font or self.config.font
        planned = []
        for character, box in placed:
            plans = self._plan(character, font, size, '', box)
            if not plans:
                raise WriteError(seq.PLANNING_FAILED, f'nothing to write for {character!r}')
            planned.append(plans[0])
        return planned

    def _write_text(self, goal, goal_handle, result) -> CharacterOutcome:
        self._start_goal(goal_handle)
        try:
            planned = self._plan_text(goal)
            controller = self._controller(goal.controller)
        except WriteError as error:
            result.error_code, result.error_msg = error.code, error.message
            return CharacterOutcome(goal.text, error_code=error.code, error_msg=error.message)
        result.character_count = len(planned)
        outcome = CharacterOutcome(goal.text)
        for index, character in enumerate(planned):

            def on_progress(progress: Progress, index=index) -> None:
                goal_handle.publish_feedback(
                    WriteText.Feedback(
                        phase=progress.phase,
                        character_index=index,
                        character_count=len(planned),
                        stroke_index=progress.stroke_index,
                        stroke_count=progress.stroke_count,
                        running_iou=progress.running_iou,
                        ink_load=progress.ink_load,
                    )
                )

            plan = character.plan
            self.cells.mark_used(Box(plan.box_x_m, plan.box_y_m, plan.box_size_m))
            outcome = self._run(
                character,
                controller,
                goal.use_feedback,
                goal_handle,
                on_progress,
                more_follow=index < len(planned) - 1,
            )
            result.dips += outcome.dips
            result.warnings.extend(outcome.warnings)
            if not outcome.success:
                break
            result.characters.append(character.character)
            result.scores.append(scores_to_msg(outcome.scores))
            result.stroke_counts.append(outcome.strokes_written)
            result.character_dips.append(outcome.dips)
            result.image_path = outcome.image_path or result.image_path
        result.characters_written = len(result.characters)
        result.success = outcome.success
        result.error_code, result.error_msg = outcome.error_code, outcome.error_msg
        return outcome

    def _abort(self, goal_handle, result, code: int, message: str):
        result.success, result.error_code, result.error_msg = False, code, message
        self.get_logger().warning(message)
        goal_handle.abort()
        return result

    def _finish(self, goal_handle, result, outcome: CharacterOutcome):
        if outcome.error_code == seq.CANCELED and goal_handle.is_cancel_requested:
            goal_handle.canceled()
        elif outcome.success:
            goal_handle.succeed()
        else:
            self.get_logger().error(f'{clipped(outcome.character)}: {outcome.error_msg}')
            goal_handle.abort()
        return result


def main(args=None) -> None:
    rclpy.init(args=args)
    node = WriterNode()
    executor = MultiThreadedExecutor()
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
