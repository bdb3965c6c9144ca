"""Width of a written stroke, measured across its centreline: the one home of that measurement.

Two readings of one idea, both sampling the raster along the centreline's normals:

- :func:`measure_width_along`: the width-error figure of EVALUATION.md on a known ink canvas (the
  simulator's or the offline evaluation's): the extent between the outermost samples at or above an
  ink threshold, nearest pixel, half-pixel steps.
- :func:`measure_strokes`: what the camera measures of every written stroke, for the brush-state
  estimate. At every centreline point a darkness profile is sampled along the normal. The stroke
  there is the run of ink that contains the centre (or lies nearest to it), and its width is the
  run's full width at half of the ink's own darkness, with both edges interpolated between
  samples. The half-level crossing is where a blurred edge of an ink step sits whatever the blur,
  so the figure is sub-pixel accurate and does not depend on how dark the ink is (a drying brush
  gives lighter, not narrower, strokes). Points where another written stroke crosses are not
  measurable (NaN): there the run belongs to two strokes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from calligraphy_model.raster import PixelGrid, Region
from calligraphy_model.types import StrokeMeasurement, StrokeSpec

# Sample spacing across the stroke, in raster pixels.
_SAMPLES_PER_PIXEL = 2
# Distance from a run's edges beyond which samples count as the ink's plateau, metres.
_EDGE_BLUR_M = 0.0005
# Turn of the centreline within ± one width beyond which the cross-section is not a width.
_MAX_TURN_RAD = math.radians(40.0)
# Clearance kept to other strokes' planned footprints before a point counts as measurable.
_CROSSING_CLEARANCE_M = 0.0005


def stroke_footprint(stroke: StrokeSpec, region: Region, metres_per_pixel: float) -> np.ndarray:
    """bool raster of the planned stroke: a round brush of the planned width swept along the
    centreline (the ideal reconstruction of that stroke). A pixel is in when its centre is."""
    rows, cols = region.shape(metres_per_pixel)
    mask = np.zeros((rows, cols), bool)
    if len(stroke.centreline_m) == 0:
        return mask
    # Discs closer than a fifth of the narrowest width leave scallops under 2 % of the radius.
    step = max(metres_per_pixel, 0.2 * float(stroke.width_m.min()))
    centreline, width = _resample(stroke.centreline_m, stroke.width_m, step)
    pixels = region.paper_to_pixel(centreline, metres_per_pixel)
    radii = 0.5 * width / metres_per_pixel
    for (col, row), radius in zip(pixels, radii, strict=True):
        r0, r1 = max(int(np.floor(row - radius)), 0), min(int(np.ceil(row + radius)) + 1, rows)
        c0, c1 = max(int(np.floor(col - radius)), 0), min(int(np.ceil(col + radius)) + 1, cols)
        if r0 >= r1 or c0 >= c1:
            continue
        dr = np.arange(r0, r1)[:, None] - row
        dc = np.arange(c0, c1)[None, :] - col
        mask[r0:r1, c0:c1] |= dr * dr + dc * dc <= radius * radius
    return mask


def render_strokes(
    strokes: Sequence[StrokeSpec], region: Region, metres_per_pixel: float
) -> np.ndarray:
    """bool raster: union of the strokes' footprints."""
    mask = np.zeros(region.shape(metres_per_pixel), bool)
    for stroke in strokes:
        mask |= stroke_footprint(stroke, region, metres_per_pixel)
    return mask


