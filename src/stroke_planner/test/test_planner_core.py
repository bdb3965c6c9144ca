"""Core behaviour of the stroke planner, without ROS."""

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
    ideal_reconstruction,
    plan_character,
    plan_text,
    target_mask,
)
from stroke_planner.char_sets import load_set
from stroke_planner.geometry import resample_polyline
from stroke_planner.planner import _alignment
from stroke_planner.stroke_data import apply_affine, load_stroke_data

UKAI = '/usr/share/fonts/truetype/arphic/ukai.ttc'
DEJAVU = Path('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf')


def test_yong_strokes_follow_the_stroke_order_data():
    plan = plan_character('永', box_x_m=0.1, box_y_m=0.05, size_m=0.06)
    data = load_stroke_data('永')
    assert plan.source == Source.STROKE_DATA
    assert len(plan.strokes) == len(data.medians) == 5
    affine = _alignment(UKAI, 0, '永')
    for index, stroke in enumerate(plan.strokes):
        # Each planned stroke runs along its own data median (mm), not along any other one.
        local = (stroke.centreline - [0.1, 0.05]) / 0.06
        gaps = []
        for median in data.medians:
            median = resample_polyline(apply_affine(affine, median), 0.002)
            nearest = np.linalg.norm(local[:, None] - median[None], axis=2).min(axis=1)
            gaps.append(nearest.mean() * 60.0)
        assert np.argmin(gaps) == index
        assert gaps[index] < 2.5, f'stroke {index} is {gaps[index]:.1f} mm off its median'
        # ... and in the data's writing direction.
        start, end = apply_affine(affine, data.medians[index][[0, -1]])
        assert np.linalg.norm(local[0] - start) < np.linalg.norm(local[0] - end)


def test_centrelines_are_resampled_at_uniform_arc_length():
    plan = plan_character('永', resample_step_m=0.0005)
    for stroke in plan.strokes:
        spacing = np.linalg.norm(np.diff(stroke.centreline, axis=0), axis=1)
        assert spacing.max() <= 0.0005 + 1e-9
        assert spacing.max() - spacing.min() < 1e-4  # uniform within 0.1 mm (ridge snapping)
        assert stroke.width_m.shape == (len(stroke.centreline),)
        assert 0.0 < stroke.width_m.max() < 0.015


def test_a_stroke_at_the_top_of_the_glyph_has_the_larger_paper_y():
    plan = plan_character('三', box_x_m=0.02, box_y_m=0.03, size_m=0.06)
    tops = [stroke.centreline[:, 1].mean() for stroke in plan.strokes]
    assert tops == sorted(tops, reverse=True)  # written top to bottom, first one highest
    assert all(0.03 < y < 0.09 for y in tops)
    # Raster convention: row 0 is the top of the box, so the first stroke inks the upper rows.
    first_only = ideal_reconstruction(
        type(plan)(**{**plan.__dict__, 'strokes': plan.strokes[:1]}), 0.00025
    )
    rows = np.nonzero(first_only.any(axis=1))[0]
    assert rows.mean() < first_only.shape[0] / 2
    # Horizontal strokes are written left to right.
    assert all(s.centreline[-1, 0] > s.centreline[0, 0] for s in plan.strokes)


@pytest.mark.parametrize('character', ['永', '国', '我', '火', '学'])
def test_ceiling_iou_of_stroke_data_plans_is_high(character):
    plan = plan_character(character)
    assert target_mask(plan).shape == (240, 240)
    assert ceiling_iou(plan) > 0.85


@pytest.mark.parametrize(('character', 'count'), [('十', 2), ('口', 3), ('三', 3), ('人', 2)])
def test_skeleton_route_counts_simple_cjk_glyphs(character, count):
    plan = plan_character(character, source='skeleton')
    assert plan.source == Source.SKELETON
    assert len(plan.strokes) == count
    assert ceiling_iou(plan) > 0.85


def test_skeleton_route_writes_the_horizontal_of_shi_first():
    first, second = plan_character('十', source='skeleton').strokes
    assert np.ptp(first.centreline[:, 0]) > 3 * np.ptp(first.centreline[:, 1])
    assert first.centreline[-1, 0] > first.centreline[0, 0]  # left to right
    assert second.centreline[0, 1] > second.centreline[-1, 1]  # top to bottom


@pytest.mark.parametrize(('character', 'count'), [('L', 1), ('O', 1), ('T', 2), ('X', 2)])
def test_skeleton_route_counts_latin_glyphs_of_a_sans_font(character, count):
    plan = plan_character(character, font=str(DEJAVU))
    assert plan.source == Source.SKELETON
    assert len(plan.strokes) == count


def test_ukai_latin_o_is_one_closed_stroke():
    (stroke,) = plan_character('O', font=UKAI).strokes
    assert np.linalg.norm(stroke.centreline[0] - stroke.centreline[-1]) < 0.002


def test_hershey_route_gives_nominal_width_centrelines():
    plan = plan_character('A', font='hershey', size_m=0.05)
    assert plan.source == Source.SINGLE_LINE
    assert len(plan.strokes) == 3
    for stroke in plan.strokes:
        assert np.allclose(stroke.width_m, 0.05 * StrokePlannerConfig().single_line_width_ratio)
    assert ceiling_iou(plan) == 1.0  # its target is its own strokes


