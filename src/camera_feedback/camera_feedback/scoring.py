"""The scorer of EVALUATION.md: one character box's written mask against its target mask.

The same function scores the virtual paper (simulation) and the camera's rectified ink mask (the
real cell), so figures from both are comparable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from camera_feedback.types import GlyphScore, StrokeMeasurement


def contour(mask: np.ndarray) -> np.ndarray:
    """bool: the mask's pixels that touch a non-mask pixel (4-neighbourhood), image border
    included."""
    mask_u8 = mask.astype(np.uint8)
    eroded = cv2.erode(
        mask_u8,
        cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)),
        borderType=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return mask & ~eroded.astype(bool)


def _distance_to(edge: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels) of every pixel to the nearest `edge` pixel."""
    return cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def chamfer_distance_m(target: np.ndarray, written: np.ndarray, metres_per_pixel: float) -> float:
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
    """IoU, chamfer, coverage, spill (and width error from `strokes`) of `written` vs `target`.

    Both masks are bool rasters of the same character box. With an empty target the area ratios
    are undefined and come back NaN.
    """
    target = np.asarray(target, dtype=bool)
    written = np.asarray(written, dtype=bool)
    if target.shape != written.shape:
        raise ValueError(f'target {target.shape} and written {written.shape} masks differ in size')
    target_area = int(target.sum())
    intersection = int(np.count_nonzero(target & written))
    union = int(np.count_nonzero(target | written))
    spilled = int(np.count_nonzero(written & ~target))
    return GlyphScore(
        iou=intersection / union if union else math.nan,
        chamfer_m=chamfer_distance_m(target, written, metres_per_pixel),
        coverage=intersection / target_area if target_area else math.nan,
        spill=spilled / target_area if target_area else math.nan,
        stroke_order=stroke_order,
        width_error_m=mean_width_error_m(strokes),
    )
