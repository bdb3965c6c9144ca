"""The sheet's used cells (kept across restarts), texts laid into the free cells, the checks on a
goal's size and text, and a lost camera noticed once per goal; no ROS."""

from __future__ import annotations

import json
import math

import pytest

from calligraphy_model.ink_budget import InkBudget, InkBudgetConfig
from calligraphy_writer.config import WriterConfig
from calligraphy_writer.sequencer import (
    OBSERVATION_FAILED,
    SIZE_OUT_OF_RANGE,
    TEXT_DOES_NOT_FIT,
    CharacterSequencer,
    Observation,
    PlannedCharacter,
    WriteError,
)
from calligraphy_writer.sheet_grid import Box, SheetGrid, box_size, clipped

SIZE = 0.06  # 4 x 2 cells of 60 mm on the A4 landscape sheet


def _corners(boxes) -> list[tuple[float, float]]:
    return [(round(b.x_m, 4), round(b.y_m, 4)) for b in boxes]


# ---- used cells kept in a file ----------------------------------------------------------------


def test_a_restarted_writer_knows_the_used_cells_and_goes_on_in_the_next_free_one(tmp_path):
    state = tmp_path / 'state' / 'sheet.json'
    before = SheetGrid(WriterConfig(), state)
    first = before.next_free(SIZE)
    before.mark_used(first)
    after = SheetGrid(WriterConfig(), state)
    assert _corners(after.used) == _corners([first])
    second = after.next_free(SIZE)
    assert not second.overlaps(first)
    assert second == before.cells(SIZE)[1]


def test_a_new_sheet_frees_every_cell_also_for_the_next_restart(tmp_path):
    state = tmp_path / 'sheet.json'
    cells = SheetGrid(WriterConfig(), state)
    for box in cells.cells(SIZE)[:3]:
        cells.mark_used(box)
    cells.clear()
    assert json.loads(state.read_text()) == {'used': []}
    assert SheetGrid(WriterConfig(), state).next_free(SIZE) == cells.cells(SIZE)[0]


def test_an_unreadable_state_file_is_reported_and_the_cells_start_free(tmp_path):
    state = tmp_path / 'sheet.json'
    state.write_text('{"used": [{"x_m": 0.01')
    errors: list[str] = []
    cells = SheetGrid(WriterConfig(), state, errors.append)
    assert cells.used == [] and len(errors) == 1
    assert 'new_sheet' in errors[0] and str(state) in errors[0]


def test_a_state_file_that_cannot_be_written_keeps_the_cells_in_memory(tmp_path):
    blocker = tmp_path / 'not_a_folder'
    blocker.write_text('')
    errors: list[str] = []
    cells = SheetGrid(WriterConfig(), blocker / 'sheet.json', errors.append)
    first = cells.next_free(SIZE)
    cells.mark_used(first)
    assert len(errors) == 1 and 'cannot save' in errors[0]
    assert cells.next_free(SIZE) != first


def test_without_a_state_file_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cells = SheetGrid(WriterConfig(), '')
    cells.mark_used(cells.next_free(SIZE))
    assert list(tmp_path.iterdir()) == []


# ---- texts in the free cells -----------------------------------------------------------------


def test_a_text_after_a_single_character_starts_in_the_next_free_cell_not_over_it():
    cells = SheetGrid(WriterConfig())
    ten = cells.next_free(SIZE)
    cells.mark_used(ten)
    placed = cells.place_text('二三', SIZE, 'rows')
    assert [c for c, _ in placed] == ['二', '三']
    assert _corners(b for _, b in placed) == _corners(cells.cells(SIZE, 'rows')[1:3])
    assert not any(box.overlaps(ten) for _, box in placed)


def test_a_text_skips_used_cells_anywhere_on_the_sheet_even_of_another_size():
    cells = SheetGrid(WriterConfig())
    grid = cells.cells(SIZE, 'rows')
    cells.mark_used(grid[0])
    # A 30 mm character written at an explicit box inside the third cell.
    cells.mark_used(Box(grid[2].x_m + 0.01, grid[2].y_m + 0.01, 0.03))
    placed = cells.place_text('一二三', SIZE, 'rows')
    assert _corners(b for _, b in placed) == _corners([grid[1], grid[3], grid[4]])


def test_columns_go_down_from_the_top_right_and_rows_go_right_from_the_top_left():
    cells = SheetGrid(WriterConfig(layout='rows'))
    columns = [b for _, b in cells.place_text('春眠不', SIZE, 'columns')]
    rows = [b for _, b in cells.place_text('春眠不', SIZE, 'rows')]
    # Columns: down the rightmost column (two 60 mm cells high), then the next one to the left.
    assert columns[0].x_m + SIZE == pytest.approx(0.297 - 0.015, abs=0.01)
    assert columns[1].x_m == columns[0].x_m and columns[1].y_m < columns[0].y_m
    assert columns[2].x_m < columns[0].x_m and columns[2].y_m == columns[0].y_m
    # Rows: one y, rising x, at the left margin.
    assert len({round(b.y_m, 6) for b in rows}) == 1
    assert rows[0].x_m == pytest.approx(0.015) and rows[1].x_m > rows[0].x_m


