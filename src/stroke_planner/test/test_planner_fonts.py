"""Stroke order from the stroke-order data in fonts the data was not made from (issue 17)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stroke_planner import (
    ErrorCode,
    PlanningError,
    Source,
    StrokePlanner,
    StrokePlannerConfig,
    ceiling_iou,
    plan_character,
)
from stroke_planner.fonts import glyph_mask
from stroke_planner.order_accuracy import (
    plan_stroke_order_accuracy,
    stroke_order_accuracy,
    unit_centrelines,
)
from stroke_planner.planner import _distance
from stroke_planner.stroke_data import load_stroke_data
from stroke_planner.stroke_match import MIN_CONFIDENCE, match_strokes

# A Kaiti font the stroke-order data was not made from (Debian fonts-cwtex-kai, setup.sh).
CWKAI = '/usr/share/fonts/truetype/cwtex/cwkai.ttf'
UKAI = '/usr/share/fonts/truetype/arphic/ukai.ttc'


@pytest.fixture(scope='module', autouse=True)
def _cwtex_kai_installed():
    assert Path(CWKAI).exists(), 'fonts-cwtex-kai is missing: run scripts/setup.sh'


@pytest.mark.parametrize('character', ['十', '木', '東'])
def test_order_matched_onto_a_second_font_is_the_datas_order_through_crossings(character):
    plan = plan_character(character, font=CWKAI)
    data = load_stroke_data(character)
    assert plan.source == Source.STROKE_DATA and plan.fallback_reason == ''
    assert plan.match_confidence >= MIN_CONFIDENCE
    assert len(plan.strokes) == len(data.medians)
    assert plan_stroke_order_accuracy(plan) == 1.0
    assert ceiling_iou(plan) > 0.88
    if character == '十':
        # The horizontal first, left to right, then the vertical top to bottom, crossing it.
        horizontal, vertical = unit_centrelines(plan)
        assert np.ptp(horizontal[:, 0]) > 4 * np.ptp(horizontal[:, 1])
        assert horizontal[-1, 0] > horizontal[0, 0]
        assert np.ptp(vertical[:, 1]) > 4 * np.ptp(vertical[:, 0])
        assert vertical[0, 1] > vertical[-1, 1]
        assert vertical[:, 1].min() < horizontal[:, 1].mean() < vertical[:, 1].max()


@pytest.mark.parametrize('character', ['墨', '舞', '蝶', '東'])
def test_strokes_the_skeleton_gets_wrong_are_planned_from_the_data(character):
    # The issue: cwTeX Kai planned from its skeleton merges crossing strokes and misorders them.
    skeleton = plan_character(character, font=CWKAI, source='skeleton')
    assert plan_stroke_order_accuracy(skeleton) < 0.6
    plan = plan_character(character, font=CWKAI)
    assert len(plan.strokes) == len(load_stroke_data(character).medians)
    assert plan_stroke_order_accuracy(plan) == 1.0
    assert ceiling_iou(plan) >= ceiling_iou(skeleton) - 0.01


def test_ink_is_the_target_fonts_not_the_datas():
    # The widths and places come from the requested glyph: its own target is matched better
    # than the same character's UKai glyph is.
    plan = plan_character('墨', font=CWKAI)
    assert ceiling_iou(plan) > 0.88
    foreign = type(plan)(**{**plan.__dict__, 'font': UKAI})
    assert ceiling_iou(foreign) < ceiling_iou(plan) - 0.1


def test_the_accuracy_counts_reversed_swapped_and_missing_strokes():
    plan = plan_character('木', font=CWKAI)
    data = load_stroke_data('木')
    lines = unit_centrelines(plan)
    assert stroke_order_accuracy(lines, data, plan.data_to_box) == 1.0
    reversed_one = [lines[0][::-1], *lines[1:]]
    assert stroke_order_accuracy(reversed_one, data, plan.data_to_box) == 0.75
    swapped = [lines[1], lines[0], *lines[2:]]
    assert stroke_order_accuracy(swapped, data, plan.data_to_box) == 0.5
    assert stroke_order_accuracy(lines[:3], data, plan.data_to_box) == 0.75
    # Each stroke moved 0.15 of the box sideways of itself is no longer where the data has it.
    shifted = []
    for line in lines:
        along = (line[-1] - line[0]) / np.linalg.norm(line[-1] - line[0])
        shifted.append(line + 0.15 * np.array([-along[1], along[0]]))
    assert stroke_order_accuracy(shifted, data, plan.data_to_box) == 0.0


def test_a_font_lacking_the_character_falls_back_to_the_fallback_font_with_the_reason():
    plan = plan_character('这', font=CWKAI)  # a simplified form the traditional font lacks
    assert plan.font == 'ukai' and plan.source == Source.STROKE_DATA
    assert 'has no glyph' in plan.fallback_reason and "'ukai'" in plan.fallback_reason
    assert plan_stroke_order_accuracy(plan) == 1.0
    strict = StrokePlanner(StrokePlannerConfig(fallback_font=''))
    with pytest.raises(PlanningError) as raised:
        strict.plan_character('这', font=CWKAI)
    assert raised.value.code == ErrorCode.CHARACTER_NOT_IN_FONT


def test_a_glyph_the_data_lacks_falls_back_to_the_skeleton_with_the_reason():
    assert load_stroke_data('丮') is None
    plan = plan_character('丮', font=CWKAI)
    assert plan.source == Source.SKELETON and plan.font == CWKAI
    assert plan.fallback_reason == "no stroke-order data for '丮'"
    assert plan.match_confidence is None and plan_stroke_order_accuracy(plan) is None
    assert len(plan.strokes) >= 2


def test_a_match_that_does_not_fit_is_not_trusted():
    # The data of one character matched onto another's glyph explains little of it.
    n = 256
    match = match_strokes(
        load_stroke_data('永'),
        lambda size: glyph_mask(CWKAI, 0, '國', size),
        _distance(CWKAI, 0, '國', n),
    )
    assert match.confidence < MIN_CONFIDENCE and not match.trusted
    assert 'does not fit' in match.reason()
    own = match_strokes(
        load_stroke_data('國'),
        lambda size: glyph_mask(CWKAI, 0, '國', size),
        _distance(CWKAI, 0, '國', n),
    )
    assert own.trusted and own.confidence > 0.9


def test_the_planner_falls_back_where_the_match_is_not_trusted():
    # The data's dot of 玉 in 国 lands off UMing's ink (UMing places it elsewhere): refused.
    plan = plan_character('国', font='uming')
    assert plan.source == Source.SKELETON
    assert plan.match_confidence < MIN_CONFIDENCE
    assert 'does not fit the glyph' in plan.fallback_reason
    assert plan.data_to_box is not None  # its order is still measured against the data
    assert 0.0 <= plan_stroke_order_accuracy(plan) <= 1.0


def test_ukai_the_datas_own_font_keeps_the_datas_strokes_where_the_match_is_weak():
    # UKai's 忍 matches the data weakly (confidence 0.64), but the data was made from these very
    # glyphs, so its strokes are used and the confidence shown.
    plan = plan_character('忍')
    assert plan.match_confidence < MIN_CONFIDENCE
    assert plan.source == Source.STROKE_DATA and plan.fallback_reason == ''
    assert plan_stroke_order_accuracy(plan) == 1.0 and ceiling_iou(plan) > 0.88
    assert plan_character('忍', font=UKAI).source == Source.STROKE_DATA
