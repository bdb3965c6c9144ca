"""How much planned stroke area one load of ink covers, measured on the simulated brush (no ROS).

The simulator measures its own brush here for the writer's ink budget; no runtime package imports
this module.

The ink budget (calligraphy_model.ink_budget, run by the writer) books a stroke's need linearly,
as its planned area (width integrated along the centreline) over `InkBudgetConfig.capacity_m2`.
The brush simulator spends ink faster while the brush is wet (it lays darker ink over a slightly
wider, bleeding footprint) and slower as it dries, so the figure that matters is the area
written while the load falls from the wipe load to the floor: the range the budget works in. This
module writes strokes of constant planned width, one after another with the load each leaves,
with calligraphy_sim's `render_path`, and reports that area per unit of load.

`calligraphy bench ink_capacity` prints the figures for the nominal brush.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calligraphy_model.ink_budget import InkBudgetConfig, stroke_area_m2
from calligraphy_sim.brush import BrushParams, render_path

STROKE_LENGTH_M = 0.01
WRITING_SPEED_M_S = 0.03
SAMPLE_RATE_HZ = 100.0


@dataclass(frozen=True)
class CapacityMeasurement:
    """Planned area per unit load (m²) of strokes `width_m` wide between two loads."""

    width_m: float
    start_load: float
    end_load: float
    area_per_load_m2: float
    strokes: int


def _stroke(x0_m: float, y_m: float, depth_m: float) -> tuple[np.ndarray, ...]:
    """A straight stroke: touch down, travel STROKE_LENGTH_M at constant depth, lift."""
    count = int(round(STROKE_LENGTH_M / WRITING_SPEED_M_S * SAMPLE_RATE_HZ)) + 1
    x = np.linspace(x0_m, x0_m + STROKE_LENGTH_M, count)
    duration = STROKE_LENGTH_M / WRITING_SPEED_M_S
    t = np.linspace(0.1, 0.1 + duration, count)
    return (
        np.concatenate([[x[0]], x, [x[-1]]]),
        np.full(count + 2, y_m),
        np.concatenate([[-0.002], np.full(count, depth_m), [-0.002]]),
        np.concatenate([[0.0], t, [t[-1] + 0.1]]),
    )


def measure_area_per_load(
    width_m: float, start_load: float = 0.9, end_load: float = 0.2, params=None
) -> CapacityMeasurement:
    """Write `width_m`-wide strokes from `start_load` until the load is below `end_load`.

    The area at which the load crosses `end_load` is interpolated within the last stroke (the
    load falls steadily along a stroke of constant width).
    """
    brush = params or BrushParams()
    if not 0.0 <= end_load < start_load <= 1.0:
        raise ValueError(f'need 0 <= end_load < start_load <= 1, got {end_load}, {start_load}')
    depth = float(brush.depth_for_width(width_m))
    if float(brush.width_at_depth(depth)) < 0.99 * width_m:
        raise ValueError(f'the brush cannot write {width_m * 1e3:.1f} mm wide strokes')
    centreline_points = int(round(STROKE_LENGTH_M / 0.0005)) + 1
    centreline = np.column_stack(
        [np.linspace(0.0, STROKE_LENGTH_M, centreline_points), np.zeros(centreline_points)]
    )
    area_per_stroke = stroke_area_m2(centreline, np.full(centreline_points, width_m))
    load, area, strokes = start_load, 0.0, 0
    while True:
        render = render_path(*_stroke(0.01, 0.01, depth), brush, ink_load=load)
        strokes += 1
        if render.ink_load_end <= end_load:
            fraction = (load - end_load) / max(load - render.ink_load_end, 1e-12)
            area += fraction * area_per_stroke
            break
        area += area_per_stroke
        load = render.ink_load_end
        if strokes > 10_000:
            raise RuntimeError('the brush never runs dry')
    return CapacityMeasurement(
        width_m, start_load, end_load, area / (start_load - end_load), strokes
    )


def measure_ink_capacity(quick: bool = False) -> dict:
    """Figures of `calligraphy bench ink_capacity` (nominal brush; areas in mm²)."""
    config = InkBudgetConfig()
    widths = (0.001, 0.004) if quick else (0.0005, 0.001, 0.002, 0.003, 0.005)
    figures: dict = {}
    for width in widths:
        working = measure_area_per_load(width, config.wipe_target_load, config.floor_load)
        whole = measure_area_per_load(width, 1.0, config.floor_load)
        key = f'{width * 1e4:.0f}e-1mm'
        figures[f'area_per_load_mm2_wipe_to_floor_{key}'] = round(working.area_per_load_m2 * 1e6)
        figures[f'area_mm2_full_to_floor_{key}'] = round(
            whole.area_per_load_m2 * (1.0 - config.floor_load) * 1e6
        )
    working = [v for k, v in figures.items() if k.startswith('area_per_load')]
    figures['capacity_m2_default_mm2'] = round(config.capacity_m2 * 1e6)
    figures['capacity_margin'] = round(min(working) / (config.capacity_m2 * 1e6) - 1.0, 3)
    return figures
