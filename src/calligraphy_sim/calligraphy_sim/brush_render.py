"""Render timed brush paths into ink-density canvases: one path, or a batch of paths at once.

Raster convention (shared by the whole cell): a float32 array, 0 = bare paper, 1 = full ink;
row 0 is the top of the region (largest paper y), column 0 its left edge. Pixel (i, j) has its
centre at x = x0 + (j + 0.5) * mpp, y = y0 + rows * mpp - (i + 0.5) * mpp for a region whose
lower-left corner is (x0, y0) in the paper frame (metres).

How a path is drawn: the brush state is integrated per step (:mod:`calligraphy_sim.brush_model`);
each step's teardrop footprint is filled as a convex polygon into an index image (the earliest step
touching a pixel wins, since that is the wettest pass over it); every inked pixel is then shaded
from the step that inked it: darkness from the ink load, and dry-brush streaks from the bristle
under it (its lateral position in the footprint picks a bristle; bristles with a high dryness rank,
and those at the edges, stop inking first as the load falls). A light Gaussian blur stands for the
paper's feathering and anti-aliases the edge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from calligraphy_sim.brush_model import (
    BrushTrace,
    params_table,
    resample,
    simulate,
    validate_path,
)
from calligraphy_sim.brush_params import BrushParams

DEFAULT_MPP = 0.00025
# Vertices of the footprint polygon on the belly arc and on the tip arc.
_BELLY_VERTICES = 14
_TIP_VERTICES = 6
# Draw the footprint swept over this many steps (of one pixel each) per polygon.
_DRAW_EVERY = 4
# Sub-pixel bits for cv2's polygon fill.
_SHIFT = 4
# Softness of a bristle's switch from inking to dry, in units of dryness rank.
_STREAK_SOFTNESS = 0.12
# Feathering of the paper at full load (m) besides the anti-aliasing blur of ~0.4 px.
_AA_SIGMA_PX = 0.4


@dataclass(frozen=True)
class CanvasRegion:
    """A rectangle of the paper frame rasterised at ``metres_per_pixel``.

    Attributes:
        x0_m, y0_m: lower-left corner in the paper frame (m).
        rows, cols: raster size (pixels); row 0 is the top edge.
        metres_per_pixel: pixel pitch (m/px).
    """

    x0_m: float
    y0_m: float
    rows: int
    cols: int
    metres_per_pixel: float = DEFAULT_MPP

    def __post_init__(self) -> None:
        if self.rows < 1 or self.cols < 1:
            raise ValueError(f'a canvas needs at least one pixel, got {self.rows}x{self.cols}')
        if not self.metres_per_pixel > 0.0:
            raise ValueError(f'metres_per_pixel must be positive, got {self.metres_per_pixel}')

    @classmethod
    def from_extent(
        cls, x0_m: float, y0_m: float, width_m: float, height_m: float, mpp: float = DEFAULT_MPP
    ) -> CanvasRegion:
        """The region covering width_m x height_m from its lower-left corner (rounded up)."""
        return cls(x0_m, y0_m, max(1, round(height_m / mpp)), max(1, round(width_m / mpp)), mpp)

    @property
    def top_m(self) -> float:
        """Paper y of the region's top edge (m)."""
        return self.y0_m + self.rows * self.metres_per_pixel

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    def to_pixel(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Paper (x, y) in metres -> (column, row) as floats, pixel centres at integers."""
        col = (np.asarray(x_m) - self.x0_m) / self.metres_per_pixel - 0.5
        row = (self.top_m - np.asarray(y_m)) / self.metres_per_pixel - 0.5
        return col, row

    def pixel_centres(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) indices -> paper (x, y) of the pixel centres (m)."""
        x = self.x0_m + (np.asarray(cols) + 0.5) * self.metres_per_pixel
        y = self.top_m - (np.asarray(rows) + 0.5) * self.metres_per_pixel
        return x, y


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
    region: CanvasRegion
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
    region: CanvasRegion | None = None,
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
    region: CanvasRegion | None = None,
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


@dataclass(frozen=True)
class BristleSet:
    """Which bristles run dry first, and how that wanders along the stroke (one brush).

    Attributes:
        rank: (n,) dryness rank per bristle bundle, uniform in 0..1 (high = dries first).
        wave: (n, 4) two along-stroke waves per bristle: angular wavenumber (rad/m) and phase.
    """

    rank: np.ndarray
    wave: np.ndarray

    @classmethod
    def for_brush(cls, count: int, seed: int) -> BristleSet:
        rng = np.random.default_rng(seed)
        rank = rng.uniform(0.0, 1.0, count)
        # Wavelengths 10-40 mm: a dry streak runs along the stroke for a centimetre or more.
        wavenumber = 2.0 * np.pi / rng.uniform(0.010, 0.040, (count, 2))
        phase = rng.uniform(0.0, 2.0 * np.pi, (count, 2))
        return cls(rank=rank, wave=np.concatenate([wavenumber, phase], axis=1))


def _trace_row(trace: BrushTrace, b: int) -> BrushTrace:
    return BrushTrace(**{k: v[b : b + 1] for k, v in trace.__dict__.items()})


def _blur_sigma_px(spread_m: np.ndarray, mpp: float) -> np.ndarray:
    return np.hypot(_AA_SIGMA_PX, 0.5 * spread_m / mpp)


@dataclass(frozen=True)
class _Steps:
    """Geometry and ink of the inking steps of a batch, flattened (one row per step)."""

    stroke: np.ndarray  # (n,) path index
    step: np.ndarray  # (n,) step index within the path
    belly: np.ndarray  # (n, 2) m
    direction: np.ndarray  # (n, 2) unit vector belly -> tip
    length: np.ndarray  # (n,) belly-to-tip distance (0 when the tip is inside the belly)
    belly_radius: np.ndarray
    tip_radius: np.ndarray
    ink_load: np.ndarray
    travel_m: np.ndarray

    @classmethod
    def from_trace(cls, trace: BrushTrace) -> _Steps:
        on = trace.in_contact & (trace.ink_load > 0.0)
        stroke, step = np.nonzero(on)
        belly = trace.belly_xy[stroke, step]
        tip = trace.tip_xy[stroke, step]
        rb = trace.belly_radius[stroke, step]
        rt = trace.tip_radius[stroke, step]
        axis = tip - belly
        length = np.hypot(axis[:, 0], axis[:, 1])
        # A tip circle inside the belly circle: the footprint is the belly circle alone, and its
        # bristle rows lie across the x axis.
        inside = length <= (rb - rt) + 1e-9
        direction = np.where(
            inside[:, None], np.array([1.0, 0.0]), axis / np.maximum(length, 1e-12)[:, None]
        )
        return cls(
            stroke=stroke,
            step=step,
            belly=belly,
            direction=direction,
            length=np.where(inside, 0.0, length),
            belly_radius=rb,
            tip_radius=np.where(inside, rb, rt),
            ink_load=trace.ink_load[stroke, step],
            travel_m=trace.travel_m[stroke, step],
        )

    def outlines(self, inset_m: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(n, V, 2) footprint outlines (m) and their outward unit normals at the vertices.

        Vertices run counter-clockwise: the belly arc, then the tip arc, on common tangents.

        ``inset_m`` shrinks both circles (never below a quarter of it), to offset a fill that
        includes every pixel the outline touches.
        """
        floor = 0.25 * inset_m
        rb = np.maximum(self.belly_radius - inset_m, floor)
        rt = np.maximum(self.tip_radius - inset_m, floor)
        length = self.length
        cos_t = np.where(length > 0.0, (rb - rt) / np.maximum(length, 1e-12), 0.0)
        theta = np.arccos(np.clip(cos_t, -1.0, 1.0))[:, None]
        belly_angles = theta + np.linspace(0.0, 1.0, _BELLY_VERTICES) * (2.0 * np.pi - 2 * theta)
        tip_angles = theta * np.linspace(-1.0, 1.0, _TIP_VERTICES)
        angles = np.concatenate([belly_angles, tip_angles], axis=1)
        radius = np.concatenate(
            [np.repeat(rb[:, None], _BELLY_VERTICES, 1), np.repeat(rt[:, None], _TIP_VERTICES, 1)],
            axis=1,
        )
        along = np.concatenate(
            [np.zeros((rb.size, _BELLY_VERTICES)), np.repeat(length[:, None], _TIP_VERTICES, 1)],
            axis=1,
        )
        cos, sin = np.cos(angles), np.sin(angles)
        c = along + radius * cos
        s = radius * sin
        dx, dy = self.direction[:, 0:1], self.direction[:, 1:2]
        x = self.belly[:, 0:1] + c * dx - s * dy
        y = self.belly[:, 1:2] + c * dy + s * dx
        normal = np.stack([cos * dx - sin * dy, cos * dy + sin * dx], axis=-1)
        return np.stack([x, y], axis=-1), normal

    def sweeps(self, inset_m: float, every: int) -> tuple[np.ndarray, np.ndarray]:
        """Polygons covering the footprint swept from every ``every``-th step to the next one.

        Returns (P, 2V, 2) outlines (m) and (P,) the step (row of self) that owns each. A sweep is
        the footprint's Minkowski sum with its motion, vertex by vertex: vertices facing back keep
        their old place, those facing the motion take the new one, and where the two meet both are
        kept. Exact for a translating footprint; a turning one is covered to within its change.
        """
        outline, normal = self.outlines(inset_m)
        n = self.stroke.size
        new_run = np.ones(n, dtype=bool)
        new_run[1:] = (self.stroke[1:] != self.stroke[:-1]) | (self.step[1:] != self.step[:-1] + 1)
        run = np.cumsum(new_run)
        run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0))
        last = np.ones(n, dtype=bool)
        last[:-1] = new_run[1:]
        drawn = np.flatnonzero(((np.arange(n) - run_start) % every == 0) | last)
        partner = np.append(drawn[1:], drawn[-1:])
        partner = np.where(run[partner] == run[drawn], partner, drawn)
        start, end = outline[drawn], outline[partner]
        back = np.sum(normal[drawn] * (end - start), axis=-1) < 0.0
        next_back = np.roll(back, -1, axis=1)
        first = np.where(back[..., None], start, end)
        second = np.where((back & ~next_back)[..., None], end, first)
        second = np.where((~back & next_back)[..., None], start, second)
        polygons = np.stack([first, second], axis=2).reshape(drawn.size, -1, 2)
        return polygons, drawn


def rasterise(
    trace: BrushTrace,
    table: dict[str, np.ndarray],
    bristles: Sequence[BristleSet],
    mpp: float,
    region: CanvasRegion | None = None,
) -> tuple[list[np.ndarray], list[CanvasRegion]]:
    """Draw every path of a trace into its own canvas (``region`` or a tight box); see module."""
    batch = trace.depth.shape[0]
    steps = _Steps.from_trace(trace)
    sigma_px = _blur_sigma_px(table['paper_spread_m'], mpp)
    margin_px = np.ceil(3.0 * sigma_px).astype(int) + 1
    if steps.stroke.size:
        # cv2 fills every pixel the outline touches: half a pixel too wide on each side.
        outline, owner_step = steps.sweeps(inset_m=0.5 * mpp, every=_DRAW_EVERY)
    else:
        outline, owner_step = np.zeros((0, 1, 2)), np.zeros(0, dtype=int)
    bounds = np.searchsorted(steps.stroke[owner_step], np.arange(batch + 1))

    lows = outline.min(axis=1)
    highs = outline.max(axis=1)
    regions: list[CanvasRegion] = []
    for b in range(batch):
        lo_k, hi_k = bounds[b], bounds[b + 1]
        if region is not None:
            regions.append(region)
        elif hi_k > lo_k:
            lo = np.floor(lows[lo_k:hi_k].min(axis=0) / mpp).astype(int) - margin_px[b]
            hi = np.ceil(highs[lo_k:hi_k].max(axis=0) / mpp).astype(int) + margin_px[b]
            x0, y0 = float(lo[0] * mpp), float(lo[1] * mpp)
            regions.append(CanvasRegion(x0, y0, int(hi[1] - lo[1]), int(hi[0] - lo[0]), mpp))
        else:
            x, y = trace.holder_xy[b, -1]
            x0, y0 = float(math.floor(x / mpp) * mpp), float(math.floor(y / mpp) * mpp)
            regions.append(CanvasRegion(x0, y0, 1, 1, mpp))

    # Outlines in each path's own pixel grid, fixed point for cv2's sub-pixel fill.
    x0 = np.array([r.x0_m for r in regions])[steps.stroke[owner_step]]
    top = np.array([r.top_m for r in regions])[steps.stroke[owner_step]]
    scale = float(1 << _SHIFT)
    col = ((outline[..., 0] - x0[:, None]) / mpp - 0.5) * scale
    row = ((top[:, None] - outline[..., 1]) / mpp - 0.5) * scale
    # Clip keeps coordinates inside int32 even for a region far from the ink.
    points = np.clip(np.rint(np.stack([col, row], axis=-1)), -(2**26), 2**26).astype(np.int32)

    inks: list[np.ndarray] = []
    owners, pixel_x, pixel_y, placed = [], [], [], []
    for b, reg in enumerate(regions):
        index = np.zeros(reg.shape, dtype=np.int32)
        # Later steps first, so the earliest (wettest) step that reaches a pixel owns it.
        for k in range(bounds[b + 1] - 1, bounds[b] - 1, -1):
            cv2.fillConvexPoly(index, points[k], int(owner_step[k]) + 1, cv2.LINE_8, _SHIFT)
        rows, cols = np.nonzero(index)
        owners.append(index[rows, cols] - 1)
        x, y = reg.pixel_centres(rows, cols)
        pixel_x.append(x)
        pixel_y.append(y)
        placed.append((rows, cols))
        inks.append(np.zeros(reg.shape, dtype=np.float32))
    owner = np.concatenate(owners)
    if owner.size == 0:
        return inks, regions
    density = _shade(
        steps, table, bristles, owner, np.concatenate(pixel_x), np.concatenate(pixel_y)
    )
    start = 0
    for b, (rows, cols) in enumerate(placed):
        if rows.size == 0:
            continue
        ink = inks[b]
        ink[rows, cols] = density[start : start + rows.size]
        start += rows.size
        cv2.GaussianBlur(ink, (0, 0), float(sigma_px[b]), dst=ink)
        np.clip(ink, 0.0, 1.0, out=ink)
    return inks, regions


def _shade(
    steps: _Steps,
    table: dict[str, np.ndarray],
    bristles: Sequence[BristleSet],
    owner: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
) -> np.ndarray:
    """Ink density of each inked pixel (paper x, y) from the step ``owner`` that inked it."""
    # Per-step quantities first (few rows), packed so that each pixel gathers its step once.
    stroke = steps.stroke
    load = np.clip(steps.ink_load, 0.0, 1.0)
    coverage = np.clip(load / table['dry_onset_load'][stroke], 0.0, 1.0)
    floor = table['darkness_at_empty'][stroke]
    widest = max(len(s.rank) for s in bristles)
    length = steps.length
    per_step = np.stack(
        [
            steps.belly[:, 0],
            steps.belly[:, 1],
            steps.direction[:, 0],
            steps.direction[:, 1],
            np.where(length > 0.0, 1.0 / np.maximum(length, 1e-12), 0.0),
            steps.belly_radius,
            steps.tip_radius - steps.belly_radius,
            1.6 * coverage - 0.25,
            floor + (1.0 - floor) * np.sqrt(load),
            steps.travel_m,
            table['bristle_count'][stroke],
            stroke * widest,
            0.7 * table['streak_noise'][stroke],
        ],
        axis=1,
    ).astype(np.float32)
    g = per_step[owner]
    rel_x = px.astype(np.float32) - g[:, 0]
    rel_y = py.astype(np.float32) - g[:, 1]
    along = rel_x * g[:, 2] + rel_y * g[:, 3]
    across = rel_y * g[:, 2] - rel_x * g[:, 3]
    frac = np.minimum(np.maximum(along * g[:, 4], 0.0), 1.0)
    radius = np.maximum(g[:, 5] + g[:, 6] * frac, 1e-9)
    lateral = np.minimum(np.maximum(across / radius, -1.0), 1.0)

    per_bristle = np.zeros((len(bristles), widest, 5), dtype=np.float32)
    per_bristle[..., 0] = 1.0
    for b, s in enumerate(bristles):
        per_bristle[b, : len(s.rank), 0] = s.rank
        per_bristle[b, : len(s.rank), 1:] = s.wave
    count = g[:, 10]
    bristle = np.minimum((lateral + 1.0) * 0.5 * count, count - 1.0).astype(np.int64)
    h = per_bristle.reshape(-1, 5)[g[:, 11].astype(np.int64) + bristle]
    travel = g[:, 9]
    wander = np.sin(h[:, 1] * travel + h[:, 3]) + np.sin(h[:, 2] * travel + h[:, 4])
    # Edges of the footprint carry less ink and press less: they dry first.
    dryness = 0.75 * h[:, 0] + 0.25 * lateral * lateral + g[:, 12] * wander
    inking = np.minimum(np.maximum((g[:, 7] - dryness) / _STREAK_SOFTNESS + 0.5, 0.0), 1.0)
    return inking * g[:, 8]


def measure_width_along(
    ink: np.ndarray,
    region: CanvasRegion,
    centreline_xy: np.ndarray,
    *,
    threshold: float = 0.25,
    max_half_width_m: float = 0.006,
) -> np.ndarray:
    """Ink width (m) across a centreline, measured on a canvas: one value per centreline point.

    At each point the canvas is sampled along the normal of the centreline (half-pixel steps,
    nearest pixel) out to ``max_half_width_m`` on both sides; the width is the extent between the
    outermost samples at or above ``threshold`` (so dry-brush gaps inside a stroke do not cut it).
    0 where nothing is inked on the normal.

    Args:
        ink: float32 canvas of ``region``.
        region: where the canvas lies.
        centreline_xy: (N, 2) points in the paper frame (m), N >= 2, in stroke order.
    """
    line = np.asarray(centreline_xy, dtype=np.float64)
    if line.ndim != 2 or line.shape[1] != 2 or line.shape[0] < 2:
        raise ValueError(f'centreline_xy must be (N >= 2, 2), got {line.shape}')
    tangent = np.gradient(line, axis=0)
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    tangent = tangent / np.maximum(norm, 1e-12)[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    step = 0.5 * region.metres_per_pixel
    offsets = np.arange(-max_half_width_m, max_half_width_m + 0.5 * step, step)
    pts = line[:, None, :] + offsets[None, :, None] * normal[:, None, :]
    col, row = region.to_pixel(pts[..., 0], pts[..., 1])
    col = np.rint(col).astype(np.int64)
    row = np.rint(row).astype(np.int64)
    valid = (col >= 0) & (col < region.cols) & (row >= 0) & (row < region.rows)
    values = np.zeros(pts.shape[:2], dtype=np.float32)
    values[valid] = ink[row[valid], col[valid]]
    inked = values >= threshold
    any_ink = inked.any(axis=1)
    first = np.argmax(inked, axis=1)
    last = inked.shape[1] - 1 - np.argmax(inked[:, ::-1], axis=1)
    width = (last - first + 1) * step
    return np.where(any_ink, width, 0.0)
