"""The figures of EVALUATION.md the offline evaluation reports, on known masks: IoU, chamfer,
widths across a centreline, the confidence interval (calligraphy_model's one scorer)."""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_model.raster import PixelGrid
from calligraphy_model.scoring import chamfer_m, iou, mean_ci95
from calligraphy_model.stroke_width import measure_width_along


def test_scoring_figures_on_known_masks():
    a = np.zeros((40, 40), bool)
    b = np.zeros((40, 40), bool)
    a[10:30, 10:20] = True
    b[10:30, 15:25] = True
    assert iou(a, b) == pytest.approx(100 / 300)
    assert chamfer_m(a, a, 0.001) == 0.0
    assert chamfer_m(a, b, 0.001) > 0.002
    region = PixelGrid(0.0, 0.0, 40, 40, 0.001)
    # Row 10..29 is y 0.030..0.010; the ink band spans x 10..20 mm, 10 mm wide.
    centre = np.array([[0.015, 0.02], [0.015, 0.015]])
    widths = measure_width_along(a.astype(np.float32), region, centre, max_half_width_m=0.02)
    np.testing.assert_allclose(widths, 0.010, atol=0.001)
    mean, lo, hi = mean_ci95(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == 2.5 and lo < 2.5 < hi and hi - lo == pytest.approx(2 * 2.054, abs=0.01)


def test_the_evaluation_keeps_nan_for_a_glyph_with_no_target_and_no_ink():
    # The policy evaluation's IoU was NaN for two empty masks, which the core scorer keeps:
    # mean_ci95 drops such an episode instead of counting it as a perfect one.
    empty = np.zeros((8, 8), bool)
    assert np.isnan(iou(empty, empty)) and np.isnan(chamfer_m(empty, empty, 0.001))
    assert mean_ci95(np.array([0.5, np.nan, 0.7]))[0] == pytest.approx(0.6)
