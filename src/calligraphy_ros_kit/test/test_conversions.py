"""The brush state and stroke measurements read back as they were sent."""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_interfaces.msg import BrushState
from calligraphy_model.brush_state import BrushStateEstimate
from calligraphy_model.types import StrokeMeasurement
from calligraphy_ros_kit.conversions import (
    brush_state_from_msg,
    brush_state_to_msg,
    stroke_measurement_from_msg,
    stroke_metrics_to_msg,
)


def test_a_caller_that_sends_no_brush_state_gets_a_full_nominal_brush():
    state = brush_state_from_msg(BrushState())
    assert (state.ink_load, state.width_gain, state.tip_lag_gain) == (1.0, 1.0, 1.0)
    assert state.problem() is None


def test_an_empty_brush_with_a_measured_gain_stays_empty():
    sent = BrushStateEstimate(ink_load=0.0, width_gain=0.8, strokes_observed=2)
    assert brush_state_from_msg(brush_state_to_msg(sent)) == sent


def test_a_bad_brush_state_says_which_field():
    assert BrushStateEstimate(width_gain=float('nan')).problem() == (
        'brush_state.width_gain is not finite'
    )
    assert BrushStateEstimate(width_gain=-1.0).problem() == 'brush_state.width_gain must be > 0'


def test_stroke_widths_survive_the_message():
    sent = StrokeMeasurement(
        stroke_index=3,
        planned_width_m=np.array([0.002, 0.003]),
        measured_width_m=np.array([0.0021, np.nan]),
        coverage=0.9,
        darkness=0.7,
    )
    got = stroke_measurement_from_msg(stroke_metrics_to_msg(sent))
    assert got.stroke_index == 3 and got.coverage == pytest.approx(0.9)
    np.testing.assert_allclose(got.planned_width_m, sent.planned_width_m)
    np.testing.assert_allclose(got.measured_width_m, sent.measured_width_m)
