"""Figures of EVALUATION.md on boolean masks, stroke widths measured on ink, confidence intervals.

Masks follow the raster contract: row 0 is the top of the region, column 0 its left edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, stats


@dataclass(frozen=True)
class Region:
    """A raster's place on the sheet: lower-left corner, size in pixels, metres per pixel."""

    x0_m: float
    y0_m: float
    rows: int
    cols: int
    metres_per_pixel: float

    @property
    def height_m(self) -> float:
        return self.rows * self.metres_per_pixel

    def to_pixel(self, xy_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) float indices of paper points (pixel centres at integer values)."""
        xy_m = np.asarray(xy_m, dtype=np.float64)
        col = (xy_m[..., 0] - self.x0_m) / self.metres_per_pixel - 0.5
        row = (self.y0_m + self.height_m - xy_m[..., 1]) / self.metres_per_pixel - 0.5
        return row, col


def glyph_iou(target: np.ndarray, written: np.ndarray) -> float:
    union = np.logical_or(target, written).sum()
    if union == 0:
        return float('nan')
    return float(np.logical_and(target, written).sum() / union)


def _contour(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask)


def chamfer_m(target: np.ndarray, written: np.ndarray, metres_per_pixel: float) -> float:
    """Mean symmetric distance between the contours of the two masks, metres."""
    ct, cw = _contour(target.astype(bool)), _contour(written.astype(bool))
    if not ct.any() or not cw.any():
        return float('nan')
    to_w = ndimage.distance_transform_edt(~cw)[ct]
    to_t = ndimage.distance_transform_edt(~ct)[cw]
    return float(0.5 * (to_w.mean() + to_t.mean()) * metres_per_pixel)


def measure_widths(
    mask: np.ndarray,
    region: Region,
    centreline_m: np.ndarray,
    normal: np.ndarray,
    max_half_width_m: float,
) -> np.ndarray:
    """Ink width across the centreline at every point, metres (0 where the centre has no ink).

    Walks outwards along the normal from each centreline point while the mask stays inked; the
    walk stops at `max_half_width_m`, so a crossing stroke cannot inflate a width without bound.
    """
    step = 0.5 * region.metres_per_pixel
    n_steps = max(int(np.ceil(max_half_width_m / step)), 1)
    u = np.arange(1, n_steps + 1) * step
    widths = np.zeros(len(centreline_m))

    def inked(points: np.ndarray) -> np.ndarray:
        row, col = region.to_pixel(points)
        r = np.rint(row).astype(int)
        c = np.rint(col).astype(int)
        inside = (r >= 0) & (r < region.rows) & (c >= 0) & (c < region.cols)
        out = np.zeros(r.shape, dtype=bool)
        out[inside] = mask[r[inside], c[inside]]
        return out

    centre = inked(centreline_m)
    for sign in (1.0, -1.0):
        pts = centreline_m[:, None, :] + sign * u[None, :, None] * normal[:, None, :]
        run = np.cumprod(inked(pts), axis=1)
        widths += run.sum(axis=1) * step
    widths = np.where(centre, widths + step, 0.0)
    return widths


def mean_ci95(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and the 95 % confidence interval of the mean (Student t)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float('nan'), float('nan'), float('nan')
    mean = float(values.mean())
    if values.size < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half, mean + half
