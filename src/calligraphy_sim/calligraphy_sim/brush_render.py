"""Render timed brush paths into ink-density canvases: one path, or a batch of paths at once.

Raster convention: :mod:`calligraphy_model.raster` (float32 canvases, 0 = bare paper, 1 = full
ink, row 0 at the top of their :class:`~calligraphy_model.raster.PixelGrid`).

How a path is drawn: the brush state is integrated per step (:mod:`calligraphy_sim.brush_model`),
then drawn and shaded (:mod:`calligraphy_sim.footprint_raster`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from calligraphy_model.brush import BrushParams
from calligraphy_model.raster import DEFAULT_MPP, PixelGrid
from calligraphy_sim.brush_model import (
    BrushTrace,
    params_table,
    resample,
    simulate,
    validate_path,
)
from calligraphy_sim.footprint_raster import BristleSet, rasterise


@dataclass(frozen=True)
class StrokeRender:
    """The ink one path laid down.

    Attributes:
        ink: float32 (rows, cols) ink density of this path alone (0 paper .. 1 full ink).
        region: where ``ink`` lies on the paper.
        ink_load_start: load when the path began (0..1).
        ink_load_end: load left after it (0..1).
        trace: the brush state per step (batch axis of length 1).
    """

    ink: np.ndarray
    region: PixelGrid
    ink_load_start: float
    ink_load_end: float
    trace: BrushTrace


def render_path(
    x_m: np.ndarray,
    y_m: np.ndarray,
    depth_m: np.ndarray,
    t_s: np.ndarray,
    params: BrushParams | None = None,
    *,
    ink_load: float = 1.0,
    metres_per_pixel: float = DEFAULT_MPP,
    region: PixelGrid | None = None,
    seed: int = 0,
) -> StrokeRender:
    """Render one timed holder path with a fresh-arriving brush.

    Args:
        x_m, y_m: (N,) holder axis on the paper (m, paper frame).
        depth_m: (N,) pressing depth d = -z of the brush tip (m); ink only where d > 0.
        t_s: (N,) time (s), non-decreasing.
        params: the brush (nominal when None).
        ink_load: load at the start (0..1).
        metres_per_pixel: raster pitch (m/px); ignored when ``region`` is given.
        region: canvas to draw into; by default a tight box around the ink on the global pixel
            lattice (so it composites onto a sheet at the same pitch without resampling).
        seed: seeds the bristle streak pattern; the same seed gives the same canvas.
    """
    (render,) = render_batch(
        x_m,
        y_m,
        depth_m,
        t_s,
        params,
        ink_load=ink_load,
        metres_per_pixel=metres_per_pixel,
        region=region,
        seeds=[seed],
    )
    return render


def render_batch(
    x_m: np.ndarray,
    y_m: np.ndarray,
    depth_m: np.ndarray,
    t_s: np.ndarray,
    params: BrushParams | Sequence[BrushParams] | None = None,
    *,
    ink_load: float | np.ndarray = 1.0,
    metres_per_pixel: float = DEFAULT_MPP,
    region: PixelGrid | None = None,
    seeds: Sequence[int] | None = None,
    seed: int = 0,
) -> list[StrokeRender]:
    """Render B paths at once (vectorised brush dynamics and shading), one canvas per path.

    Args:
        x_m, y_m, depth_m, t_s: (B, N) arrays (or (N,) for one path), as in :func:`render_path`.
        params: one brush for all paths, or a sequence of B brushes (nominal when None).
        ink_load: load at the start, scalar or (B,).
        metres_per_pixel: raster pitch (m/px) of the tight per-path canvases.
        region: when given, every path is drawn into a canvas of this region (so the results
            stack into one (B, rows, cols) array); ink outside it is cut off.
        seeds: per-path streak seeds; by default ``seed + i`` for path i.
        seed: base seed when ``seeds`` is None.

    Returns:
        One :class:`StrokeRender` per path, in order. Path i is identical to
        ``render_path(..., seed=seeds[i])`` of the same path.
    """
    path = validate_path(x_m, y_m, depth_m, t_s)
    batch = path.shape[0]
    params = BrushParams() if params is None else params
    table = params_table(params, batch)
    mpp = region.metres_per_pixel if region is not None else float(metres_per_pixel)
    if not mpp > 0.0:
        raise ValueError(f'metres_per_pixel must be positive, got {mpp}')
    if seeds is None:
        seeds = [seed + i for i in range(batch)]
    if len(seeds) != batch:
        raise ValueError(f'got {len(seeds)} seeds for {batch} paths')
    load0 = np.broadcast_to(np.asarray(ink_load, dtype=np.float64), (batch,))
    if np.any((load0 < 0.0) | (load0 > 1.0)):
        raise ValueError('ink_load must lie in [0, 1]')
    samples, counts = resample(path, step_m=mpp)
    trace, carry = simulate(samples, table, load0)
    # Padding repeats a path's last sample: nothing new to draw there.
    trace.in_contact[np.arange(trace.depth.shape[1]) >= counts[:, None]] = False
    bristles = [
        BristleSet.for_brush(int(n), s) for n, s in zip(table['bristle_count'], seeds, strict=True)
    ]
    inks, regions = rasterise(trace, table, bristles, mpp, region)
    return [
        StrokeRender(
            ink=inks[b],
            region=regions[b],
            ink_load_start=float(load0[b]),
            ink_load_end=float(carry.ink_load[b]),
            trace=_trace_row(trace, b),
        )
        for b in range(batch)
    ]


def _trace_row(trace: BrushTrace, b: int) -> BrushTrace:
    return BrushTrace(**{k: v[b : b + 1] for k, v in trace.__dict__.items()})
