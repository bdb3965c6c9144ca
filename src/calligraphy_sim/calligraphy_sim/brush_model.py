"""Brush state along a timed tip path: footprint geometry, tip lag and ink load per step.

The holder path (paper frame x, y, pressing depth d = -z, time t) is resampled at a uniform step
in a combined measure of travel, depth change and dwell time, then integrated step by step:

- the bristles' bend ``v`` is an exponentially relaxed average of the direction of travel over the
  distance ``lag_relax_m`` (|v| = 1 after a long straight run, 0 at touch-down, shrinking when the
  brush reverses); the tip trails the holder by ``tip_lag_at_depth(d) * v`` and the belly centre by
  ``belly_lag_fraction`` of that, so after a corner the footprint keeps pointing the old way for a
  few millimetres (the corner is over-swept on the inside) and the end of a stroke depends on how
  the brush leaves the paper;
- the footprint is a teardrop: a belly circle of the width the depth gives, a small tip circle, and
  their common tangents; both grow by paper bleed (more with a wet brush, and with sqrt of the time
  the brush dwells on one spot);
- ink load falls by the newly inked area times the ink the brush lays down there, over the brush's
  ink capacity (the laws of :mod:`calligraphy_model.brush`: `footprint_width`,
  `ink_spent_per_area`).

Everything is vectorised over a leading batch axis: many strokes are integrated at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from calligraphy_model.brush import BrushParams, footprint_width, ink_spent_per_area

# Dwell time counts as travel at this speed when resampling (m/s): a 1 s press in place gets as
# many steps as 5 mm of travel, so a blot growing while the brush waits is drawn step by step.
DWELL_SPEED_M_S = 0.005
# Dwell longer than this (s) stops growing the bleed: the paper is saturated around the tip.
MAX_WICK_TIME_S = 2.0
# Length of one cell of the along-stroke streak noise (m).
STREAK_CELL_M = 0.0005
STREAK_TABLE_CELLS = 256


@dataclass(frozen=True)
class BrushCarry:
    """What the brushes remember at the end of a piece of path, to continue it later (batched).

    Attributes:
        bend: (B, 2) relaxed direction of travel (unitless, |bend| <= 1); zero off the paper.
        dwell_s: (B,) time the brush has spent around its current spot (s).
        travel_m: (B,) distance travelled on paper since the last reload (m); indexes streaks.
        ink_load: (B,) ink left in the brush (0..1).
    """

    bend: np.ndarray
    dwell_s: np.ndarray
    travel_m: np.ndarray
    ink_load: np.ndarray


@dataclass(frozen=True)
class BrushTrace:
    """Per-step brush state, arrays with a leading batch axis B and S steps.

    Attributes:
        holder_xy: (B, S, 2) holder axis on the paper (m).
        depth: (B, S) pressing depth (m); the brush inks only where depth > 0.
        t: (B, S) time (s).
        belly_xy: (B, S, 2) belly circle centre (m).
        tip_xy: (B, S, 2) tip circle centre (m).
        belly_radius: (B, S) belly radius including paper bleed (m).
        tip_radius: (B, S) tip radius including paper bleed (m).
        ink_load: (B, S) load while the step is inked (0..1).
        travel_m: (B, S) distance travelled on paper since the last reload (m).
        in_contact: (B, S) bool, depth > 0.
    """

    holder_xy: np.ndarray
    depth: np.ndarray
    t: np.ndarray
    belly_xy: np.ndarray
    tip_xy: np.ndarray
    belly_radius: np.ndarray
    tip_radius: np.ndarray
    ink_load: np.ndarray
    travel_m: np.ndarray
    in_contact: np.ndarray

    @property
    def width_m(self) -> np.ndarray:
        """(B, S) footprint width at each step, including bleed (m); 0 off the paper."""
        return np.where(self.in_contact, 2.0 * self.belly_radius, 0.0)


def params_table(params: BrushParams | Sequence[BrushParams], batch: int) -> dict[str, np.ndarray]:
    """Per-field (B,) arrays of brush parameters for a batch (one brush for all, or one each)."""
    if isinstance(params, BrushParams):
        params = [params] * batch
    if len(params) != batch:
        raise ValueError(f'got {len(params)} BrushParams for a batch of {batch} paths')
    fields = BrushParams.__dataclass_fields__
    return {
        name: np.array([getattr(p, name) for p in params], dtype=np.float64) for name in fields
    }


def validate_path(x: np.ndarray, y: np.ndarray, depth: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Stack (x, y, depth, t) into a (B, N, 4) float64 array, checking shapes and values.

    Accepts (N,) arrays for one path or (B, N) arrays for a batch. Raises ValueError on mismatched
    shapes, non-finite values or time running backwards.
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in (x, y, depth, t)]
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):
        raise ValueError(f'x, y, depth, t must have one shape, got {[a.shape for a in arrays]}')
    if len(shape) not in (1, 2) or shape[-1] < 1:
        raise ValueError(f'a path is (N,) or (B, N) with N >= 1 samples, got shape {shape}')
    path = np.stack(arrays, axis=-1)
    if path.ndim == 2:
        path = path[None]
    if not np.all(np.isfinite(path)):
        raise ValueError('path contains NaN or infinite values')
    if np.any(np.diff(path[..., 3], axis=-1) < 0.0):
        raise ValueError('time must not decrease along a path')
    return path


def resample(path: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample (B, N, 4) paths at a uniform step of combined travel (m).

    The measure adds travel in x, y, change of depth and dwell time (at DWELL_SPEED_M_S), so a
    corner, a press in place and a pause are all sampled finely. Each path gets its own number of
    steps (the fewest with steps no longer than ``step_m``), so a path samples the same in a batch
    as alone; shorter paths are padded to the longest by repeating their last sample.

    Returns:
        (B, S, 4) samples and (B,) the number of real (unpadded) steps of each path.
    """
    if step_m <= 0.0:
        raise ValueError(f'step_m must be positive, got {step_m}')
    delta = np.diff(path, axis=1)
    delta[..., 3] *= DWELL_SPEED_M_S
    increments = np.sqrt(np.sum(delta * delta, axis=-1))
    measure = np.concatenate([np.zeros((path.shape[0], 1)), np.cumsum(increments, axis=1)], 1)
    total = measure[:, -1]
    counts = np.maximum(2, np.ceil(total / step_m).astype(int) + 1)
    out = np.empty((path.shape[0], int(counts.max()), 4))
    for b in range(path.shape[0]):
        if total[b] <= 0.0:
            out[b] = path[b, -1]
            continue
        # Keep the first sample of a run of repeated measures (np.interp needs increasing xp).
        keep = np.concatenate([[True], np.diff(measure[b]) > 0.0])
        xp = measure[b, keep]
        grid = np.linspace(0.0, total[b], counts[b])
        for c in range(4):
            out[b, : counts[b], c] = np.interp(grid, xp, path[b, keep, c])
        out[b, counts[b] :] = out[b, counts[b] - 1]
    return out, counts


