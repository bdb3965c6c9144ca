"""The writer's sequencing and sheet cells, against an in-memory cell."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calligraphy_model.brush import BrushParams
from calligraphy_model.brush_state import BrushStateEstimate
from calligraphy_model.ink_budget import InkBudget, InkBudgetConfig
from calligraphy_model.types import StrokeMeasurement
from calligraphy_writer.brush_feedback import StrokeFeedback
from calligraphy_writer.config import WriterConfig
from calligraphy_writer.sequencer import (
    CANCELED,
    EXECUTION_FAILED,
    OBSERVATION_FAILED,
    CharacterSequencer,
    Observation,
    PlannedCharacter,
    WriteError,
)
from calligraphy_writer.sheet_grid import Box, SheetGrid


class RecordingCell:
    """Logs every call in order; the brush state counts observations."""

    moves_away_to_observe = False

    def __init__(self, fail_on_execute: int | None = None, cancel_after: int | None = None):
        self.log: list[str] = []
        self.hops: list[bool] = []
        self.writing = False
        self.fail_on_execute = fail_on_execute
        self.executed = 0
        self.cancel_after = cancel_after

    def compute_path(self, plan, stroke_index, brush_state, controller):
        self.log.append(f'path{stroke_index}:{brush_state}:{controller}')
        return stroke_index

    def dip(self):
        assert not self.writing, 'dip while a stroke is being written'
        self.log.append('dip')
        return 0.9

    def execute(self, path, hop_after):
        assert self.writing
        self.hops.append(hop_after)
        if self.fail_on_execute == path:
            raise WriteError(EXECUTION_FAILED, 'joint states went stale')
        self.executed += 1
        self.log.append(f'exec{path}')

    def observe(self, plan, strokes_written, save):
        self.log.append(f'observe{strokes_written}')
        return Observation(
            {'iou': 0.1 * strokes_written}, brush_state=f's{strokes_written}', image_path='x.png'
        )

    def lift(self):
        self.log.append('lift')

    def set_writing(self, writing):
        self.writing = writing

    def cancelled(self) -> bool:
        return self.cancel_after is not None and self.executed >= self.cancel_after


def _planned(areas):
    return PlannedCharacter('永', tuple(areas), plan='plan')


def test_feedback_observes_after_each_stroke_and_conditions_the_next_path():
    cell = RecordingCell()
    sequencer = CharacterSequencer(cell, InkBudget(InkBudgetConfig()), initial_brush_state='s0')
    progress = []
    outcome = sequencer.write(_planned([1e-4] * 3), 'learned', True, progress.append)
    assert outcome.success and outcome.strokes_written == 3
    assert cell.log == [
        'path0:s0:learned', 'exec0', 'observe1',
        'path1:s1:learned', 'exec1', 'observe2',
        'path2:s2:learned', 'exec2', 'observe3',
    ]  # fmt: skip
    assert outcome.scores['iou'] == pytest.approx(0.3)
    assert [p.running_iou for p in progress if p.phase == 'controlling'][1:] == pytest.approx(
        [0.1, 0.2]
    )


def test_feedback_per_character_observes_the_last_stroke_and_conditions_the_next_character():
    cell = RecordingCell()
    sequencer = CharacterSequencer(cell, InkBudget(InkBudgetConfig()), initial_brush_state='s0')
    sequencer.feedback_every_stroke = False
    for _ in range(2):
        assert sequencer.write(_planned([1e-4] * 2), 'learned', True).success
    assert cell.log == [
        'path0:s0:learned', 'exec0', 'path1:s0:learned', 'exec1', 'observe2',
        'path0:s2:learned', 'exec0', 'path1:s2:learned', 'exec1', 'observe2',
    ]  # fmt: skip


def test_without_feedback_the_paper_is_observed_once_for_the_score():
    cell = RecordingCell()
    outcome = CharacterSequencer(cell, InkBudget(InkBudgetConfig())).write(
        _planned([1e-4] * 4), 'analytic', False
    )
    assert [e for e in cell.log if e.startswith('observe')] == ['observe4']
    assert outcome.image_path == 'x.png'


class ChainingCell(RecordingCell):
    """A cell whose executor takes a character's strokes as one goal (writer chain_strokes);
    `fail_after` strokes of a goal are written before it fails."""

    chains_strokes = True

    def __init__(self, fail_after: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.fail_after = fail_after

    def execute(self, path, hop_after, then_paths=(), on_stroke=None):
        assert self.writing
        self.hops.append(hop_after)
        paths = [path, *then_paths]
        self.log.append('exec' + '+'.join(str(p) for p in paths))
        for written in range(1, len(paths) + 1):
            if self.fail_after is not None and written > self.fail_after:
                raise WriteError(EXECUTION_FAILED, 'tracking error')
            if on_stroke is not None:
                on_stroke(written)


def test_strokes_between_two_dips_go_to_the_arm_as_one_motion():
    cell = ChainingCell()
    budget = InkBudget(InkBudgetConfig(capacity_m2=1e-3, floor_load=0.2), load=1.0)
    sequencer = CharacterSequencer(cell, budget)
    progress = []
    outcome = sequencer.write(_planned([3e-4] * 5), 'analytic', False, progress.append)
    # The same dips before the same strokes as one by one: 1.0 → 0.7 → 0.4, dip, 0.9 → ...
    order = [e for e in cell.log if e == 'dip' or e.startswith('exec')]
    assert order == ['exec0+1', 'dip', 'exec2+3', 'dip', 'exec4']
    assert outcome.success and outcome.strokes_written == 5 and outcome.dips == 2
    assert cell.hops == [True, True, False]
    # Every stroke is reported as it is written, in order.
    executing = [p for p in progress if p.phase == 'executing']
    assert [p.stroke_index for p in executing] == [0, 1, 2, 3, 4]
    # With the ink the brush holds as each starts (booked ahead for the goal's dip decisions).
    assert [p.ink_load for p in executing] == pytest.approx([1.0, 0.7, 0.9, 0.6, 0.9])


def test_a_chained_goal_that_fails_reports_the_strokes_it_wrote():
    cell = ChainingCell(fail_after=2)
    outcome = CharacterSequencer(cell, InkBudget(InkBudgetConfig())).write(
        _planned([1e-4] * 4), 'analytic', False
    )
    assert [e for e in cell.log if e.startswith('exec')] == ['exec0+1+2+3']
    assert outcome.error_code == EXECUTION_FAILED and outcome.strokes_written == 2
    assert cell.log[-1] == 'lift' and not cell.writing


def test_feedback_after_every_stroke_keeps_one_goal_per_stroke():
    cell = ChainingCell()
    sequencer = CharacterSequencer(cell, InkBudget(InkBudgetConfig()), initial_brush_state='s0')
    assert sequencer.write(_planned([1e-4] * 3), 'learned', True).success
    assert [e for e in cell.log if e.startswith('exec')] == ['exec0', 'exec1', 'exec2']


def test_dips_happen_between_strokes_when_the_budget_requires():
    cell = RecordingCell()
    budget = InkBudget(InkBudgetConfig(capacity_m2=1e-3, floor_load=0.2), load=1.0)
    outcome = CharacterSequencer(cell, budget).write(_planned([3e-4] * 5), 'analytic', False)
    # 1.0 → 0.7 → 0.4; the third stroke would end at 0.1 < 0.2: dip first (to 0.9).
    order = [e for e in cell.log if e == 'dip' or e.startswith('exec')]
    assert order == ['exec0', 'exec1', 'dip', 'exec2', 'exec3', 'dip', 'exec4']
    assert outcome.dips == 2
    # Low hops between strokes; the brush leaves the character at the safe height unless another
    # character of the text follows.
    assert cell.hops == [True, True, True, True, False]
    cell.hops.clear()
    CharacterSequencer(cell, InkBudget(InkBudgetConfig())).write(
        _planned([1e-5] * 2), 'analytic', False, more_follow=True
    )
    assert cell.hops == [True, True]


def test_a_cell_observing_from_a_clear_view_leaves_the_last_stroke_low_unless_the_camera_is_lost():
    # The move to the clear view lifts the brush to the safe height itself; without it (the
    # camera lost earlier in the goal) the last stroke must lift the brush.
    class ClearViewCell(RecordingCell):
        moves_away_to_observe = True

    cell = ClearViewCell()
    sequencer = CharacterSequencer(cell, InkBudget(InkBudgetConfig()))
    sequencer.write(_planned([1e-5] * 3), 'analytic', True)
    assert cell.hops == [True, True, True]
    cell.hops.clear()
    sequencer.camera_lost = True
    sequencer.write(_planned([1e-5] * 3), 'analytic', True)
    assert cell.hops == [True, True, False]


def test_camera_failure_continues_open_loop_with_a_warning():
    class BlindCell(RecordingCell):
        def observe(self, plan, strokes_written, save):
            raise WriteError(OBSERVATION_FAILED, 'camera gone')

    cell = BlindCell()
    outcome = CharacterSequencer(cell, InkBudget(InkBudgetConfig())).write(
        _planned([1e-4] * 3), 'analytic', True
    )
    assert outcome.success and outcome.strokes_written == 3
    assert 'camera gone' in outcome.warnings[0]
    assert math.isnan(outcome.scores['iou'])


def test_a_lost_final_look_leaves_the_score_unknown_not_that_of_the_first_strokes():
    class FlakyCell(RecordingCell):
        def observe(self, plan, strokes_written, save):
            if strokes_written == 3:
                raise WriteError(OBSERVATION_FAILED, 'no frame in 10 s')
            return super().observe(plan, strokes_written, save)

    outcome = CharacterSequencer(FlakyCell(), InkBudget(InkBudgetConfig())).write(
        _planned([1e-4] * 3), 'analytic', True
    )
    assert outcome.success and outcome.strokes_written == 3
    assert math.isnan(outcome.scores['iou']) and outcome.image_path == ''
    assert outcome.warnings == [
        'camera lost at stroke 3 of 永 (no frame in 10 s): the rest was written open loop'
    ]


def test_execution_failure_lifts_the_brush_and_reports_strokes_written():
    cell = RecordingCell(fail_on_execute=2)
    outcome = CharacterSequencer(cell, InkBudget(InkBudgetConfig())).write(
        _planned([1e-4] * 4), 'analytic', False
    )
    assert outcome.error_code == EXECUTION_FAILED and 'stale' in outcome.error_msg
    assert outcome.strokes_written == 2
    assert cell.log[-1] == 'lift' and not cell.writing


def test_cancel_between_strokes_lifts_and_keeps_what_was_written():
    cell = RecordingCell(cancel_after=1)
    outcome = CharacterSequencer(cell, InkBudget(InkBudgetConfig())).write(
        _planned([1e-4] * 4), 'analytic', False, cancel_requested=cell.cancelled
    )
    assert outcome.error_code == CANCELED and outcome.strokes_written == 1
    assert cell.log[-1] == 'lift'


def test_next_free_cell_in_rows_goes_left_to_right_from_the_top():
    cells = SheetGrid(WriterConfig(layout='rows'))
    first = cells.next_free(0.06)
    cells.mark_used(first)
    second = cells.next_free(0.06)
    assert first.y_m + first.size_m == pytest.approx(0.210 - 0.015)
    assert second.x_m > first.x_m and second.y_m == pytest.approx(first.y_m)


def test_next_free_cell_in_columns_goes_down_from_the_top_right():
    cells = SheetGrid(WriterConfig(layout='columns'))
    first = cells.next_free(0.06)
    cells.mark_used(first)
    second = cells.next_free(0.06)
    assert first.x_m + first.size_m > 0.2
    assert second.y_m < first.y_m and second.x_m == pytest.approx(first.x_m)


def test_full_sheet_has_no_free_cell_and_boxes_off_the_sheet_are_detected():
    cells = SheetGrid(WriterConfig())
    for box in cells.cells(0.06):
        cells.mark_used(box)
    assert len(cells.used) == 8  # 4 × 2 cells of 60 mm fit inside 15 mm margins on A4 landscape
    assert cells.next_free(0.06) is None
    assert not cells.on_sheet(Box(0.25, 0.05, 0.06))


def test_invalid_config_is_rejected_with_reason():
    with pytest.raises(ValueError, match='controller'):
        WriterConfig(controller='magic')


# ---- brush-state feedback -------------------------------------------------------------------


def _measured(index: int, true_gain: float, told_gain: float, points: int = 20):
    """A stroke written by a controller that compensates for the gain it was told: it comes out
    true/told times its planned width."""
    planned = np.full(points, 0.003)
    return StrokeMeasurement(index, planned, planned * true_gain / told_gain, 1.0, 0.9)


def _write_with_feedback(feedback: StrokeFeedback, true_gain: float, strokes: int) -> list:
    told, measured = [], []
    for k in range(strokes):
        state = feedback.state_for_stroke(k, feedback.estimate if k else None, 1.0)
        told.append(state.width_gain)
        measured.append(_measured(k, true_gain, state.width_gain))
        # Every observation measures all strokes of the character written so far.
        feedback.observed(measured)
    return told


def test_feedback_converges_on_a_wide_brush_instead_of_oscillating():
    told = _write_with_feedback(StrokeFeedback(), true_gain=1.3, strokes=8)
    # A brush 30 % wider than nominal: the gain told to the controller rises monotonically
    # towards 1.3 (the old all-strokes ratio fell back to 1.15 after the second stroke).
    assert told[0] == 1.0
    assert all(b >= a - 1e-9 for a, b in zip(told, told[1:], strict=False))
    assert told[-1] == pytest.approx(1.3, rel=0.06)


def test_a_prior_from_the_identified_brush_is_what_the_first_strokes_are_written_with():
    """`prior_width_gain` (what `calligraphy learn` identified): the first stroke, before the
    camera has measured anything, and open-loop strokes are conditioned on it, and the estimate
    stays there for a brush that is what the prior says."""
    from calligraphy_model.brush_state import BrushStateEstimate, BrushStateEstimator

    prior = BrushStateEstimate(width_gain=1.4)
    told = _write_with_feedback(
        StrokeFeedback(BrushStateEstimator(prior=prior)), true_gain=1.4, strokes=4
    )
    assert told == pytest.approx([1.4] * 4, rel=0.01)
    nominal = _write_with_feedback(StrokeFeedback(), true_gain=1.4, strokes=4)
    assert nominal[0] == 1.0 and nominal[1] < 1.35  # without it the first strokes are thin
    with pytest.raises(ValueError, match='prior_width_gain'):
        WriterConfig(prior_width_gain=0.0)


def test_each_stroke_is_folded_in_once_even_when_observed_again():
    feedback = StrokeFeedback()
    feedback.state_for_stroke(0, None, 1.0)
    first = feedback.observed([_measured(0, 1.5, 1.0)])
    assert first.width_gain > 1.1
    assert feedback.observed([_measured(0, 1.5, 1.0)]) is None
    assert feedback.estimate.width_gain == first.width_gain and first.strokes_observed == 1


def test_a_stroke_not_yet_on_the_sheet_waits_for_the_next_observation():
    feedback = StrokeFeedback()
    feedback.state_for_stroke(0, None, 1.0)
    planned = np.full(20, 0.003)
    unseen = StrokeMeasurement(0, planned, np.full(20, np.nan), 0.0, 0.0)
    assert feedback.observed([unseen]) is None
    assert feedback.observed([_measured(0, 1.4, 1.0)]).width_gain > 1.1


def test_ink_load_told_to_the_controller_is_the_budgets_not_the_estimate():
    feedback = StrokeFeedback()
    state = feedback.state_for_stroke(0, BrushStateEstimate(ink_load=0.1, width_gain=1.2), 0.95)
    assert state.ink_load == 0.95 and state.width_gain == 1.2


def test_a_new_character_starts_at_stroke_zero_and_keeps_the_brush_gain():
    feedback = StrokeFeedback()
    _write_with_feedback(feedback, true_gain=1.3, strokes=4)
    gain = feedback.estimate.width_gain
    state = feedback.state_for_stroke(0, feedback.estimate, 1.0)
    assert state.width_gain == gain
    # Stroke 3 of the previous character is not stroke 3 of this one.
    assert feedback.observed([_measured(3, 1.3, 1.0)]) is None


def test_a_path_pressed_wide_on_purpose_is_compared_with_its_commanded_width():
    # The controller pressed deeper than the plan needs, on purpose, and the stroke came out as
    # wide as that depth lays: the brush is nominal, whatever the plan said.
    curve = BrushParams().seen_width_at_depth
    feedback = StrokeFeedback()
    centreline = np.column_stack([np.linspace(0.02, 0.05, 20), np.full(20, 0.05)])
    depth = np.full(20, 0.0025)
    feedback.state_for_stroke(0, None, 1.0)
    feedback.commanded(0, centreline, centreline, depth)
    laid = np.asarray(curve(depth))
    stroke = StrokeMeasurement(0, np.full(20, 0.8 * laid[0]), laid, 1.0, 0.9)
    assert feedback.observed([stroke]).width_gain == pytest.approx(1.0, abs=0.01)
    # Without the commanded path the 25 % excess over the plan is read as brush gain.
    plain = StrokeFeedback()
    plain.state_for_stroke(0, None, 1.0)
    assert plain.observed([stroke]).width_gain > 1.1


def test_chain_progress_counts_a_path_written_once_its_last_point_is_reached():
    from types import SimpleNamespace

    from calligraphy_writer.chain_progress import ChainProgress

    told = []
    paths = [SimpleNamespace(x_m=[0.0] * n) for n in (3, 2, 4)]  # points 0-2, 3-4, 5-8
    progress = ChainProgress(paths, told.append)

    def feedback(index):
        progress.on_feedback(SimpleNamespace(feedback=SimpleNamespace(point_index=index)))

    feedback(1)
    progress.tick()
    assert told == []
    feedback(4)  # the first two paths written, the hop to the third under way
    feedback(3)  # an older message arriving late changes nothing
    progress.tick()
    assert told == [1, 2]
    progress.finish()
    assert told == [1, 2, 3]
