"""Learning targets: per-stroke corrections found by iterative learning control on the simulator.

For each training (stroke, brush) pair the teacher knows the brush's hidden parameters and runs
the brush physics of calligraphy_sim (`brush_model.simulate`, batched over many strokes) a few
times, correcting the holder path after each run:

- depth: the planned width minus the footprint width the run produced, divided by the true brush's
  width slope at that depth (a Newton step on width(depth), bleed included);
- holder position: the planned centreline minus where the belly of the footprint actually was
  (tip lag and corner over-sweep), split into along-track and lateral offsets;
- width target: the planned width plus `width_margin_m` (see TrainConfig.width_margin_m);
- speed: nominal, except where even the deepest press cannot reach the planned width; there the
  teacher slows down so that capillary bleed widens the stroke.

The policy then regresses these corrections from what it can see (stroke geometry and the
camera-estimable brush state), which distils a privileged, per-brush optimiser into one network.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from brush_policy_node.config import ControllerConfig
from brush_policy_node.controllers import (
    DEPTH_OUTPUT_SCALE_M,
    OFFSET_OUTPUT_SCALE_M,
    timestamps,
)
from brush_policy_node.features import stroke_frames
from brush_policy_node.types import StrokeSpec
from brush_policy_node.width_model import TabulatedWidthModel
from calligraphy_model.brush import BrushParams
from calligraphy_sim.brush_model import params_table, resample, simulate

SIM_STEP_M = 0.00025
MIN_CONTACT_DEPTH_M = 2e-5
POSITION_GAIN = 0.8
MAX_OFFSET_M = 0.006


def footprint_at_points(
    xy: np.ndarray,
    depth: np.ndarray,
    t: np.ndarray,
    params: Sequence[BrushParams],
    ink_load: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate a batch of holder paths (B, N): belly centre (B, N, 2) and footprint width
    (B, N) at the paths' own point times, and the ink load (B,) after each path."""
    batch, n = depth.shape
    path = np.concatenate([xy, depth[..., None], t[..., None]], axis=2)
    samples = resample(path, SIM_STEP_M)
    if isinstance(samples, tuple):
        # (samples, real step counts): padding repeats the last sample, which inks nothing new.
        samples = samples[0]
    trace, carry = simulate(samples, params_table(list(params), batch), ink_load)
    belly = np.empty((batch, n, 2))
    width = np.empty((batch, n))
    for b in range(batch):
        ts = trace.t[b]
        # Later samples win at equal times (the trace repeats a time only in padding).
        belly[b, :, 0] = np.interp(t[b], ts, trace.belly_xy[b, :, 0])
        belly[b, :, 1] = np.interp(t[b], ts, trace.belly_xy[b, :, 1])
        width[b] = np.interp(t[b], ts, 2.0 * trace.belly_radius[b])
    return belly, width, carry.ink_load


def _pad(rows: list[np.ndarray], n: int) -> np.ndarray:
    return np.stack([np.concatenate([r, np.repeat(r[-1:], n - len(r), axis=0)]) for r in rows])


def teacher_corrections(
    strokes: Sequence[StrokeSpec],
    params: Sequence[BrushParams],
    ink_load: np.ndarray,
    nominal: TabulatedWidthModel,
    config: ControllerConfig,
    iterations: int = 6,
    width_margin_m: float = 0.0,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Raw policy targets (N_i, 4) per stroke and the ink load after each stroke (B,)."""
    batch = len(strokes)
    n = max(len(s.width_m) for s in strokes)
    lengths = np.array([len(s.width_m) for s in strokes])
    # Padding points repeat a stroke's last point with the brush lifted (no ink, no dwell).
    inside = np.arange(n)[None, :] < lengths[:, None]
    c = _pad([s.centreline_m for s in strokes], n)
    w = _pad([s.width_m for s in strokes], n)
    frames = [stroke_frames(s.centreline_m) for s in strokes]
    tangent = _pad([f[0] for f in frames], n)
    normal = _pad([f[1] for f in frames], n)
    tables = [
        TabulatedWidthModel.from_function(p.width_at_depth, config.max_depth_m) for p in params
    ]
    depth = np.stack([tables[b].depth_for_width(w[b]) for b in range(batch)])
    depth = np.clip(depth, MIN_CONTACT_DEPTH_M, config.max_depth_m)
    offset = np.zeros((batch, n, 2))
    log_speed = np.zeros((batch, n))
    speed_lo = np.log(config.speed_min_mps / config.speed_nominal_mps)
    load_after = np.asarray(ink_load, dtype=np.float64)
    for _ in range(iterations):
        speed = config.speed_nominal_mps * np.exp(log_speed)
        t = np.stack([timestamps(c[b], speed[b]) for b in range(batch)])
        xy = c + offset
        belly, width, load_after = footprint_at_points(xy, depth * inside, t, params, ink_load)
        width_error = w + width_margin_m * inside - width
        for b in range(batch):
            eps = 1e-4
            slope = (tables[b].width(depth[b] + eps) - tables[b].width(depth[b])) / eps
            depth[b] += width_error[b] / np.maximum(slope, 0.05)
        saturated = depth >= config.max_depth_m
        depth = np.clip(depth, MIN_CONTACT_DEPTH_M, config.max_depth_m)
        # Where pressing cannot widen any more, a slower brush bleeds wider.
        log_speed = np.where(
            saturated & (width_error > 0.0),
            np.maximum(log_speed - 0.5, speed_lo),
            np.minimum(log_speed + 0.25, 0.0),
        )
        offset = np.clip(offset + POSITION_GAIN * (c - belly), -MAX_OFFSET_M, MAX_OFFSET_M)
    nominal_depth = nominal.depth_for_width(w)
    along = np.einsum('bnd,bnd->bn', offset, tangent)
    lateral = np.einsum('bnd,bnd->bn', offset, normal)
    raw = np.stack(
        [
            (depth - nominal_depth) / DEPTH_OUTPUT_SCALE_M,
            along / OFFSET_OUTPUT_SCALE_M,
            lateral / OFFSET_OUTPUT_SCALE_M,
            log_speed,
        ],
        axis=2,
    )
    return [raw[b, : lengths[b]].astype(np.float32) for b in range(batch)], load_after
