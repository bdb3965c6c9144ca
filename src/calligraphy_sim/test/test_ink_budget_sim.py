"""A long text written stroke by stroke on the simulated brush, dipping as the budget decides.

The budget is consulted only between strokes (as the writer does), sees each stroke's planned
area, and is corrected by the virtual paper's load where the loop is closed; the brush spends ink
as the brush simulator says. What a calligrapher checks: the brush never runs below the floor in
the middle of a stroke, and it is not dipped much more often than the ink spent requires.
"""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_model.ink_budget import InkBudget, InkBudgetConfig, stroke_area_m2
from calligraphy_sim.brush import BrushParams, VirtualPaper
from stroke_planner import plan_text

# The opening of the Lantingji Xu on two A4 sheets, 3 cm characters: about 360 strokes.
SHEETS = (
    '永和九年歲在癸丑暮春之初會于會稽山陰之蘭亭脩禊',
    '事也羣賢畢至少長咸集此地有崇山峻領茂林脩竹又有',
)
SPEED_M_S = 0.03
LIFT_M = 0.003


@pytest.fixture(scope='module')
def strokes():
    return [
        stroke
        for sheet in SHEETS
        for plan in plan_text(sheet, size_m=0.03)
        for stroke in plan.strokes
    ]


def _brush_path(stroke, brush: BrushParams, t0: float) -> tuple[np.ndarray, ...]:
    """The planned centreline at the depth that gives the planned width, touch-down to lift."""
    xy = np.asarray(stroke.centreline, dtype=float)
    depth = brush.depth_for_width(np.asarray(stroke.width_m, dtype=float))
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])
    t = t0 + 0.1 + arc / SPEED_M_S
    return (
        np.concatenate([[xy[0, 0]], xy[:, 0], [xy[-1, 0]]]),
        np.concatenate([[xy[0, 1]], xy[:, 1], [xy[-1, 1]]]),
        np.concatenate([[-LIFT_M], depth, [-LIFT_M]]),
        np.concatenate([[t0], t, [t[-1] + 0.1]]),
    )


@pytest.mark.parametrize('closed_loop', [True, False], ids=['paper-feedback', 'open-loop'])
def test_a_long_text_never_runs_the_brush_below_the_floor_mid_stroke(strokes, closed_loop):
    config = InkBudgetConfig()
    budget = InkBudget(config, load=1.0)
    brush = BrushParams()
    paper = VirtualPaper(brush, ink_load=1.0)
    lowest, spent, dips_before, t = 1.0, 0.0, [], 0.0
    for index, stroke in enumerate(strokes):
        area = stroke_area_m2(stroke.centreline, stroke.width_m)
        if budget.dip_decision(area).dip:
            dips_before.append(index)
            paper.reload(config.wipe_target_load)
            budget.reloaded(config.wipe_target_load)
        before = paper.ink_load
        path = _brush_path(stroke, brush, t)
        paper.add_path(*path)
        t = float(path[3][-1]) + 1.0
        # A stroke only spends ink, so its lowest load is the one it ends with.
        assert paper.ink_load <= before
        lowest = min(lowest, paper.ink_load)
        spent += before - paper.ink_load
        budget.consume(area)
        if closed_loop:
            budget.observe(paper.ink_load)
    assert len(strokes) > 300
    assert lowest >= config.floor_load, f'load fell to {lowest:.3f} inside a stroke'
    # Each dip gives at most wipe - floor of usable load: fewer dips than this is impossible.
    needed = (spent - (1.0 - config.floor_load)) / (config.wipe_target_load - config.floor_load)
    assert needed > 4, 'the text should need several dips'
    assert needed <= len(dips_before) <= 1.5 * needed + 1, (
        f'{len(dips_before)} dips for {needed:.1f} loads of ink'
    )
    assert 0 not in dips_before, 'a full brush needs no dip before the first stroke'
