"""THE glyph scorer of EVALUATION.md: one character box's written mask against its target mask.

The same functions score the virtual paper (simulation), the offline evaluation and the camera's
rectified ink mask (the real cell), so figures from all of them are comparable. Both masks are
bool rasters of the same box (:mod:`calligraphy_model.raster`).

Empty masks: an area ratio whose denominator is empty is undefined and comes back NaN. In
particular the IoU of two empty masks is NaN, not 1.0: nothing was asked and nothing written is
no evidence of good writing, and a NaN is dropped by :func:`mean_ci95` (and flagged by anyone who
prints it) where a 1.0 would silently lift a mean. Every figure is NaN where not computable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from calligraphy_model.types import GlyphScore, StrokeMeasurement


def iou(target: np.ndarray, written: np.ndarray) -> float:
    """area(T ∩ W) / area(T ∪ W), the headline figure; NaN for two empty masks."""
    target = np.asarray(target, dtype=bool)
    written = np.asarray(written, dtype=bool)
    union = np.count_nonzero(target | written)
    return float(np.count_nonzero(target & written) / union) if union else math.nan


def coverage(target: np.ndarray, written: np.ndarray) -> float:
    """area(T ∩ W) / area(T); NaN for an empty target."""
    target = np.asarray(target, dtype=bool)
    area = np.count_nonzero(target)
    inked = np.count_nonzero(target & np.asarray(written, dtype=bool))
    return float(inked / area) if area else math.nan


def spill(target: np.ndarray, written: np.ndarray) -> float:
    """area(W \\ T) / area(T); NaN for an empty target."""
    target = np.asarray(target, dtype=bool)
    area = np.count_nonzero(target)
    spilled = np.count_nonzero(np.asarray(written, dtype=bool) & ~target)
    return float(spilled / area) if area else math.nan


def contour(mask: np.ndarray) -> np.ndarray:
    """bool: the mask's pixels that touch a non-mask pixel (4-neighbourhood), image border
    included."""
    mask = np.asarray(mask, dtype=bool)
    eroded = cv2.erode(
        mask.astype(np.uint8),
        cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)),
        borderType=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return mask & ~eroded.astype(bool)


def _distance_to(edge: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels, exact) of every pixel to the nearest `edge` pixel."""
    return cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def chamfer_m(target: np.ndarray, written: np.ndarray, metres_per_pixel: float) -> float:
    """Mean symmetric distance between the contours of two masks, metres (NaN if one is empty)."""
    target_edge = contour(target)
    written_edge = contour(written)
    if not target_edge.any() or not written_edge.any():
        return math.nan
    written_to_target = _distance_to(target_edge)[written_edge].mean()
    target_to_written = _distance_to(written_edge)[target_edge].mean()
    return float(0.5 * (written_to_target + target_to_written) * metres_per_pixel)


def mean_width_error_m(strokes: Sequence[StrokeMeasurement]) -> float:
    """Mean over strokes of each stroke's mean |planned − measured| width, metres."""
    errors = [s.width_error_m for s in strokes if math.isfinite(s.width_error_m)]
    return float(np.mean(errors)) if errors else math.nan


def score_masks(
    target: np.ndarray,
    written: np.ndarray,
    metres_per_pixel: float,
    strokes: Sequence[StrokeMeasurement] = (),
    stroke_order: float = math.nan,
) -> GlyphScore:
    """IoU, chamfer, coverage, spill (and width error from `strokes`) of `written` vs `target`."""
    target = np.asarray(target, dtype=bool)
    written = np.asarray(written, dtype=bool)
    if target.shape != written.shape:
        raise ValueError(f'target {target.shape} and written {written.shape} masks differ in size')
    return GlyphScore(
        iou=iou(target, written),
        chamfer_m=chamfer_m(target, written, metres_per_pixel),
        coverage=coverage(target, written),
        spill=spill(target, written),
        stroke_order=stroke_order,
        width_error_m=mean_width_error_m(strokes),
    )


def mean_ci95(values: np.ndarray) -> tuple[float, float, float]:
    """Mean of the finite values and the 95 % confidence interval of the mean (Student t)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float('nan'), float('nan'), float('nan')
    mean = float(values.mean())
    if values.size < 2:
        return mean, mean, mean
    from scipy import stats  # here: importing it cost every node's process about half a second

    half = float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half, mean + half