def simulate(
    samples: np.ndarray,
    table: dict[str, np.ndarray],
    ink_load: np.ndarray,
    carry: BrushCarry | None = None,
) -> tuple[BrushTrace, BrushCarry]:
    """Integrate the brush state over resampled holder samples (B, S, 4).

    Args:
        samples: (B, S, 4) x, y, depth, t per step, from :func:`resample`.
        table: per-field (B,) brush parameters from :func:`params_table`.
        ink_load: (B,) load at the first step (0..1).
        carry: the state at the end of the previous piece of this path, whose last sample must
            be the first of ``samples``; None for a brush arriving fresh (its ``ink_load`` wins
            over ``ink_load`` when given).
    """
    batch, steps = samples.shape[:2]
    holder = samples[..., :2]
    depth = samples[..., 2]
    t = samples[..., 3]
    contact = depth > 0.0
    p = table
    width = footprint_width(
        depth,
        p['touch_width_m'][:, None],
        p['belly_diameter_m'][:, None],
        p['width_slope'][:, None],
    )
    lag = np.where(contact, p['lag_slope'][:, None] * depth + p['lag_offset_m'][:, None], 0.0)

    move = np.zeros_like(holder)
    move[:, 1:] = holder[:, 1:] - holder[:, :-1]
    dist = np.hypot(move[..., 0], move[..., 1])
    dt = np.zeros_like(t)
    dt[:, 1:] = t[:, 1:] - t[:, :-1]
    alpha = 1.0 - np.exp(-dist / p['lag_relax_m'][:, None])
    gain = np.where(dist > 1e-12, alpha / np.maximum(dist, 1e-12), 0.0)
    # Dwell decays once the brush has moved on by about a belly radius.
    dwell_decay = np.exp(-dist / np.maximum(0.5 * width, 1e-4))

    bend_out = np.zeros((batch, steps, 2))
    dwell_out = np.zeros((batch, steps))
    load_out = np.zeros((batch, steps))
    travel_out = np.zeros((batch, steps))
    belly_xy = np.zeros((batch, steps, 2))
    tip_xy = np.zeros((batch, steps, 2))
    belly_r = np.zeros((batch, steps))
    tip_r = np.zeros((batch, steps))

    if carry is None:
        v = np.zeros((batch, 2))
        dwell = np.zeros(batch)
        travel = np.zeros(batch)
        load = np.broadcast_to(np.asarray(ink_load, dtype=np.float64), (batch,)).copy()
        # A fresh brush touches down at its first contact step (even at step 0).
        was_contact = np.zeros(batch, dtype=bool)
    else:
        v = np.array(carry.bend, dtype=np.float64).reshape(batch, 2)
        dwell = np.array(carry.dwell_s, dtype=np.float64).reshape(batch)
        travel = np.array(carry.travel_m, dtype=np.float64).reshape(batch)
        load = np.array(carry.ink_load, dtype=np.float64).reshape(batch)
        was_contact = contact[:, 0].copy()
    load = np.clip(load, 0.0, 1.0)
    prev_area = np.zeros(batch)
    prev_belly = holder[:, 0].copy()
    frac_belly = p['belly_lag_fraction']
    for k in range(steps):
        on = contact[:, k]
        stays = on & was_contact
        v = np.where(
            stays[:, None], v * (1.0 - alpha[:, k, None]) + move[:, k] * gain[:, k, None], 0.0
        )
        dwell = np.where(on, np.where(stays, dwell * dwell_decay[:, k], 0.0) + dt[:, k], 0.0)
        travel = travel + np.where(stays, dist[:, k], 0.0)
        bleed = p['paper_spread_m'] * load + p['wick_m_per_sqrt_s'] * np.sqrt(
            np.minimum(dwell, MAX_WICK_TIME_S)
        )
        rb = np.where(on, 0.5 * width[:, k] + bleed, 0.0)
        rt = np.where(on, np.minimum(p['tip_radius_m'] + 0.5 * bleed, rb), 0.0)
        tail = lag[:, k, None] * v
        belly = holder[:, k] - frac_belly[:, None] * tail
        tip = holder[:, k] - tail
        length = (1.0 - frac_belly) * lag[:, k] * np.hypot(v[:, 0], v[:, 1])
        area = np.where(on, 0.5 * np.pi * (rb * rb + rt * rt) + (rb + rt) * length, 0.0)
        swept = 2.0 * rb * np.hypot(*(belly - prev_belly).T)
        new_area = np.where(stays, swept + np.maximum(area - prev_area, 0.0), area)
        if k == 0 and carry is not None:
            # The first sample repeats the last one of the previous piece: already paid for.
            new_area = np.zeros(batch)
        load_out[:, k] = load
        # Dry bristles do not lay ink, so they do not spend it either.
        spent = ink_spent_per_area(load, p['dry_onset_load'], p['darkness_at_empty'])
        load = np.maximum(load - new_area * spent / p['ink_capacity_m2'], 0.0)
        bend_out[:, k] = v
        dwell_out[:, k] = dwell
        travel_out[:, k] = travel
        belly_xy[:, k] = belly
        tip_xy[:, k] = tip
        belly_r[:, k] = rb
        tip_r[:, k] = rt
        prev_area = area
        prev_belly = belly
        was_contact = on
    return BrushTrace(
        holder_xy=holder,
        depth=depth,
        t=t,
        belly_xy=belly_xy,
        tip_xy=tip_xy,
        belly_radius=belly_r,
        tip_radius=tip_r,
        ink_load=load_out,
        travel_m=travel_out,
        in_contact=contact,
    ), BrushCarry(bend=v, dwell_s=dwell, travel_m=travel, ink_load=load)
