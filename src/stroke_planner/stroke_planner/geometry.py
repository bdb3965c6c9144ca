"""Polyline geometry: uniform arc-length resampling, raster sampling, ridge snapping."""

from __future__ import annotations

import cv2
import numpy as np


def resample_polyline(points: np.ndarray, step: float) -> np.ndarray:
    """Points at uniform arc length along a polyline, both ends kept.

    The spacing is the polyline's length divided into ceil(length / step) equal parts, so it is
    uniform and at most `step`. A polyline shorter than `step` keeps its two ends.
    """
    points = np.asarray(points, float)
    if len(points) < 2:
        return points.copy()
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    keep = np.concatenate([[True], seg > 1e-12])
    points, seg = points[keep], seg[seg > 1e-12]
    if len(points) < 2:
        return points[:1].copy()
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    count = max(int(np.ceil(arc[-1] / step - 1e-9)), 1)
    target = np.linspace(0.0, arc[-1], count + 1)
    return np.stack([np.interp(target, arc, points[:, k]) for k in range(2)], axis=1)


def tangents(points: np.ndarray) -> np.ndarray:
    """Unit tangents by central differences (one-sided at the ends)."""
    if len(points) < 2:
        return np.tile([1.0, 0.0], (len(points), 1))
    grad = np.gradient(points, axis=0)
    norm = np.linalg.norm(grad, axis=1, keepdims=True)
    return grad / np.maximum(norm, 1e-12)


def sample(image: np.ndarray, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Bilinear samples of a float image at (col, row) pixel-centre coordinates."""
    map_x = np.asarray(cols, np.float32).reshape(1, -1)
    map_y = np.asarray(rows, np.float32).reshape(1, -1)
    out = cv2.remap(
        np.ascontiguousarray(image, np.float32),
        map_x,
        map_y,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return out.reshape(np.shape(cols))


def snap_to_ridge(
    pixels: np.ndarray, distance: np.ndarray, reach_px: float, smooth: int = 7
) -> np.ndarray:
    """Move centreline points sideways onto the ridge of a distance transform.

    Each point looks along its normal within `reach_px` for the largest distance value (the
    middle of the stroke it lies in), with a small preference for staying put; the offsets are
    then median-filtered along the line so a point near a crossing stroke cannot jump across.

    Args:
        pixels: (N, 2) (col, row) positions in the distance image.
        distance: distance transform of the glyph mask, pixels.
        reach_px: largest sideways move, pixels.
        smooth: median filter length (points).
    """
    if len(pixels) < 2:
        return pixels.copy()
    normal = tangents(pixels)[:, ::-1] * np.array([1.0, -1.0])
    offsets = np.linspace(-reach_px, reach_px, int(2 * np.ceil(reach_px)) + 1)
    cols = pixels[:, :1] + normal[:, :1] * offsets
    rows = pixels[:, 1:] + normal[:, 1:] * offsets
    values = sample(distance, cols, rows)
    # Prefer small moves: a ridge one pixel higher is worth moving 10 pixels for, not more.
    score = values - 0.1 * np.abs(offsets)
    best = offsets[np.argmax(score, axis=1)]
    best[values.max(axis=1) <= 0.0] = 0.0
    if smooth > 1 and len(best) >= smooth:
        pad = smooth // 2
        padded = np.pad(best, pad, mode='edge')
        windows = np.lib.stride_tricks.sliding_window_view(padded, smooth)
        best = np.median(windows, axis=1)
    return pixels + normal * best[:, None]
