"""How blurred the rectified sheet is, measured on the printed markers' edges in each frame.

A stroke narrower than a few blur widths never reaches its ink's full darkness in the image, so
its width at half of the darkness it does reach reads wider than it is (with the cell's camera,
0.65 mm of sheet per pixel: +0.36 mm for a 1.5 mm stroke, +0.12 mm for 3 mm, nothing from 5 mm;
`calligraphy bench camera`). The blur is the camera's optics, its pixels and the rectification
together, and it changes with focus, distance and resolution, so it is measured where the sheet
carries a known sharp step: the outer edges of the four ArUco markers (black border cells on
white paper). Across each edge the rectified brightness is sampled finely, averaged along the
middle of the edge, and the distance between where it has risen 10 % and 90 % of the way is
2.563 Gaussian sigmas. The median over the edges of the markers the registration found is the
frame's blur (`estimate_blur_sigma_m`); `calligraphy_model.stroke_width` undoes its effect on
stroke widths.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from calligraphy_model.raster import Region
from calligraphy_model.sheet_markers import SheetMarkers
from camera_feedback.registration import rectify
from camera_feedback.segmentation import to_grey

# The profile across an edge: from this far outside the marker to as far inside (within its
# black border cell, a sixth of the marker side), sampled this finely.
_REACH_M = 0.0025
_STEP_M = 0.00005
# The middle of each edge is averaged (its ends run into the corners).
_EDGE_SHARE = 0.6
# 10 %-90 % rise of a Gaussian-blurred step, in sigmas: 2 * 1.2816.
_RISE_10_90_SIGMAS = 2.5631
# An edge whose black is less than this much darker than the paper is hidden or not a marker.
_MIN_CONTRAST = 0.3


def _rise(profile: np.ndarray, offsets: np.ndarray) -> float:
    """10 %-90 % rise distance of a profile going from paper (bright, first) to black, or NaN."""
    n = len(profile)
    bright = float(np.median(profile[: n // 5]))
    dark = float(np.median(profile[-n // 5 :]))
    if bright <= 0 or (bright - dark) / bright < _MIN_CONTRAST:
        return math.nan
    fall = (bright - profile) / (bright - dark)

    def first_crossing(level: float) -> float:
        above = np.nonzero(fall >= level)[0]
        if len(above) == 0 or above[0] == 0:
            return math.nan
        i = above[0]
        a, b = fall[i - 1], fall[i]
        return float(offsets[i - 1] + (offsets[i] - offsets[i - 1]) * (level - a) / (b - a))

    return first_crossing(0.9) - first_crossing(0.1)


def estimate_blur_sigma_m(
    image: np.ndarray,
    homography: np.ndarray,
    markers: SheetMarkers,
    markers_found,
    metres_per_pixel: float,
) -> float:
    """Gaussian sigma (m) of the blur of `image` rectified at `metres_per_pixel`, from the
    outer edges of the markers in `markers_found` (their ids); NaN when no edge was usable."""
    corners = markers.lower_left_corners_m()
    size = markers.size_m
    offsets = np.arange(-_REACH_M, _REACH_M + 0.5 * _STEP_M, _STEP_M)
    along = np.linspace(-0.5 * _EDGE_SHARE, 0.5 * _EDGE_SHARE, 25) * size
    rises = []
    for marker_id, (x0, y0) in zip(markers.ids, corners, strict=True):
        if marker_id not in set(markers_found):
            continue
        margin = _REACH_M + 2 * metres_per_pixel
        region = Region(x0 - margin, y0 - margin, size + 2 * margin, size + 2 * margin)
        grey = to_grey(rectify(image, homography, region, metres_per_pixel)).astype(np.float32)
        middle = np.array([x0 + 0.5 * size, y0 + 0.5 * size])
        # Each edge: its midpoint and the outward normal (profiles run from outside to inside).
        for normal in ((-1.0, 0.0), (1.0, 0.0), (0.0, -1.0), (0.0, 1.0)):
            n = np.array(normal)
            tangent = np.array([-n[1], n[0]])
            edge_mid = middle + 0.5 * size * n
            points = (
                edge_mid[None, None, :]
                - offsets[None, :, None] * n[None, None, :]
                + along[:, None, None] * tangent[None, None, :]
            )
            pixels = region.paper_to_pixel(points, metres_per_pixel).astype(np.float32)
            profile = cv2.remap(
                grey,
                np.ascontiguousarray(pixels[..., 0]),
                np.ascontiguousarray(pixels[..., 1]),
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            ).mean(axis=0)
            rises.append(_rise(profile, offsets))
    rises = np.asarray(rises, dtype=float)
    rises = rises[np.isfinite(rises) & (rises > 0)]
    if len(rises) == 0:
        return math.nan
    return float(np.median(rises)) / _RISE_10_90_SIGMAS
