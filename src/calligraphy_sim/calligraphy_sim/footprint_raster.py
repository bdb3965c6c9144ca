"""Drawing a brush trace into canvases: footprint outlines, the swept fill and the shading.

Each step's teardrop footprint is filled as a convex polygon into an index image (the earliest step
touching a pixel wins, since that is the wettest pass over it); every inked pixel is then shaded
from the step that inked it: darkness from the ink load (the deposit law of
:mod:`calligraphy_model.brush`), and dry-brush streaks from the bristle under it (its lateral
position in the footprint picks a bristle; bristles with a high dryness rank, and those at the
edges, stop inking first as the load falls). A light Gaussian blur stands for the paper's
feathering and anti-aliases the edge. Canvases follow :mod:`calligraphy_model.raster`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import cv2
import numpy as np

from calligraphy_model.brush import deposit_density, inking_fraction
from calligraphy_model.raster import PixelGrid
from calligraphy_sim.brush_model import BrushTrace

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
class BristleSet:
    """Which bristles run dry first, and how that wanders along the stroke (one brush).

    Attributes:
        rank: (n,) dryness rank per bristle bundle, uniform in 0..1 (high = dries first).
        wave: (n, 4) two along-stroke waves per bristle: wavenumbers (rad/m) 1 and 2, then
            phases 1 and 2.
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


def _blur_sigma_px(spread_m: np.ndarray, mpp: float) -> np.ndarray:
    return np.hypot(_AA_SIGMA_PX, 0.5 * spread_m / mpp)


@dataclass(frozen=True)
class FootprintSteps:
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
    def from_trace(cls, trace: BrushTrace) -> FootprintSteps:
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
    region: PixelGrid | None = None,
) -> tuple[list[np.ndarray], list[PixelGrid]]:
    """Draw every path of a trace into its own canvas (``region`` or a tight box); see module."""
    batch = trace.depth.shape[0]
    steps = FootprintSteps.from_trace(trace)
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
    regions: list[PixelGrid] = []
    for b in range(batch):
        lo_k, hi_k = bounds[b], bounds[b + 1]
        if region is not None:
            regions.append(region)
        elif hi_k > lo_k:
            lo = np.floor(lows[lo_k:hi_k].min(axis=0) / mpp).astype(int) - margin_px[b]
            hi = np.ceil(highs[lo_k:hi_k].max(axis=0) / mpp).astype(int) + margin_px[b]
            x0, y0 = float(lo[0] * mpp), float(lo[1] * mpp)
            regions.append(PixelGrid(x0, y0, int(hi[1] - lo[1]), int(hi[0] - lo[0]), mpp))
        else:
            x, y = trace.holder_xy[b, -1]
            x0, y0 = float(math.floor(x / mpp) * mpp), float(math.floor(y / mpp) * mpp)
            regions.append(PixelGrid(x0, y0, 1, 1, mpp))

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


class _StepColumn(IntEnum):
    """Columns of the per-step table :func:`_shade` gathers once per pixel."""

    BELLY_X = 0
    BELLY_Y = 1
    DIRECTION_X = 2
    DIRECTION_Y = 3
    INVERSE_LENGTH = 4  # 1 / belly-to-tip distance (0 for a round footprint)
    BELLY_RADIUS = 5
    RADIUS_CHANGE = 6  # tip radius − belly radius
    INKING_LEVEL = 7  # dryness below which a bristle still inks
    DENSITY = 8  # ink density laid where it inks (deposit law)
    TRAVEL = 9  # distance travelled since the last reload (m)
    BRISTLE_COUNT = 10
    BRISTLE_OFFSET = 11  # the brush's first row in the flattened bristle table
    WANDER = 12  # amplitude of the along-stroke streak wander


class _BristleColumn(IntEnum):
    """Columns of the per-bristle table: dryness rank, two waves (wavenumber, phase)."""

    RANK = 0
    WAVENUMBER_1 = 1
    WAVENUMBER_2 = 2
    PHASE_1 = 3
    PHASE_2 = 4


