"""The brush-state estimator's own checks (moved from camera_feedback; the estimates from
camera observations are tested there, on the observer's measurements)."""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_model.brush_state import EstimatorConfig, commanded_widths


def test_config_rejects_a_forgetting_factor_out_of_range():
    with pytest.raises(ValueError, match='forgetting'):
        EstimatorConfig(forgetting=0.0)


def test_commanded_widths_follow_the_depth_pressed_along_the_centreline():
    centreline = np.column_stack([np.linspace(0.0, 0.04, 41), np.zeros(41)])
    # The path presses 1 mm for the first half and 3 mm for the second; it is lifted beyond
    # x = 0.03, so the last 7 mm of the centreline have no pressing point near them.
    path_x = np.linspace(0.0, 0.03, 31)
    depth = np.where(path_x < 0.015, 0.001, 0.003)
    path = np.column_stack([path_x, np.zeros(31)])
    widths = commanded_widths(centreline, path, depth, lambda d: 2.0 * d, width_gain=1.5)
    assert widths[5] == pytest.approx(0.003)  # 1.5 x 2 x 1 mm
    assert widths[25] == pytest.approx(0.009)  # 1.5 x 2 x 3 mm
    assert np.isnan(widths[-1]), 'no pressing path point within 3 mm of x = 40 mm'
    lifted = commanded_widths(centreline, path, np.zeros(31), lambda d: 2.0 * d)
    assert np.isnan(lifted).all()
