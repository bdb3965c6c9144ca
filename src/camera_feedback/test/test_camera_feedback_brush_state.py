"""Brush-state estimator on strokes photographed by the simulated camera."""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_model.brush import deposit_density
from calligraphy_model.brush_state import BrushStateEstimate, BrushStateEstimator, EstimatorConfig
from calligraphy_model.raster import Region
from calligraphy_sim.camera import SimulatedCamera
from camera_feedback.observer import PaperObserver
from camera_feedback.synthetic import line_stroke, sheet_with_strokes

BOX = Region(0.10, 0.07, 0.06, 0.06)
PLANNED = [
    line_stroke((0.105, 0.120), (0.155, 0.120), 0.003, index=0),
    line_stroke((0.105, 0.100), (0.155, 0.100), np.linspace(0.002, 0.004, 40), index=1),
    line_stroke((0.105, 0.080), (0.155, 0.080), 0.0035, index=2),
]


def _grey_for_load(load: float, config: EstimatorConfig) -> int:
    """Grey level of ink laid by a brush with `load`, by the deposit law the estimator assumes."""
    density = deposit_density(load, config.density_at_empty)
    return int(round(255 * (1 - config.full_ink_darkness * density)))


def _observe(width_gain: float, ink_grey: int = 25):
    written = [
        line_stroke(s.centreline_m[0], s.centreline_m[-1], s.width_m * width_gain, s.index)
        for s in PLANNED
    ]
    image = SimulatedCamera(seed=11).render(sheet_with_strokes(written, ink_grey))
    return PaperObserver().observe(image, BOX, strokes=PLANNED)


def test_a_brush_that_writes_30_percent_wide_is_estimated_within_3_strokes():
    observation = _observe(1.3)
    estimator = BrushStateEstimator()
    first = estimator.update(observation.strokes[:1])
    assert 1.15 < first.width_gain < 1.3, 'one stroke moves the estimate most of the way'
    # These strokes, too, were written by a controller that assumed the nominal brush.
    state = estimator.update(observation.strokes[1:], assumed=BrushStateEstimate())
    assert state.width_gain == pytest.approx(1.3, abs=0.06)
    assert state.strokes_observed == 3
    assert state.confidence > first.confidence > 0.3


def test_strokes_at_planned_width_confirm_the_gain_the_controller_assumed():
    observation = _observe(1.0)
    estimator = BrushStateEstimator(prior=BrushStateEstimate(width_gain=1.0))
    assumed = BrushStateEstimate(width_gain=1.4)
    state = estimator.update(observation.strokes, assumed=assumed)
    # The controller compensated a 1.4 gain and hit the plan: the brush really is 1.4 wide.
    assert state.width_gain == pytest.approx(1.4, abs=0.07)


@pytest.mark.parametrize('load', [1.0, 0.5, 0.15])
def test_ink_load_is_read_from_the_darkness_of_the_last_stroke(load):
    config = EstimatorConfig()
    observation = _observe(1.0, _grey_for_load(load, config))
    state = BrushStateEstimator(config).update(observation.strokes)
    assert state.ink_load == pytest.approx(load, abs=0.12)


def test_reload_restores_ink_but_keeps_the_width_gain():
    estimator = BrushStateEstimator()
    estimator.update(_observe(1.3, 120).strokes)
    before = estimator.estimate
    after = estimator.reload(1.0)
    assert after.ink_load == 1.0 and before.ink_load < 0.5
    assert after.width_gain == before.width_gain


def test_a_controller_that_writes_wide_on_purpose_is_not_read_as_a_wide_brush():
    # The controller aimed 20 % over the plan with a nominal brush and got exactly that: the
    # width it expected to lay, not the plan, is what the measurement must be compared with.
    observation = _observe(1.2)
    estimator = BrushStateEstimator()
    expected = [s.planned_width_m * 1.2 for s in observation.strokes]
    state = estimator.update(observation.strokes, assumed=BrushStateEstimate(), expected=expected)
    assert state.width_gain == pytest.approx(1.0, abs=0.05)
    with pytest.raises(ValueError, match='expected-width arrays'):
        estimator.update(observation.strokes, expected=expected[:1])
