"""The brush's laws: parameter ranges, the width law and its inverse, the deposit law."""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_model.brush import (
    PARAM_RANGES,
    BrushParams,
    deposit_density,
    footprint_width,
    ink_spent_per_area,
    inking_fraction,
    load_brush_file,
    load_for_density,
)

MM = 1e-3


def test_brush_sampling_stays_in_documented_ranges_and_is_seeded():
    for distribution, lo_i in (('train', 0), ('eval', 2)):
        for i in range(50):
            brush = BrushParams.sample(np.random.default_rng(i), distribution)
            for name, bounds in PARAM_RANGES.items():
                assert bounds[lo_i] <= getattr(brush, name) <= bounds[lo_i + 1]
    for bounds in PARAM_RANGES.values():
        assert bounds[0] <= bounds[2] < bounds[3] <= bounds[1], 'eval range outside train range'
    assert BrushParams.sample(np.random.default_rng(3)) == BrushParams.sample(
        np.random.default_rng(3)
    )
    with pytest.raises(ValueError, match='distribution'):
        BrushParams.sample(np.random.default_rng(0), 'test')


def test_depth_for_width_inverts_the_width_model():
    params = BrushParams()
    depths = np.linspace(0.2, 6.0, 12) * MM
    np.testing.assert_allclose(params.depth_for_width(params.width_at_depth(depths)), depths)


def test_width_law_starts_at_the_touch_width_with_its_slope_and_saturates_at_the_belly():
    params = BrushParams()
    assert footprint_width(0.0, 0.0004, 0.0065, 1.0) == 0.0
    tiny = 1e-7
    slope = (params.width_at_depth(2 * tiny) - params.width_at_depth(tiny)) / tiny
    assert params.width_at_depth(tiny) == pytest.approx(params.touch_width_m, abs=1e-6)
    assert slope == pytest.approx(params.width_slope, rel=1e-3)
    assert params.width_at_depth(0.05) == pytest.approx(params.belly_diameter_m, rel=1e-6)
    # Batched: one row per brush.
    widths = footprint_width(
        np.full((2, 3), 2 * MM), np.array([[0.0004], [0.0003]]), 0.0065, np.array([[1.0], [0.7]])
    )
    assert widths.shape == (2, 3) and widths[0, 0] > widths[1, 0]


def test_deposit_law_its_inverse_and_the_ink_spent():
    params = BrushParams()
    loads = np.linspace(0.0, 1.0, 11)
    density = deposit_density(loads, params.darkness_at_empty)
    assert density[0] == pytest.approx(params.darkness_at_empty) and density[-1] == 1.0
    np.testing.assert_allclose(load_for_density(density, params.darkness_at_empty), loads)
    np.testing.assert_allclose(params.darkness(loads), density)
    fraction = inking_fraction(loads, params.dry_onset_load)
    assert fraction[-1] == 1.0 and fraction[1] == pytest.approx(0.1 / params.dry_onset_load)
    np.testing.assert_allclose(
        ink_spent_per_area(loads, params.dry_onset_load, params.darkness_at_empty),
        fraction * density,
    )


@pytest.mark.parametrize(
    ('content', 'message'),
    [
        ('brush:\n  belly_diameter: 0.01\n', 'unknown brush parameter(s) belly_diameter; known:'),
        ('brush:\n  ink_capacity_m2: 0.0\n', 'ink_capacity_m2 must be a positive finite number'),
        ('brush:\n  tip_radius_m: -0.001\n', 'tip_radius_m must be a positive finite number'),
        ('brush:\n  lag_slope: fast\n', "brush.lag_slope must be a number, got 'fast'"),
        ('brush:\n  bristle_count: 12.5\n', 'brush.bristle_count must be an integer'),
        ('belly_diameter_m: 0.01\n', 'expected a mapping `brush:`'),
        ('brush: [1, 2\n', 'not YAML'),
    ],
    ids=['unknown', 'zero-capacity', 'negative-size', 'text', 'fraction', 'no-brush', 'yaml'],
)
def test_a_brush_file_that_cannot_describe_a_brush_is_refused_with_the_reason(
    tmp_path, content, message
):
    path = tmp_path / 'brush.yaml'
    path.write_text(content)
    with pytest.raises(ValueError) as refused:
        load_brush_file(path)
    assert message in str(refused.value) and str(path) in str(refused.value)


def test_a_missing_brush_file_is_refused_with_the_reason(tmp_path):
    with pytest.raises(ValueError, match='cannot read it'):
        load_brush_file(tmp_path / 'none.yaml')
