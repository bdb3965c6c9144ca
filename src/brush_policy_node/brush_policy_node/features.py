"""Per-point policy inputs computed from a stroke and the estimable brush state.

Shared by training and runtime (numpy only), so the ONNX model sees exactly the features it was
trained on. Each centreline point gets a window of its neighbours in the point's own tangent
frame (so features do not depend on where on the sheet or in which direction the stroke is),
the planned widths in that window, the local curvature, where the point sits along the stroke,
how much ink the stroke has laid so far, the nominal (analytic) depth, and the brush state.
"""

from __future__ import annotations

import numpy as np

# Neighbours at every second point up to 8 on each side: +-8 mm at the planner's 0.5 mm step,
# enough to see a corner coming before the lagging tip reaches it.
WINDOW_HALF = 8
WINDOW_STRIDE = 2
# Scales that bring the inputs to O(1): metres of neighbour offset, of width, of curvature radius.
OFFSET_SCALE_M = 0.005
WIDTH_SCALE_M = 0.004
CURVATURE_SCALE_M = 0.003
END_SCALE_M = 0.01
LENGTH_SCALE_M = 0.05
INK_AREA_SCALE_M2 = 1.0e-4
DEPTH_SCALE_M = 0.003

PER_OFFSET = ('along', 'lateral', 'width')
POINT_FEATURES = (
    'width',
    'curvature',
    'arc_fraction',
    'from_start',
    'to_end',
    'length',
    'ink_laid',
    'analytic_depth',
    'ink_load',
    'width_gain',
)
FEATURE_NAMES = (
    tuple(
        f'{name}[{WINDOW_STRIDE * k:+d}]'
        for k in range(-WINDOW_HALF, WINDOW_HALF + 1)
        for name in PER_OFFSET
    )
    + POINT_FEATURES
)
N_FEATURES = len(FEATURE_NAMES)


def stroke_frames(centreline_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit tangents (N, 2), left normals (N, 2) and signed curvature (N,) in 1/m."""
    c = np.asarray(centreline_m, dtype=np.float64)
    d = np.gradient(c, axis=0)
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    tangent = d / np.maximum(norm, 1e-12)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    seg = np.diff(c, axis=0)
    seg_len = np.linalg.norm(seg, axis=1)
    heading = np.unwrap(np.arctan2(seg[:, 1], seg[:, 0]))
    curvature = np.zeros(len(c))
    if len(c) > 2:
        turn = np.diff(heading)
        curvature[1:-1] = turn / np.maximum(0.5 * (seg_len[1:] + seg_len[:-1]), 1e-12)
    return tangent, normal, curvature


def arc_length(centreline_m: np.ndarray) -> np.ndarray:
    seg = np.linalg.norm(np.diff(centreline_m, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


def stroke_features(
    centreline_m: np.ndarray,
    width_m: np.ndarray,
    analytic_depth_m: np.ndarray,
    ink_load: float,
    width_gain: float,
) -> np.ndarray:
    """Features (N, N_FEATURES) float32 of every centreline point."""
    c = np.asarray(centreline_m, dtype=np.float64)
    w = np.asarray(width_m, dtype=np.float64)
    n = len(c)
    tangent, normal, curvature = stroke_frames(c)
    s = arc_length(c)
    length = s[-1]
    offsets = WINDOW_STRIDE * np.arange(-WINDOW_HALF, WINDOW_HALF + 1)
    idx = np.clip(np.arange(n)[:, None] + offsets[None, :], 0, n - 1)
    rel = c[idx] - c[:, None, :]
    along = np.einsum('nkd,nd->nk', rel, tangent) / OFFSET_SCALE_M
    lateral = np.einsum('nkd,nd->nk', rel, normal) / OFFSET_SCALE_M
    widths = w[idx] / WIDTH_SCALE_M
    window = np.stack([along, lateral, widths], axis=2).reshape(n, -1)
    ds = np.gradient(s) if n > 1 else np.zeros(1)
    ink_laid = np.cumsum(w * ds) / INK_AREA_SCALE_M2
    point = np.stack(
        [
            w / WIDTH_SCALE_M,
            np.clip(curvature * CURVATURE_SCALE_M, -3.0, 3.0),
            s / max(length, 1e-12),
            np.minimum(s, END_SCALE_M) / END_SCALE_M,
            np.minimum(length - s, END_SCALE_M) / END_SCALE_M,
            np.full(n, length / LENGTH_SCALE_M),
            ink_laid,
            np.asarray(analytic_depth_m, dtype=np.float64) / DEPTH_SCALE_M,
            np.full(n, float(ink_load)),
            np.full(n, float(width_gain)),
        ],
        axis=1,
    )
    return np.concatenate([window, point], axis=1).astype(np.float32)
