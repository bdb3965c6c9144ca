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
from calligraphy_writer.cells import Box, SheetCells
from calligraphy_writer.config import WriterConfig
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


def _wait(future, timeout_s: float, what: str):
    """Block a goal thread on a future that the executor completes, with a timeout."""
    done = threading.Event()
    future.add_done_callback(lambda _: done.set())
    if not done.wait(timeout_s):
        raise WriteError(seq.SERVICE_UNAVAILABLE, f'{what}: no answer within {timeout_s:.0f} s')
    return future.result()


class RosCell:
    """The CellPort of the sequencer, made of the cell's services and actions."""

    def __init__(self, node: WriterNode) -> None:
        self.node = node
        self.cancel_requested = lambda: False
        self._motion_goal = None

    def _service(self, client, request, what: str):
        timeout = self.node.config.service_timeout_s
        if not client.wait_for_service(timeout_sec=timeout):
            raise WriteError(seq.SERVICE_UNAVAILABLE, f'{what} is not available')
        return _wait(client.call_async(request), timeout, what)

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
        path = response.paths[0]
        stroke = plan.strokes[stroke_index]
        self.node.feedback.commanded(
            stroke_index,
            np.array([[p.x, p.y] for p in stroke.centreline], dtype=float).reshape(-1, 2),
            np.column_stack([path.x_m, path.y_m]),
            np.asarray(path.pressing_depth_m, dtype=float),
        )
        return path

    def _run_action(self, client, goal, timeout_s: float, what: str):
        if not client.wait_for_server(timeout_sec=self.node.config.service_timeout_s):
            raise WriteError(seq.SERVICE_UNAVAILABLE, f'{what} is not available')
        handle = _wait(client.send_goal_async(goal), self.node.config.service_timeout_s, what)
        if not handle.accepted:
            raise WriteError(seq.SERVICE_UNAVAILABLE, f'{what} rejected the goal')
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
        result = self._run_action(
            self.node.dip_client,
            DipInk.Goal(mode='full', wipe_count=-1),
            self.node.config.motion_timeout_s,
            '/dip_ink',
        )
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
            response = self._service(self.node.observe_client, request, '/observe_paper')
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
        # Every brush path ends with a retreat to the safe height, and the motion executor lifts
        # the brush when a goal is canceled or aborted; only an active motion needs canceling.
        handle = self._motion_goal
        if handle is not None:
            _wait(handle.cancel_goal_async(), self.node.config.service_timeout_s, 'lift')

    def set_writing(self, writing: bool) -> None:
        self.node.writing_pub.publish(Bool(data=writing))


class WriterNode(Node):
    """Writes characters and texts on the sheet.

    Actions served: /write_character (WriteCharacter), /write_text (WriteText). One goal at a
    time: a goal that arrives while another is being written is accepted and then aborted at once
    with error_code BUSY (so the caller gets a code and a message, which a plain rejection cannot
    carry).
    Services used: /plan_strokes, /compute_brush_path, /observe_paper (optional: without it the
    writer goes on open loop with a warning). Actions used: /execute_brush_path, /dip_ink.
    Services served: /writer/new_sheet (std_srvs/Trigger: forget which cells are used).
    Publishes: /writer/writing (std_msgs/Bool, transient local): true while a stroke is being
    written (the dip server refuses goals then); /writer/brush_path (BrushPath): each path as it
    is sent for execution (for recording).
    Parameters: font, size_m, min_size_m, max_size_m, controller, use_feedback, layout,
    sheet_width_m, sheet_height_m, margin_m, spacing_m, service_timeout_s, motion_timeout_s,
    hop_height_m, save_dir, ink.capacity_m2, ink.floor_load, ink.wipe_target_load, ink.policy,
    ink.every_n_strokes, ink.fading_darkness.
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
        self.cells = SheetCells(self.config)
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

    def _size(self, size_m: float) -> float:
        size = size_m if size_m > 0.0 else self.config.size_m
        if not self.config.min_size_m <= size <= self.config.max_size_m:
            raise WriteError(
                seq.SIZE_OUT_OF_RANGE,
                f'size {size * 1000:.1f} mm is outside {self.config.min_size_m * 1000:.0f}..'
                f'{self.config.max_size_m * 1000:.0f} mm',
            )
        return size

    def _controller(self, name: str) -> str:
        return name or self.config.controller

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
        return self._finish(goal_handle, result, outcome)

    def _write_character(self, goal, goal_handle) -> CharacterOutcome:
        character = goal.character
        try:
            if len(character) != 1:
                raise WriteError(
                    seq.EMPTY_CHARACTER if not character else seq.PLANNING_FAILED,
                    f'expected exactly one character, got {character!r}',
                )
            size = self._size(goal.size_m)
            if goal.next_free_cell:
                box = self.cells.next_free(size)
                if box is None:
                    raise WriteError(seq.BOX_OUTSIDE_SHEET, 'no free cell left on the sheet')
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
            goal.controller,
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
        self._cell.cancel_requested = lambda: goal_handle.is_cancel_requested
        outcome = self._sequencer.write(
            planned,
            self._controller(controller),
            use_feedback,
            on_progress,
            cancel_requested=lambda: goal_handle.is_cancel_requested,
            save_image=bool(self.config.save_dir),
            more_follow=more_follow,
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

    def _write_text(self, goal, goal_handle, result) -> CharacterOutcome:
        try:
            if not goal.text.strip():
                raise WriteError(seq.EMPTY_CHARACTER, 'the text is empty')
            size = self._size(goal.size_m)
            planned = self._plan(goal.text, goal.font or self.config.font, size, goal.layout, None)
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
                goal.controller,
                goal.use_feedback,
                goal_handle,
                on_progress,
                more_follow=index < len(planned) - 1,
            )
            result.dips += outcome.dips
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
            self.get_logger().error(f'{outcome.character!r}: {outcome.error_msg}')
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