def test_a_space_leaves_a_cell_blank_and_a_line_break_starts_the_next_line():
    cells = SheetGrid(WriterConfig())
    grid = cells.lines(SIZE, 'rows')
    placed = cells.place_text('一 二\n三', SIZE, 'rows')
    assert _corners(b for _, b in placed) == _corners([grid[0][0], grid[0][2], grid[1][0]])
    # The blank cell is still free for the next write.
    assert cells.next_free(SIZE) == grid[0][0]


def test_a_text_longer_than_the_free_cells_is_refused_before_anything_is_written():
    cells = SheetGrid(WriterConfig())
    for box in cells.cells(SIZE)[:3]:
        cells.mark_used(box)
    with pytest.raises(WriteError) as refused:
        cells.place_text('永' * 6, SIZE, 'rows')
    assert refused.value.code == TEXT_DOES_NOT_FIT
    assert refused.value.message.startswith(
        '6 characters do not fit: the sheet has 5 free cells at 60 mm'
    )
    assert '5 of the characters fit' in refused.value.message
    assert len(cells.used) == 3


def test_ten_thousand_characters_are_refused_as_not_fitting_in_a_short_message():
    with pytest.raises(WriteError) as refused:
        SheetGrid(WriterConfig()).place_text('永' * 10_000, SIZE, 'rows')
    assert refused.value.code == TEXT_DOES_NOT_FIT
    assert refused.value.message.startswith(
        '10000 characters do not fit: the sheet has 8 free cells at 60 mm'
    )
    assert len(refused.value.message) < 200


def test_an_unknown_layout_is_refused_without_echoing_it_whole():
    with pytest.raises(WriteError, match='is not one of rows, columns') as refused:
        SheetGrid(WriterConfig()).place_text('永', SIZE, 'spiral' * 1000)
    assert len(refused.value.message) < 120


# ---- sizes and echoed input ------------------------------------------------------------------


@pytest.mark.parametrize('size_m', [math.nan, math.inf, -math.inf, -0.06, 0.25, 0.005])
def test_a_size_that_is_not_a_finite_size_in_range_is_refused(size_m):
    with pytest.raises(WriteError) as refused:
        box_size(WriterConfig(), size_m)
    assert refused.value.code == SIZE_OUT_OF_RANGE


def test_size_zero_is_the_configured_default_and_a_size_in_range_is_kept():
    assert box_size(WriterConfig(size_m=0.05), 0.0) == 0.05
    assert box_size(WriterConfig(), 0.08) == 0.08


def test_a_long_input_is_quoted_cut_with_its_length():
    quoted = clipped('永' * 10_000)
    assert quoted.startswith("'" + '永' * 20 + "'") and '10000 characters' in quoted
    assert len(quoted) < 50
    assert clipped('永和') == "'永和'"


# ---- a lost camera ---------------------------------------------------------------------------


class _Cell:
    """Writes instantly; the camera answers `seeing` observations, then fails."""

    moves_away_to_observe = False

    def __init__(self, seeing: int) -> None:
        self.seeing = seeing
        self.observations = 0
        self.lifts = 0

    def compute_path(self, plan, stroke_index, brush_state, controller):
        return stroke_index

    def dip(self):
        return 0.9

    def execute(self, path, hop_after):
        pass

    def observe(self, plan, strokes_written, save):
        self.observations += 1
        if self.observations > self.seeing:
            raise WriteError(OBSERVATION_FAILED, '/observe_paper: no answer within 15 s')
        return Observation({'iou': 0.5})

    def lift(self):
        self.lifts += 1

    def set_writing(self, writing):
        pass


def test_a_lost_camera_is_waited_for_once_in_a_goal_and_reported_once():
    cell = _Cell(seeing=1)
    sequencer = CharacterSequencer(cell, InkBudget(InkBudgetConfig()))
    sequencer.start_goal()
    first = sequencer.write(PlannedCharacter('永', (1e-5,) * 5, 'plan'), 'analytic', True)
    second = sequencer.write(
        PlannedCharacter('和', (1e-5,) * 8, 'plan'), 'analytic', True, more_follow=False
    )
    # One observation after stroke 1, one failed after stroke 2, none after.
    assert cell.observations == 2
    assert first.success and second.success and second.strokes_written == 8
    assert first.warnings == [
        'camera lost at stroke 2 of 永 (/observe_paper: no answer within 15 s): the rest was '
        'written open loop'
    ]
    assert second.warnings == []
    assert math.isnan(first.scores['iou']) and math.isnan(second.scores['iou'])
    # The next goal tries the camera again.
    cell.seeing = 10
    sequencer.start_goal()
    third = sequencer.write(PlannedCharacter('一', (1e-5,), 'plan'), 'analytic', True)
    assert third.scores['iou'] == 0.5 and third.warnings == []
