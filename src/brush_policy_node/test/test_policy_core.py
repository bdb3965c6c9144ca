"""Controllers, features, backends and model card: plain pytest, no ROS graph."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from brush_policy_node.backends import N_OUTPUTS, FakeBackend
from brush_policy_node.config import ControllerConfig
from brush_policy_node.controllers import (
    AnalyticController,
    ConstantController,
    ControllerSet,
    LearnedController,
)
from brush_policy_node.features import N_FEATURES, stroke_features
from brush_policy_node.model_card import ModelCard
from brush_policy_node.types import (
    EMPTY_PLAN,
    INVALID_PLAN,
    STROKE_INDEX_OUT_OF_RANGE,
    UNKNOWN_CONTROLLER,
    BrushState,
    ControllerError,
    StrokeSpec,
)
from brush_policy_node.width_model import nominal_width_model
from calligraphy_model.brush import BrushParams

CONFIG = ControllerConfig()
WIDTH_MODEL = nominal_width_model(CONFIG.max_depth_m)


def swelling_stroke(n: int = 41, step: float = 0.0005) -> StrokeSpec:
    x = 0.05 + step * np.arange(n)
    centreline = np.stack([x, np.full(n, 0.1)], axis=1)
    width = 0.002 + 0.002 * np.sin(np.linspace(0.0, np.pi, n))
    return StrokeSpec(centreline, width, 0)


def card_with_ranges(**ranges: list) -> ModelCard:
    return ModelCard(
        model_file='x.onnx',
        input_shape=[-1, N_FEATURES],
        output_shape=[-1, N_OUTPUTS],
        feature_names=[],
        output_names=[],
        simulator={},
        brush_param_ranges={},
        input_ranges=ranges,
        dataset={},
        seed=0,
        training={},
    )


def test_the_runtime_needs_neither_simulator_nor_camera_nor_torch_nor_training():
    blocked = ('calligraphy_sim', 'camera_feedback', 'torch', 'brush_policy_training')
    code = (
        'import sys\n'
        f'sys.modules.update(dict.fromkeys({blocked!r}))\n'
        'import brush_policy_node.brush_policy_node\n'
        'from brush_policy_node.config import ControllerConfig\n'
        'from brush_policy_node.runtime import build_controllers\n'
        "assert build_controllers(ControllerConfig()).default == 'learned'\n"
    )
    subprocess.run([sys.executable, '-c', code], check=True)


def test_analytic_inverts_nominal_width_model_within_a_micrometre():
    stroke = swelling_stroke()
    path = AnalyticController(WIDTH_MODEL, CONFIG).compute(stroke, BrushState())
    written = BrushParams().width_at_depth(path.pressing_depth_m)
    assert np.max(np.abs(written - stroke.width_m)) < 1e-6
    np.testing.assert_allclose(path.xy(), stroke.centreline_m)


def test_constant_holds_one_depth_that_writes_the_mean_width():
    stroke = swelling_stroke()
    path = ConstantController(WIDTH_MODEL, CONFIG).compute(stroke, BrushState())
    assert np.ptp(path.pressing_depth_m) == 0.0
    width = float(BrushParams().width_at_depth(path.pressing_depth_m[0]))
    assert width == pytest.approx(float(stroke.width_m.mean()), abs=1e-6)


def test_timing_follows_nominal_speed_and_strictly_increases():
    stroke = swelling_stroke(n=41, step=0.0005)
    path = AnalyticController(WIDTH_MODEL, CONFIG).compute(stroke, BrushState())
    assert np.all(np.diff(path.time_from_start_s) > 0.0)
    assert path.duration_s == pytest.approx(0.02 / CONFIG.speed_nominal_mps, rel=1e-9)


def test_learned_speed_stays_within_configured_limits():
    stroke = swelling_stroke()
    fast = LearnedController(WIDTH_MODEL, CONFIG, FakeBackend((0.0, 0.0, 0.0, 5.0)))
    path = fast.compute(stroke, BrushState())
    assert path.duration_s == pytest.approx(0.02 / CONFIG.speed_max_mps, rel=1e-9)
    slow = LearnedController(WIDTH_MODEL, CONFIG, FakeBackend((0.0, 0.0, 0.0, -5.0)))
    assert slow.compute(stroke, BrushState()).duration_s == pytest.approx(
        0.02 / CONFIG.speed_min_mps, rel=1e-9
    )


def test_learned_corrections_move_the_tip_along_and_across_the_stroke_in_metres():
    stroke = swelling_stroke()
    learned = LearnedController(WIDTH_MODEL, CONFIG, FakeBackend((0.5, 1.0, -2.0, 0.0)))
    path = learned.compute(stroke, BrushState())
    analytic = AnalyticController(WIDTH_MODEL, CONFIG).compute(stroke, BrushState())
    # The stroke runs along +x: along-track = +x, the left normal = +y.
    np.testing.assert_allclose(path.x_m - stroke.centreline_m[:, 0], 0.001, atol=1e-12)
    np.testing.assert_allclose(path.y_m - stroke.centreline_m[:, 1], -0.002, atol=1e-12)
    np.testing.assert_allclose(
        path.pressing_depth_m - analytic.pressing_depth_m, 0.0005, atol=1e-9
    )


def test_out_of_distribution_brush_falls_back_to_analytic_with_a_reason():
    stroke = swelling_stroke()
    backend = FakeBackend((1.0, 0.0, 0.0, 0.0))
    card = card_with_ranges(width_gain=[0.7, 1.2], ink_load=[0.0, 1.0])
    learned = LearnedController(WIDTH_MODEL, CONFIG, backend, card)
    inside = learned.compute(stroke, BrushState(width_gain=1.0))
    assert not inside.fell_back and inside.controller == 'learned' and backend.calls == 1
    outside = learned.compute(stroke, BrushState(width_gain=2.5))
    analytic = AnalyticController(WIDTH_MODEL, CONFIG).compute(stroke, BrushState())
    assert outside.fell_back and outside.controller == 'analytic' and backend.calls == 1
    assert 'width_gain' in outside.warnings[0]
    np.testing.assert_allclose(outside.pressing_depth_m, analytic.pressing_depth_m)


def test_stroke_wider_than_training_data_is_out_of_distribution():
    card = card_with_ranges(width_m=[0.0, 0.006])
    stroke = swelling_stroke()
    assert card.out_of_distribution(stroke, BrushState()) == []
    wide = StrokeSpec(stroke.centreline_m, stroke.width_m * 4.0)
    assert 'width_m' in card.out_of_distribution(wide, BrushState())[0]


def test_bad_requests_raise_the_service_codes():
    controllers = ControllerSet(
        {'analytic': AnalyticController(WIDTH_MODEL, CONFIG)}, default='analytic'
    )
    stroke = swelling_stroke()
    cases = [
        ([], [], '', EMPTY_PLAN),
        ([stroke], [], 'spline', UNKNOWN_CONTROLLER),
        ([stroke], [3], '', STROKE_INDEX_OUT_OF_RANGE),
    ]
    bad = stroke.centreline_m.copy()
    bad[5, 0] = np.nan
    cases.append(([StrokeSpec(bad, stroke.width_m)], [], '', INVALID_PLAN))
    cases.append(([StrokeSpec(stroke.centreline_m, stroke.width_m[:-2])], [], '', INVALID_PLAN))
    for strokes, indices, name, code in cases:
        with pytest.raises(ControllerError) as error:
            controllers.compute_paths(strokes, indices, BrushState(), name)
        assert error.value.code == code, error.value.message
    paths = controllers.compute_paths([stroke, stroke], [1], BrushState())
    assert [p.stroke_index for p in paths] == [0]


def test_features_do_not_depend_on_where_or_which_way_the_stroke_is_written():
    stroke = swelling_stroke()
    depth = WIDTH_MODEL.depth_for_width(stroke.width_m)
    base = stroke_features(stroke.centreline_m, stroke.width_m, depth, 0.8, 1.1)
    angle = 2.0
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = stroke.centreline_m @ rot.T + np.array([0.1, 0.05])
    np.testing.assert_allclose(
        stroke_features(moved, stroke.width_m, depth, 0.8, 1.1), base, atol=1e-4
    )
    assert base.shape == (41, N_FEATURES) and base.dtype == np.float32


def test_writing_speeds_other_than_the_trained_ones_are_named_and_the_shipped_ones_match():
    from dataclasses import replace

    from brush_policy_node.runtime import SHIPPED_MODEL

    card = card_with_ranges()
    card.training = {'config': {'controllers': vars(ControllerConfig())}}
    assert card.speed_difference(ControllerConfig()) is None
    slower = replace(ControllerConfig(), speed_nominal_mps=0.02, speed_min_mps=0.008)
    difference = card.speed_difference(slower)
    assert 'speed_nominal_mps 0.02 (trained 0.06)' in difference
    assert 'speed_min_mps 0.008 (trained 0.02)' in difference
    assert 'speed_max_mps' not in difference
    # The shipped policy was trained at the speeds the node runs it at by default.
    shipped = ModelCard.load(SHIPPED_MODEL.with_name('brush_policy.card.json'))
    assert shipped.speed_difference(ControllerConfig()) is None