def _resample(
    centreline: np.ndarray, width: np.ndarray, step_m: float
) -> tuple[np.ndarray, np.ndarray]:
    if len(centreline) < 2:
        return centreline, width
    seg = np.linalg.norm(np.diff(centreline, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if arc[-1] <= 0:
        return centreline[:1], width[:1]
    samples = np.linspace(0.0, arc[-1], max(2, int(math.ceil(arc[-1] / step_m)) + 1))
    points = np.stack(
        [np.interp(samples, arc, centreline[:, 0]), np.interp(samples, arc, centreline[:, 1])],
        axis=1,
    )
    return points, np.interp(samples, arc, width)


def _normals(centreline: np.ndarray) -> np.ndarray:
    if len(centreline) < 2:
        return np.array([[0.0, 1.0]] * len(centreline))
    tangent = np.gradient(centreline, axis=0)
    norm = np.linalg.norm(tangent, axis=1, keepdims=True)
    tangent = np.where(norm > 0, tangent / np.maximum(norm, 1e-12), [1.0, 0.0])
    return np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)


def _run_around(inked: np.ndarray, seed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the last non-inked index left of `seed` (-1 if none) and the first one right of
    it (K if none)."""
    k = np.arange(inked.shape[1])[None, :]
    gap = ~inked
    left = np.where(gap & (k < seed[:, None]), k, -1).max(axis=1)
    right = np.where(gap & (k > seed[:, None]), k, inked.shape[1]).min(axis=1)
    return left, right


def _running_median(values: np.ndarray, window: int = 5) -> np.ndarray:
    if len(values) < window or np.isnan(values).all():
        return values
    half = window // 2
    padded = np.pad(values, half, mode='edge')
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)
    if not np.isnan(values).any():
        return np.median(windows, axis=1)
    out = np.full(len(values), np.nan)
    measured = ~np.isnan(windows).all(axis=1)  # a window of NaNs stays NaN, without a warning
    out[measured] = np.nanmedian(windows[measured], axis=1)
    return out


def _unmeasurable_geometry(stroke: StrokeSpec) -> np.ndarray:
    """bool per centreline point where a width across the centreline is not the stroke's width:
    the round caps at both ends (the cut there is a chord of the cap) and sharp turns (the cut
    there runs along the other arm of the corner)."""
    centreline, width = stroke.centreline_m, stroke.width_m
    if len(centreline) < 2:
        return np.ones(len(centreline), bool)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(centreline, axis=0), axis=1))])
    reach = 0.5 * width + _EDGE_BLUR_M
    caps = (arc < reach) | (arc[-1] - arc < reach)
    heading = np.unwrap(np.arctan2(*np.gradient(centreline, axis=0)[:, ::-1].T))
    before = np.interp(arc - width, arc, heading)
    after = np.interp(arc + width, arc, heading)
    return caps | (np.abs(after - before) > _MAX_TURN_RAD)


def measure_strokes(
    darkness: np.ndarray,
    ink_mask: np.ndarray,
    region: Region,
    metres_per_pixel: float,
    strokes: Sequence[StrokeSpec],
    ink_threshold: float,
) -> tuple[StrokeMeasurement, ...]:
    """Measure every stroke of `strokes` (all taken as written) on the region's rasters.

    Args:
        darkness: float32 (rows, cols) ink darkness of the region, 0 paper .. 1 black.
        ink_mask: bool (rows, cols) segmented ink of the region.
        region: the sheet region the rasters cover.
        metres_per_pixel: raster resolution.
        strokes: planned strokes, paper metres.
        ink_threshold: darkness from which a sample counts as ink (the segmentation's).
    """
    footprints = [stroke_footprint(s, region, metres_per_pixel) for s in strokes]
    count = np.zeros(region.shape(metres_per_pixel), np.uint8)
    for footprint in footprints:
        count += footprint
    clearance = 2 * int(math.ceil(_CROSSING_CLEARANCE_M / metres_per_pixel)) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (clearance, clearance))
    measurements = []
    for i, stroke in enumerate(strokes):
        # Where another stroke's planned footprint (grown by the clearance) lies.
        others = cv2.dilate((count - footprints[i] > 0).astype(np.uint8), kernel)
        measurements.append(
            _measure_one(
                stroke,
                darkness,
                ink_mask,
                footprints[i],
                others,
                region,
                metres_per_pixel,
                ink_threshold,
            )
        )
    return tuple(measurements)


def _measure_one(
    stroke: StrokeSpec,
    darkness: np.ndarray,
    ink_mask: np.ndarray,
    footprint: np.ndarray,
    others: np.ndarray,
    region: Region,
    metres_per_pixel: float,
    ink_threshold: float,
) -> StrokeMeasurement:
    centreline, planned = stroke.centreline_m, stroke.width_m
    n_points = len(centreline)
    if n_points == 0:
        empty = np.zeros(0)
        return StrokeMeasurement(stroke.index, empty, empty, math.nan, math.nan, empty)

    step = metres_per_pixel / _SAMPLES_PER_PIXEL
    half_span = 0.8 * float(planned.max()) + 0.002
    n_half = int(math.ceil(half_span / step))
    offsets = np.arange(-n_half, n_half + 1) * step
    centre = n_half
    normals = _normals(centreline)
    samples = centreline[:, None, :] + offsets[None, :, None] * normals[:, None, :]
    pixels = region.paper_to_pixel(samples, metres_per_pixel).astype(np.float32)
    rows, cols = darkness.shape
    inside = (
        (pixels[..., 0] >= -0.5)
        & (pixels[..., 0] <= cols - 0.5)
        & (pixels[..., 1] >= -0.5)
        & (pixels[..., 1] <= rows - 0.5)
    ).all(axis=1)
    profile = cv2.remap(
        darkness,
        np.ascontiguousarray(pixels[..., 0]),
        np.ascontiguousarray(pixels[..., 1]),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    ).astype(np.float64)

    # Pass 1: the ink run at (or nearest within half the planned width of) the centreline.
    k = np.arange(len(offsets))[None, :]
    inked = profile >= ink_threshold
    reach = np.maximum(0.5 * planned, step)[:, None]
    distance = np.where(inked & (np.abs(offsets)[None, :] <= reach), np.abs(k - centre), np.inf)
    has_ink = np.isfinite(distance).any(axis=1)
    seed = np.argmin(distance, axis=1)
    left, right = _run_around(inked, seed)

    # The ink's own level: median darkness of the run away from its blurred edges.
    margin = int(math.ceil(_EDGE_BLUR_M / step))
    in_run = (k > left[:, None]) & (k < right[:, None])
    core = (k > left[:, None] + margin) & (k < right[:, None] - margin)
    core = np.where(core.any(axis=1, keepdims=True), core, in_run)
    level = np.nanmedian(np.where(core, profile, np.nan), axis=1) if has_ink.any() else None
    level = np.where(has_ink, level, np.nan) if level is not None else np.full(n_points, np.nan)
    level = _running_median(level)

    # Pass 2: full width at half the level, edges interpolated between samples.
    peak = np.argmax(np.where(in_run, profile, -np.inf), axis=1)
    half = 0.5 * np.nan_to_num(level, nan=1.0)
    above = profile >= half[:, None]
    left2, right2 = _run_around(above, peak)
    touches_end = (left2 < 0) | (right2 >= len(offsets))
    rows_idx = np.arange(n_points)
    li = np.clip(left2, 0, len(offsets) - 2)
    ri = np.clip(right2, 1, len(offsets) - 1)
    a, b = profile[rows_idx, li], profile[rows_idx, li + 1]
    left_edge = offsets[li] + step * (half - a) / np.where(b - a > 1e-9, b - a, 1e-9)
    c, d = profile[rows_idx, ri - 1], profile[rows_idx, ri]
    right_edge = offsets[ri - 1] + step * (c - half) / np.where(c - d > 1e-9, c - d, 1e-9)
    width = np.clip(right_edge - left_edge, 0.0, None)

    # The run (with one sample of slack) reaching into another stroke: shared ink.
    shared = cv2.remap(
        others,
        np.ascontiguousarray(pixels[..., 0]),
        np.ascontiguousarray(pixels[..., 1]),
        cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    ).astype(bool)
    in_measured_run = (k >= left2[:, None]) & (k <= right2[:, None])
    crossed = (shared & in_measured_run).any(axis=1) | (~has_ink & shared[:, centre])

    measured = np.where(has_ink, width, 0.0)
    unmeasurable = ~inside | (has_ink & touches_end) | crossed | _unmeasurable_geometry(stroke)
    measured = np.where(unmeasurable, np.nan, measured)
    darkness_along = np.where(has_ink, np.nan_to_num(level, nan=0.0), 0.0)

    area = int(footprint.sum())
    inked_area = footprint & ink_mask
    coverage = inked_area.sum() / area if area else math.nan
    dark = float(darkness[inked_area].mean()) if inked_area.any() else 0.0
    return StrokeMeasurement(
        stroke_index=stroke.index,
        planned_width_m=planned.copy(),
        measured_width_m=measured,
        coverage=float(coverage),
        darkness=dark,
        darkness_along=darkness_along,
    )


def measure_width_along(
    ink: np.ndarray,
    region: PixelGrid,
    centreline_xy: np.ndarray,
    *,
    threshold: float = 0.25,
    max_half_width_m: float = 0.006,
) -> np.ndarray:
    """Ink width (m) across a centreline, measured on a canvas: one value per centreline point.

    At each point the canvas is sampled along the normal of the centreline (half-pixel steps,
    nearest pixel) out to ``max_half_width_m`` on both sides; the width is the extent between the
    outermost samples at or above ``threshold`` (so dry-brush gaps inside a stroke do not cut it).
    0 where nothing is inked on the normal.

    Args:
        ink: float32 canvas of ``region``.
        region: where the canvas lies.
        centreline_xy: (N, 2) points in the paper frame (m), N >= 2, in stroke order.
    """
    line = np.asarray(centreline_xy, dtype=np.float64)
    if line.ndim != 2 or line.shape[1] != 2 or line.shape[0] < 2:
        raise ValueError(f'centreline_xy must be (N >= 2, 2), got {line.shape}')
    tangent = np.gradient(line, axis=0)
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    tangent = tangent / np.maximum(norm, 1e-12)[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    step = 0.5 * region.metres_per_pixel
    offsets = np.arange(-max_half_width_m, max_half_width_m + 0.5 * step, step)
    pts = line[:, None, :] + offsets[None, :, None] * normal[:, None, :]
    col, row = region.to_pixel(pts[..., 0], pts[..., 1])
    col = np.rint(col).astype(np.int64)
    row = np.rint(row).astype(np.int64)
    valid = (col >= 0) & (col < region.cols) & (row >= 0) & (row < region.rows)
    values = np.zeros(pts.shape[:2], dtype=np.float32)
    values[valid] = ink[row[valid], col[valid]]
    inked = values >= threshold
    any_ink = inked.any(axis=1)
    first = np.argmax(inked, axis=1)
    last = inked.shape[1] - 1 - np.argmax(inked[:, ::-1], axis=1)
    width = (last - first + 1) * step
    return np.where(any_ink, width, 0.0)
