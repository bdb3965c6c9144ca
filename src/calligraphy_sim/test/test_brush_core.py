"""Brush physics as a calligrapher would see it: width, lag at corners, drying, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_model.brush import BrushParams
from calligraphy_model.raster import PixelGrid
from calligraphy_model.stroke_width import measure_width_along
from calligraphy_sim.brush_render import render_batch, render_path

MM = 1e-3
SPEED = 0.05  # m/s


def _timed(points: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, ...]:
    """x, y, depth, t of a polyline walked at SPEED (dwell-free)."""
    travel = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    return points[:, 0], points[:, 1], depth, travel / SPEED


def _segment(p0, p1, n: int) -> np.ndarray:
    s = np.linspace(0.0, 1.0, n)[:, None]
    return np.asarray(p0) + (np.asarray(p1) - np.asarray(p0)) * s


def _straight(depth_m: float, length_m: float = 0.04, n: int = 80) -> tuple[np.ndarray, ...]:
    # Slightly slanted so pixel quantisation does not favour one width.
    points = _segment((0.01, 0.030), (0.01 + length_m, 0.033), n)
    return _timed(points, np.full(n, depth_m))


def _mean_width(depth_m: float, params: BrushParams | None = None) -> float:
    x, y, d, t = _straight(depth_m)
    render = render_path(x, y, d, t, params)
    middle = np.stack([x[20:60], y[20:60]], axis=1)
    return float(np.mean(measure_width_along(render.ink, render.region, middle)))


def test_width_grows_with_depth_at_published_slope_and_saturates_at_the_belly():
    params = BrushParams()
    depths = np.array([0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 14.0]) * MM
    widths = np.array([_mean_width(d) for d in depths])
    assert np.all(np.diff(widths) > 0.0), f'width not monotone in depth: {widths / MM} mm'
    light_slope = (widths[2] - widths[0]) / (depths[2] - depths[0])
    assert 0.6 <= light_slope <= 1.2, f'{light_slope:.2f} mm/mm at light pressure'
    deep_slope = (widths[-1] - widths[-2]) / (depths[-1] - depths[-2])
    assert deep_slope < 0.25 * light_slope, 'width does not saturate when pressed hard'
    # Saturates at the belly diameter (plus the paper's bleed of a couple of tenths of a mm).
    assert widths[-1] <= params.belly_diameter_m + 0.4 * MM
    assert widths[-1] >= params.belly_diameter_m - 0.4 * MM
    # The model in the params and the measured ink agree within a pixel and the bleed.
    nominal = params.width_at_depth(depths) + 2.0 * params.paper_spread_m
    assert np.max(np.abs(widths - nominal)) < 0.25 * MM


def test_a_brush_that_does_not_press_into_the_paper_leaves_no_ink():
    for depth in (0.0, -0.5 * MM, -5 * MM):
        x, y, d, t = _straight(depth)
        render = render_path(x, y, d, t)
        assert render.ink.max() == 0.0
        assert render.ink_load_end == 1.0, 'ink spent without touching the paper'
    x, y, d, t = _straight(3.0 * MM)
    assert render_path(x, y, d, t, ink_load=0.0).ink.max() == 0.0, 'an empty brush inked'


def test_ink_only_where_the_tip_presses():
    # Hovering, pressing between x = 30 and 40 mm, hovering again.
    x = np.linspace(0.01, 0.06, 201)
    d = np.where((x >= 0.03) & (x <= 0.04), 2.0 * MM, -1.0 * MM)
    points = np.stack([x, np.full_like(x, 0.05)], axis=1)
    render = render_path(*_timed(points, d))
    cols = np.flatnonzero((render.ink > 0.1).any(axis=0))
    xs, _ = render.region.pixel_centres(np.zeros_like(cols), cols)
    reach = BrushParams().width_at_depth(2.0 * MM) / 2 + 0.5 * MM
    assert xs.min() >= 0.03 - reach and xs.max() <= 0.04 + reach
    assert xs.max() - xs.min() > 0.009, 'the pressed span is not inked'


def _corner_ink_offsets() -> dict[str, float]:
    """Mean x of the ink minus the holder x, in bands below a +x then -y corner at (30, 50) mm."""
    points = np.vstack(
        [_segment((0.01, 0.05), (0.03, 0.05), 81), _segment((0.03, 0.05), (0.03, 0.03), 81)[1:]]
    )
    render = render_path(*_timed(points, np.full(len(points), 3.0 * MM)))
    rows, cols = np.nonzero(render.ink > 0.3)
    x, y = render.region.pixel_centres(rows, cols)
    offsets = {}
    for name, (lo, hi) in {'near': (2.5, 5.0), 'far': (12.0, 16.0)}.items():
        band = (y < 0.05 - lo * MM) & (y > 0.05 - hi * MM)
        offsets[name] = float(np.mean(x[band]) - 0.03)
    return offsets


def test_after_a_corner_the_ink_trails_toward_the_old_direction_then_realigns():
    offsets = _corner_ink_offsets()
    # The holder turned from +x to -y; the bristles still point back along -x for a few mm.
    assert offsets['near'] < -0.15 * MM, f'near-corner offset {offsets["near"] / MM:.3f} mm'
    assert abs(offsets['far']) < 0.05 * MM, f'far offset {offsets["far"] / MM:.3f} mm'


def test_the_end_of_a_stroke_depends_on_how_the_brush_leaves_the_paper():
    run = _segment((0.01, 0.05), (0.04, 0.05), 61)
    pressed = np.full(61, 3.0 * MM)
    # Lifted straight up at x = 40 mm, versus lifted while still travelling 6 mm to the right.
    lift_up = np.vstack([run, np.repeat(run[-1:], 20, axis=0)])
    lift_away = np.vstack([run, _segment((0.04, 0.05), (0.046, 0.05), 21)[1:]])
    rise = np.linspace(3.0 * MM, -0.5 * MM, 21)[1:]
    end_widths = []
    for points, depth in ((lift_up, np.r_[pressed, rise]), (lift_away, np.r_[pressed, rise])):
        x, y, d, t = _timed(points, depth)
        if points is lift_up:
            t = np.r_[t[:61], t[60] + np.linspace(0.0, 0.1, 21)[1:]]
        render = render_path(x, y, d, t)
        line = np.stack([np.linspace(0.041, 0.044, 4), np.full(4, 0.05)], axis=1)
        end_widths.append(measure_width_along(render.ink, render.region, line))
    blunt, tapered = end_widths
    # Lifted in place: the stroke stops within about a belly radius of the holder.
    assert blunt[-1] == 0.0
    # Lifted while moving: a tail that narrows towards its end.
    assert np.all(tapered > 0.0) and np.all(np.diff(tapered) <= 0.0)
    assert tapered[-1] < 0.6 * tapered[0]


def test_a_long_stroke_runs_dry_and_a_reloaded_brush_writes_dark_again():
    params = BrushParams(ink_capacity_m2=600 * MM * MM)
    x, y, d, t = _straight(3.0 * MM, length_m=0.25, n=400)
    first = render_path(x, y, d, t, params, seed=3)
    trace_load = first.trace.ink_load[0]
    assert np.all(np.diff(trace_load) <= 0.0)
    assert first.ink_load_end < params.dry_onset_load

    def coverage_and_density(render, x_from: float, x_to: float) -> tuple[float, float]:
        core = _band(render, x, y, x_from, x_to, half_width=0.4 * params.width_at_depth(3 * MM))
        return float(np.mean(core > 0.3)), float(np.mean(core))

    start_cov, start_dark = coverage_and_density(first, 0.02, 0.05)
    end_cov, end_dark = coverage_and_density(first, 0.22, 0.25)
    assert start_cov > 0.97 and start_dark > 0.9
    assert end_cov < 0.6, f'coverage only fell to {end_cov:.2f}: no dry-brush streaks'
    assert end_dark < start_dark - 0.3
    # Dry-brush gaps are bristle-wise: streaks running along the stroke, not spots.
    dry = _band_grid(first, 0.21, 0.25, half_width=0.4 * params.width_at_depth(3 * MM)) > 0.3
    along = np.mean(dry[:, 1:] == dry[:, :-1])
    across = np.mean(dry[1:, :] == dry[:-1, :])
    assert along > 0.95 and across < 0.85, f'along {along:.2f}, across {across:.2f}'

    reloaded = render_path(x, y, d, t, params, ink_load=1.0, seed=3)
    again_cov, again_dark = coverage_and_density(reloaded, 0.02, 0.05)
    assert again_cov > 0.97 and again_dark > 0.9


def _band(render, x, y, x_from: float, x_to: float, half_width: float) -> np.ndarray:
    """Ink values within half_width of the path, between x_from and x_to."""
    rows, cols = np.indices(render.ink.shape)
    px, py = render.region.pixel_centres(rows, cols)
    centre_y = np.interp(px, x, y)
    inside = (np.abs(py - centre_y) < half_width) & (px >= x_from) & (px <= x_to)
    return render.ink[inside]


def _band_grid(render, x_from: float, x_to: float, half_width: float) -> np.ndarray:
    """Ink of a horizontal stroke at y = 30..33 mm: rows across it, columns along it."""
    rows, cols = np.indices(render.ink.shape)
    px, py = render.region.pixel_centres(rows, cols)
    centre = 0.030 + 0.003 * (px[0] - 0.01) / 0.25
    keep_cols = np.flatnonzero((px[0] >= x_from) & (px[0] <= x_to))
    keep_rows = np.flatnonzero(np.abs(py[:, 0] - centre[keep_cols].mean()) < half_width)
    return render.ink[np.ix_(keep_rows, keep_cols)]


def test_ink_spent_is_proportional_to_the_area_inked():
    spent = []
    for length in (0.03, 0.06):
        x, y, d, t = _straight(3.0 * MM, length_m=length, n=int(length / MM) * 2)
        spent.append(1.0 - render_path(x, y, d, t).ink_load_end)
    assert 1.8 < spent[1] / spent[0] < 2.2


def test_dwelling_lets_the_ink_spread_into_the_paper():
    areas = []
    for dwell_s in (0.05, 1.5):
        x = np.full(10, 0.05)
        y = np.full(10, 0.05)
        d = np.full(10, 2.0 * MM)
        render = render_path(x, y, d, np.linspace(0.0, dwell_s, 10))
        areas.append(np.count_nonzero(render.ink > 0.3))
    assert areas[1] > 1.15 * areas[0], f'blot areas {areas} px'


def _wavy_batch(count: int, n: int = 60) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(7)
    s = np.linspace(0.0, 1.0, n)
    angle = rng.uniform(0, 2 * np.pi, (count, 1))
    bend = rng.uniform(-0.004, 0.004, (count, 1))
    x = 0.1 + 0.04 * s * np.cos(angle) - bend * np.sin(np.pi * s) * np.sin(angle)
    y = 0.1 + 0.04 * s * np.sin(angle) + bend * np.sin(np.pi * s) * np.cos(angle)
    d = np.tile(
        np.interp(s, [0, 0.1, 0.8, 1.0], [-0.5 * MM, 3 * MM, 2 * MM, -0.5 * MM]), (count, 1)
    )
    t = np.tile(s * 0.8, (count, 1))
    return x, y, d, t


def test_same_seed_gives_the_same_canvas_and_another_seed_other_streaks():
    x, y, d, t = _wavy_batch(1)
    args = (x[0], y[0], d[0], t[0], BrushParams())
    a = render_path(*args, ink_load=0.2, seed=11)
    b = render_path(*args, ink_load=0.2, seed=11)
    c = render_path(*args, ink_load=0.2, seed=12)
    assert a.region == b.region and np.array_equal(a.ink, b.ink)
    # A dry brush: which bristles streak depends on the seed.
    assert np.mean(np.abs(a.ink - c.ink)) > 0.01


def test_batch_render_matches_single_renders():
    x, y, d, t = _wavy_batch(4)
    brushes = [BrushParams.sample(np.random.default_rng(i)) for i in range(4)]
    batch = render_batch(x, y, d, t, brushes, ink_load=[1.0, 0.6, 0.3, 0.15], seeds=[5, 6, 7, 8])
    for i, render in enumerate(batch):
        single = render_path(
            x[i], y[i], d[i], t[i], brushes[i], ink_load=[1.0, 0.6, 0.3, 0.15][i], seed=5 + i
        )
        assert render.region == single.region
        np.testing.assert_allclose(render.ink, single.ink, atol=1e-6)
        assert render.ink_load_end == pytest.approx(single.ink_load_end)


def test_batch_into_a_shared_region_stacks_and_keeps_the_sheet_orientation():
    region = PixelGrid.from_extent(0.05, 0.05, 0.1, 0.1)
    x, y, d, t = _wavy_batch(3)
    stack = np.stack([r.ink for r in render_batch(x, y, d, t, region=region)])
    assert stack.shape == (3, 400, 400)
    # A stroke in the top-left of the region lands in the top-left of the raster.
    n = 40
    top_left = render_path(
        np.linspace(0.055, 0.065, n),
        np.full(n, 0.145),
        np.full(n, 2 * MM),
        np.linspace(0, 1, n),
        region=region,
    )
    rows, cols = np.nonzero(top_left.ink > 0.3)
    assert rows.max() < 40 and cols.max() < 80


def test_impossible_brushes_and_paths_are_rejected_with_a_reason():
    with pytest.raises(ValueError, match='belly_diameter_m'):
        BrushParams(belly_diameter_m=-0.001)
    with pytest.raises(ValueError, match='touch_width_m'):
        BrushParams(touch_width_m=0.01, belly_diameter_m=0.005)
    with pytest.raises(ValueError, match='time'):
        render_path([0.0, 0.01], [0.0, 0.0], [0.001, 0.001], [1.0, 0.0])
    with pytest.raises(ValueError, match='NaN'):
        render_path([0.0, np.nan], [0.0, 0.0], [0.001, 0.001], [0.0, 1.0])
    with pytest.raises(ValueError, match='ink_load'):
        render_path([0.0, 0.01], [0.0, 0.0], [0.001, 0.001], [0.0, 1.0], ink_load=1.5)