def test_pen_up_travel_is_measured_from_the_previous_stroke_end():
    plan = plan_character('二', box_x_m=0.1, box_y_m=0.1)
    first, second = plan.strokes
    assert first.travel_from_previous_m == pytest.approx(
        np.linalg.norm(first.centreline[0] - [0.1, 0.1])
    )
    assert second.travel_from_previous_m == pytest.approx(
        np.linalg.norm(second.centreline[0] - first.centreline[-1])
    )


def test_rows_layout_runs_left_to_right_then_down():
    config = StrokePlannerConfig()
    plans = plan_text('一二 三\n四', size_m=0.03)
    assert [p.character for p in plans] == list('一二三四')
    x = [p.box_x_m for p in plans]
    y = [p.box_y_m for p in plans]
    assert x[0] == pytest.approx(config.margin_m)
    assert y[0] + 0.03 == pytest.approx(config.sheet_height_m - config.margin_m)
    pitch = 0.03 + config.spacing_m
    assert x[1] - x[0] == pytest.approx(pitch)
    assert x[2] - x[0] == pytest.approx(3 * pitch)  # the space left a box empty
    assert y[3] == pytest.approx(y[0] - 0.03 - config.line_spacing_m)
    assert x[3] == pytest.approx(x[0])


def test_columns_layout_runs_top_down_then_right_to_left():
    plans = plan_text('一二\n三', size_m=0.03, layout='columns')
    first, second, third = plans
    assert first.box_x_m == pytest.approx(second.box_x_m)
    assert second.box_y_m < first.box_y_m
    assert third.box_x_m < first.box_x_m
    assert third.box_y_m == pytest.approx(first.box_y_m)


def test_explicit_origin_places_the_first_box():
    (plan,) = plan_text('一', origin_m=(0.1, 0.05), size_m=0.04)
    assert (plan.box_x_m, plan.box_y_m, plan.box_size_m) == (0.1, 0.05, 0.04)


def _code(call) -> ErrorCode:
    with pytest.raises(PlanningError) as raised:
        call()
    assert raised.value.message
    return raised.value.code


def test_bad_inputs_get_their_error_codes(tmp_path):
    garbage = tmp_path / 'broken.ttf'
    garbage.write_bytes(b'not a font at all')
    assert _code(lambda: plan_text('')) == ErrorCode.EMPTY_TEXT
    assert _code(lambda: plan_text(' \n ')) == ErrorCode.EMPTY_TEXT
    assert _code(lambda: plan_character('永', font='hershey')) == ErrorCode.CHARACTER_NOT_IN_FONT
    assert _code(lambda: plan_character('\U0001f600')) == ErrorCode.CHARACTER_NOT_IN_FONT
    assert _code(lambda: plan_character('永', font=str(garbage))) == ErrorCode.FONT_UNREADABLE
    assert _code(lambda: plan_character('永', font=str(tmp_path / 'no.ttf'))) == (
        ErrorCode.FONT_UNREADABLE
    )
    assert _code(lambda: plan_character('永', font='hershey:nope')) == ErrorCode.FONT_UNREADABLE
    assert _code(lambda: plan_character('永', size_m=0.5)) == ErrorCode.SIZE_OUT_OF_RANGE
    assert _code(lambda: plan_character('永', size_m=0.001)) == ErrorCode.SIZE_OUT_OF_RANGE
    assert _code(lambda: plan_character('永', size_m=float('nan'))) == ErrorCode.SIZE_OUT_OF_RANGE
    assert _code(lambda: plan_text('永', layout='diagonal')) == ErrorCode.LAYOUT_INVALID
    assert _code(lambda: plan_text('永', origin_m=(0.28, 0.1))) == ErrorCode.LAYOUT_INVALID
    assert _code(lambda: plan_text('永' * 40, size_m=0.06)) == ErrorCode.TEXT_DOES_NOT_FIT


def test_config_rejects_inconsistent_values():
    with pytest.raises(ValueError, match='layout'):
        StrokePlannerConfig(layout='spiral')
    with pytest.raises(ValueError, match='char_size_m'):
        StrokePlannerConfig(char_size_m=1.0)


def test_planner_scales_exactly_with_the_box():
    planner = StrokePlanner()
    small = planner.plan_character('永', size_m=0.03, resample_step_m=0.00025)
    large = planner.plan_character('永', size_m=0.06, resample_step_m=0.0005)
    for a, b in zip(small.strokes, large.strokes, strict=True):
        assert np.allclose(a.centreline * 2.0, b.centreline, atol=1e-9)
        assert np.allclose(a.width_m * 2.0, b.width_m, atol=1e-9)


def test_dev_and_test_sets_are_disjoint_and_large_enough():
    dev, test = load_set('dev'), load_set('test')
    assert len(dev.cjk) >= 100 and len(test.cjk) >= 100
    assert not set(dev.cjk) & set(test.cjk)
    for latin in (dev.latin, test.latin):
        assert set('abcdefghijklmnopqrstuvwxyz') <= set(latin.lower())
    assert all(load_stroke_data(c) is not None for c in dev.cjk + test.cjk)