def _shade(
    steps: FootprintSteps,
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
    coverage = inking_fraction(load, table['dry_onset_load'][stroke])
    widest = max(len(s.rank) for s in bristles)
    length = steps.length
    columns = {
        _StepColumn.BELLY_X: steps.belly[:, 0],
        _StepColumn.BELLY_Y: steps.belly[:, 1],
        _StepColumn.DIRECTION_X: steps.direction[:, 0],
        _StepColumn.DIRECTION_Y: steps.direction[:, 1],
        _StepColumn.INVERSE_LENGTH: np.where(length > 0.0, 1.0 / np.maximum(length, 1e-12), 0.0),
        _StepColumn.BELLY_RADIUS: steps.belly_radius,
        _StepColumn.RADIUS_CHANGE: steps.tip_radius - steps.belly_radius,
        _StepColumn.INKING_LEVEL: 1.6 * coverage - 0.25,
        _StepColumn.DENSITY: deposit_density(load, table['darkness_at_empty'][stroke]),
        _StepColumn.TRAVEL: steps.travel_m,
        _StepColumn.BRISTLE_COUNT: table['bristle_count'][stroke],
        _StepColumn.BRISTLE_OFFSET: stroke * widest,
        _StepColumn.WANDER: 0.7 * table['streak_noise'][stroke],
    }
    per_step = np.stack([columns[c] for c in _StepColumn], axis=1).astype(np.float32)
    g = per_step[owner]
    rel_x = px.astype(np.float32) - g[:, _StepColumn.BELLY_X]
    rel_y = py.astype(np.float32) - g[:, _StepColumn.BELLY_Y]
    dir_x, dir_y = g[:, _StepColumn.DIRECTION_X], g[:, _StepColumn.DIRECTION_Y]
    along = rel_x * dir_x + rel_y * dir_y
    across = rel_y * dir_x - rel_x * dir_y
    frac = np.minimum(np.maximum(along * g[:, _StepColumn.INVERSE_LENGTH], 0.0), 1.0)
    radius = np.maximum(
        g[:, _StepColumn.BELLY_RADIUS] + g[:, _StepColumn.RADIUS_CHANGE] * frac, 1e-9
    )
    lateral = np.minimum(np.maximum(across / radius, -1.0), 1.0)

    per_bristle = np.zeros((len(bristles), widest, len(_BristleColumn)), dtype=np.float32)
    per_bristle[..., _BristleColumn.RANK] = 1.0
    for b, s in enumerate(bristles):
        per_bristle[b, : len(s.rank), _BristleColumn.RANK] = s.rank
        per_bristle[b, : len(s.rank), _BristleColumn.WAVENUMBER_1 :] = s.wave
    count = g[:, _StepColumn.BRISTLE_COUNT]
    bristle = np.minimum((lateral + 1.0) * 0.5 * count, count - 1.0).astype(np.int64)
    offset = g[:, _StepColumn.BRISTLE_OFFSET].astype(np.int64)
    h = per_bristle.reshape(-1, len(_BristleColumn))[offset + bristle]
    travel = g[:, _StepColumn.TRAVEL]
    wander = np.sin(h[:, _BristleColumn.WAVENUMBER_1] * travel + h[:, _BristleColumn.PHASE_1])
    wander += np.sin(h[:, _BristleColumn.WAVENUMBER_2] * travel + h[:, _BristleColumn.PHASE_2])
    # Edges of the footprint carry less ink and press less: they dry first.
    dryness = (
        0.75 * h[:, _BristleColumn.RANK]
        + 0.25 * lateral * lateral
        + g[:, _StepColumn.WANDER] * wander
    )
    level = g[:, _StepColumn.INKING_LEVEL]
    inking = np.minimum(np.maximum((level - dryness) / _STREAK_SOFTNESS + 0.5, 0.0), 1.0)
    return inking * g[:, _StepColumn.DENSITY]
