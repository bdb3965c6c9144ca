"""THE glyph scorer of EVALUATION.md on masks of known geometry (moved from camera_feedback's
core test), and the one decision about empty masks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calligraphy_model.raster import DEFAULT_MPP
from calligraphy_model.scoring import chamfer_m, coverage, iou, mean_ci95, score_masks, spill

MPP = DEFAULT_MPP


def _disc(shape, centre, radius):
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2


# --- scorer -------------------------------------------------------------------------------------


def test_scorer_figures_of_two_overlapping_rectangles_are_exact():
    target = np.zeros((100, 100), bool)
    written = np.zeros((100, 100), bool)
    target[20:60, 20:60] = True  # 1600 px
    written[40:80, 20:60] = True  # 1600 px, 800 overlap
    score = score_masks(target, written, 0.001)
    assert score.iou == pytest.approx(800 / 2400)
    assert score.coverage == pytest.approx(0.5)
    assert score.spill == pytest.approx(0.5)
    assert math.isnan(score.stroke_order)


def test_chamfer_of_concentric_discs_is_their_radius_difference_in_metres():
    target = _disc((200, 200), (100, 100), 40)
    written = _disc((200, 200), (100, 100), 30)
    assert chamfer_m(target, written, 0.0005) == pytest.approx(10 * 0.0005, abs=0.0005)


def test_nothing_written_scores_zero_iou_and_undefined_chamfer():
    target = _disc((50, 50), (25, 25), 10)
    score = score_masks(target, np.zeros_like(target), MPP)
    assert score.iou == 0.0 and score.coverage == 0.0 and score.spill == 0.0
    assert math.isnan(score.chamfer_m)


def test_scorer_rejects_masks_of_different_size():
    with pytest.raises(ValueError, match='differ in size'):
        score_masks(np.zeros((10, 10), bool), np.zeros((10, 11), bool), MPP)


def test_two_empty_masks_have_no_iou_and_are_dropped_from_a_mean():
    # Nothing asked and nothing written is no evidence of good writing: NaN, not 1.0.
    empty = np.zeros((10, 10), bool)
    assert math.isnan(iou(empty, empty))
    assert math.isnan(coverage(empty, empty)) and math.isnan(spill(empty, empty))
    assert math.isnan(chamfer_m(empty, empty, MPP))
    score = score_masks(empty, empty, MPP)
    assert math.isnan(score.iou) and math.isnan(score.coverage)
    assert mean_ci95(np.array([0.5, iou(empty, empty), 0.7]))[0] == pytest.approx(0.6)
