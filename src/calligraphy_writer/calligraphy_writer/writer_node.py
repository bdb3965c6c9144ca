"""The writer node: serves /write_character and /write_text by sequencing the cell's services
(through RosWriterPort); the ink budget and the brush-state estimate run in its process."""

from __future__ import annotations

import math
import sys
import threading
import time

from rclpy.action import ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from std_srvs.srv import Trigger

from calligraphy_interfaces.action import WriteCharacter, WriteText
from calligraphy_model.brush_state import BrushStateEstimate, BrushStateEstimator
from calligraphy_model.ink_budget import InkBudget, InkBudgetConfig
from calligraphy_ros_kit.parameters import declare_config
from calligraphy_ros_kit.runner import run_node
from calligraphy_writer import sequencer as seq
from calligraphy_writer.brush_feedback import StrokeFeedback
from calligraphy_writer.config import CONTROLLERS, WriterConfig
from calligraphy_writer.conversions import scores_to_msg
from calligraphy_writer.ros_port import RosWriterPort
from calligraphy_writer.sequencer import (
    CharacterOutcome,
    CharacterSequencer,
    PlannedCharacter,
    Progress,
    WriteError,
)
from calligraphy_writer.sheet_grid import Box, SheetGrid, box_size, clipped


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
    Parameters (WriterConfig's fields and InkBudgetConfig's as ink.*, read at start): font,
    size_m, min_size_m, max_size_m, controller, use_feedback, layout,
    sheet_width_m, sheet_height_m, margin_m, spacing_m, service_timeout_s, motion_timeout_s,
    hop_height_m, feedback_every_stroke, chain_strokes, observe_from, clear_view_below_box_m,
    clear_view_height_m, prior_width_gain, save_dir, sheet_state_file, ink.capacity_m2,
    ink.floor_load, ink.wipe_target_load, ink.policy, ink.every_n_strokes, ink.fading_darkness.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('writer_node', **kwargs)
        self.config = declare_config(self, WriterConfig)
        self.budget = InkBudget(declare_config(self, InkBudgetConfig, prefix='ink.'))
        self.sheet = SheetGrid(self.config, self.config.sheet_state_file, self.get_logger().error)
        self.feedback = StrokeFeedback(
            BrushStateEstimator(prior=BrushStateEstimate(width_gain=self.config.prior_width_gain))
        )
        self._busy = threading.Lock()
        group = ReentrantCallbackGroup()
        self.port = RosWriterPort(
            self, self.config, self.feedback, lambda: self.budget.load, group
        )
        self._sequencer = CharacterSequencer(self.port, self.budget)
        self._sequencer.feedback_every_stroke = self.config.feedback_every_stroke
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
        for name in ('_character_server', '_text_server', 'port'):
            if hasattr(self, name):
                getattr(self, name).destroy()
        super().destroy_node()

    # ---- goals -------------------------------------------------------------------------------

    def _new_sheet(self, request, response):
        self.sheet.clear()
        response.success, response.message = True, 'all cells free'
        return response

    def _start_goal(self, goal_handle) -> None:
        self.port.start_goal(lambda: goal_handle.is_cancel_requested)
        self._sequencer.start_goal()

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
                box = self.sheet.next_free(size)
                if box is None:
                    raise WriteError(
                        seq.BOX_OUTSIDE_SHEET,
                        f'no free cell of {size * 1000:g} mm left on the sheet '
                        '(/writer/new_sheet frees all cells)',
                    )
            else:
                box = Box(goal.box_x_m, goal.box_y_m, size)
                if not self.sheet.on_sheet(box):
                    raise WriteError(
                        seq.BOX_OUTSIDE_SHEET,
                        f'box at ({box.x_m:.3f}, {box.y_m:.3f}) m of side {size:.3f} m is not '
                        'on the sheet',
                    )
            self._feedback_character(goal_handle, Progress('planning', 0, 0, math.nan, 1.0))
            planned = self.port.plan(character, goal.font or self.config.font, size, '', box)
        except WriteError as error:
            return CharacterOutcome(character, error_code=error.code, error_msg=error.message)
        if not planned:
            return CharacterOutcome(
                character, error_code=seq.PLANNING_FAILED, error_msg='nothing to write'
            )
        self.sheet.mark_used(box)
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
        thinned = self.port.depth_clipped.get(planned.character)
        if thinned:
            outcome.warnings.append(
                f'{planned.character}: {len(thinned)} stroke(s) wider than the brush writes at '
                f'the pressing depth limit were written thinner ({thinned[0]})'
            )
        fell_back = self.port.fell_back.get(planned.character)
        if fell_back:
            outcome.warnings.append(
                f"{planned.character}: {len(fell_back)} stroke(s) outside the learned policy's "
                f'training data were written by the analytic fallback ({fell_back[0]})'
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
        placed = self.sheet.place_text(goal.text, size, goal.layout or self.config.layout)
        font = goal.font or self.config.font
        planned = []
        for character, box in placed:
            plans = self.port.plan(character, font, size, '', box)
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
            self.sheet.mark_used(Box(plan.box_x_m, plan.box_y_m, plan.box_size_m))
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


def main(args=None) -> int:
    return run_node(WriterNode, 'writer_node', args)


if __name__ == '__main__':
    sys.exit(main())
