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
frame's blur (`estimate_blur_sigma_m`); `unblurred` undoes its effect on the widths
`calligraphy_model.stroke_width.measure_strokes` measured.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import cv2
import numpy as np

from calligraphy_model.raster import Region
from calligraphy_model.sheet_markers import SheetMarkers
from calligraphy_model.stroke_width import measure_strokes
from calligraphy_model.types import StrokeMeasurement, StrokeSpec
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


def unblurred(
    measurements, blur_sigma_m: float, metres_per_pixel: float, ink_threshold: float
) -> tuple[StrokeMeasurement, ...]:
    """`measurements` (measure_strokes') with their widths corrected for a blur of sigma
    `blur_sigma_m` (see `unblurred_width`)."""
    return tuple(
        dataclasses.replace(
            m,
            measured_width_m=unblurred_width(
                m.measured_width_m, blur_sigma_m, metres_per_pixel, ink_threshold
            ),
        )
        for m in measurements
    )


# Widths of the blurred bars `unblurred_width` measures, in blur sigmas: beyond the last the
# blur adds nothing measurable (under 0.01 of a sigma).
_TABLE_WIDTHS_SIGMAS = np.array(
    [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.5, 10.0, 12.0]
)
_SIGMA_STEP_M = 0.00002
# How far past its half width a table bar runs on each side: beyond the round caps that
# measure_strokes does not measure (half the width plus 0.5 mm) with room for a few points.
_CAP_CLEARANCE_M = 0.0015
# Darkness of the table's bars (the half-level width does not depend on it).
_TABLE_INK_DARKNESS = 0.8


def unblurred_width(
    measured_m: np.ndarray, blur_sigma_m: float, metres_per_pixel: float, ink_threshold: float
) -> np.ndarray:
    """The widths of strokes whose blurred images measured `measured_m` (NaN stays NaN, 0 stays 0).

    A stroke a few blur widths wide never reaches its ink's darkness in the image, and its width
    at half the darkness it does reach is wider than the stroke. What this measurement reads
    for straight bars of known widths blurred by a Gaussian of `blur_sigma_m`, on rasters of
    `metres_per_pixel`, is tabulated by measuring them as `measure_strokes` does, and the table
    is inverted. Measured widths below what the narrowest bar reads map to that bar's width.
    """
    table_measured, table_true = correction_table(blur_sigma_m, metres_per_pixel, ink_threshold)
    measured = np.asarray(measured_m, dtype=float)
    out = measured.copy()
    positive = np.isfinite(measured) & (measured > 0)
    m = measured[positive]
    # Beyond the table the bias of its widest bar (about nothing) is taken off.
    out[positive] = np.where(
        m <= table_measured[-1],
        np.interp(m, table_measured, table_true),
        m - (table_measured[-1] - table_true[-1]),
    )
    return out


def correction_table(
    blur_sigma_m: float, metres_per_pixel: float, ink_threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(measured, true) widths `unblurred_width` inverts for this blur, built on first use."""
    # Tabulated per 0.02 mm of blur (a table takes 40-70 ms; a frame's blur estimate varies by
    # about 0.01 mm, which moves a corrected width by under 0.01 mm).
    sigma_key = max(_SIGMA_STEP_M, round(blur_sigma_m / _SIGMA_STEP_M) * _SIGMA_STEP_M)
    return _blur_table(round(sigma_key, 6), round(metres_per_pixel, 7), round(ink_threshold, 4))


@functools.lru_cache(maxsize=64)
def _blur_table(
    blur_sigma_m: float, metres_per_pixel: float, ink_threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(measured, true) widths of straight bars blurred by `blur_sigma_m`, increasing."""
    # The profile sampler interpolates linearly between pixels, which blurs again by about
    # mpp / sqrt(6): the marker edges' blur was measured through that interpolation too.
    sigma = math.sqrt(max(blur_sigma_m**2 - metres_per_pixel**2 / 6.0, (0.2 * blur_sigma_m) ** 2))
    true_widths = _TABLE_WIDTHS_SIGMAS * blur_sigma_m
    erf = np.vectorize(math.erf)  # a few hundred values: no scipy import in the camera process
    scale = math.sqrt(2.0) * sigma
    measured = []
    for width in true_widths:
        # A bar just long enough to be measurable clear of its round caps (short bars keep the
        # table cheap: it is built while the camera renders in the same process).
        length = width + 2 * _CAP_CLEARANCE_M
        # Taller than measure_strokes samples across a stroke (0.8 width + 2 mm each side).
        half_height = 0.8 * width + 4 * sigma + 0.003
        region = Region(0.0, -half_height, length, 2 * half_height)
        rows, cols = region.shape(metres_per_pixel)
        y = region.y_m + region.height_m - (np.arange(rows) + 0.5) * metres_per_pixel
        column = 0.5 * (erf((y + 0.5 * width) / scale) - erf((y - 0.5 * width) / scale))
        darkness = np.repeat((_TABLE_INK_DARKNESS * column)[:, None], cols, axis=1)
        darkness = darkness.astype(np.float32)
        x = np.linspace(0.0, length, 15)
        bar = StrokeSpec(np.column_stack([x, np.zeros_like(x)]), np.full(len(x), width), 0)
        (seen,) = measure_strokes(
            darkness, darkness >= ink_threshold, region, metres_per_pixel, [bar], ink_threshold
        )
        widths = seen.measured_width_m[np.isfinite(seen.measured_width_m)]
        measured.append(float(np.median(widths)) if len(widths) else math.nan)
    measured = np.asarray(measured)
    kept = np.isfinite(measured)  # none expected: a bar is measurable by construction
    return np.maximum.accumulate(measured[kept]), true_widths[kept]
