"""Calibration by camera, no ruler: contact height and the width-vs-depth curve of the brush.

`calligraphy calibrate` runs these on the cell (camera_feedback.calibration_run, which measures
contact with rows of dabs and widths by integrated darkening); they live beside the observer whose
observations they read, and fit the core's width law (calligraphy_model.brush.footprint_width).

1. Contact height: the brush is lowered over a test spot in small steps, touching down and lifting
   at each; the camera looks after every touch. The first commanded depth that leaves ink tells
   where the paper really is: `ContactSearch`.
2. Width curve: a pattern of straight strokes, each at one constant commanded depth, is written
   and measured along its centreline (`measure_strokes`); the brush model
   w(d) = w0 + (D − w0)·tanh(k·d / (D − w0)) (calligraphy_model.brush: touch width w0, belly
   diameter D, slope k at first contact) is fitted to the (depth, median width) pairs:
   `fit_width_curve`.
3. Both go to a YAML brush parameter file: `write_brush_file` (keys are BrushParams field names
   under `brush:`, plus `contact_offset_m`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import least_squares

from calligraphy_model.brush import footprint_width
from calligraphy_model.raster import Region
from calligraphy_model.types import StrokeMeasurement, StrokeSpec
from camera_feedback.synthetic import line_stroke
from camera_feedback.types import Observation


class ContactSearch:
    """Steps the commanded pressing depth down until a touch leaves ink.

    Depths are commanded relative to the nominal paper plane (d > 0 presses in). If the paper is
    higher than nominal by o, a commanded depth d presses by d + o, so ink first appears at
    d ≈ −o: the estimate is the midpoint between the last clean and the first inked touch.
    """

    def __init__(
        self, start_depth_m: float = -0.003, step_m: float = 0.0002, max_depth_m: float = 0.003
    ) -> None:
        if step_m <= 0 or max_depth_m <= start_depth_m:
            raise ValueError('need step_m > 0 and max_depth_m > start_depth_m')
        self.step_m = step_m
        self.max_depth_m = max_depth_m
        self._next = start_depth_m
        self._last_clean: float | None = None
        self._first_inked: float | None = None

    @property
    def done(self) -> bool:
        return self._first_inked is not None or self._next > self.max_depth_m + 1e-12

    def next_depth_m(self) -> float | None:
        """The depth to touch at next; None when the search is over."""
        return None if self.done else self._next

    def record(self, depth_m: float, ink_seen: bool) -> None:
        """What the camera saw after touching at `depth_m`."""
        if ink_seen:
            self._first_inked = depth_m
        else:
            self._last_clean = depth_m
            self._next = depth_m + self.step_m

    @property
    def contact_offset_m(self) -> float:
        """Paper height above nominal (BrushState.contact_offset_m); ValueError if no ink was
        ever seen (the brush never reached the paper within max_depth_m) or if the first touch
        already inked (start higher)."""
        if self._first_inked is None:
            raise ValueError(f'no ink down to a commanded depth of {self.max_depth_m} m')
        if self._last_clean is None:
            raise ValueError('the first touch already left ink: start the search higher')
        return -0.5 * (self._last_clean + self._first_inked)


def spot_has_ink(observation: Observation, min_area_m2: float = 2e-7) -> bool:
    """Ink in the observed region (the test spot) covering at least `min_area_m2`."""
    area = observation.ink_mask.sum() * observation.metres_per_pixel**2
    return bool(area >= min_area_m2)


@dataclass(frozen=True)
class WidthCurve:
    """The brush's width law (calligraphy_model.brush.footprint_width) with fitted parameters."""

    touch_width_m: float
    belly_diameter_m: float
    width_slope: float

    def width_at_depth(self, depth_m: np.ndarray | float) -> np.ndarray:
        return footprint_width(
            depth_m, self.touch_width_m, self.belly_diameter_m, self.width_slope
        )


@dataclass(frozen=True)
class PatternStroke:
    """One stroke of the calibration pattern: where to write it and at which depth."""

    stroke: StrokeSpec
    depth_m: float


def calibration_pattern(
    region: Region,
    depths_m: Sequence[float],
    length_m: float = 0.030,
    max_width_m: float = 0.009,
) -> list[PatternStroke]:
    """Horizontal strokes, one per depth, stacked in `region` with room for the widest brush.

    The StrokeSpec width is an upper bound (the belly of the widest brush), used only to size
    the measurement window across each stroke.
    """
    pitch = max_width_m + 0.003
    if len(depths_m) * pitch > region.height_m or length_m > region.width_m:
        raise ValueError(f'{len(depths_m)} strokes of {length_m} m do not fit in {region}')
    x0 = region.x_m + 0.5 * (region.width_m - length_m)
    top = region.y_m + region.height_m - 0.5 * pitch
    return [
        PatternStroke(
            line_stroke((x0, top - i * pitch), (x0 + length_m, top - i * pitch), max_width_m, i),
            float(depth),
        )
        for i, depth in enumerate(depths_m)
    ]


def fit_width_curve(
    depths_m: Sequence[float], measurements: Sequence[StrokeMeasurement]
) -> tuple[WidthCurve, float]:
    """Fit the brush width model to pattern strokes; returns the curve and its rms residual (m).

    Each stroke contributes the median of its measurable widths (robust to the ends, where the
    brush lands and lifts)."""
    depths, widths = [], []
    for depth, measured in zip(depths_m, measurements, strict=True):
        valid = np.isfinite(measured.measured_width_m) & (measured.measured_width_m > 0)
        if valid.sum() >= 3 and depth > 0:
            depths.append(depth)
            widths.append(float(np.median(measured.measured_width_m[valid])))
    return fit_width_points(depths, widths)


def fit_width_points(
    depths_m: Sequence[float], widths_m: Sequence[float], outlier_m: float = math.inf
) -> tuple[WidthCurve, float]:
    """Fit the brush width model to (true pressing depth, ink width) pairs; returns the curve and
    its rms residual (m). Pairs at no depth or without a finite positive width are left out.

    With a finite `outlier_m` the fit is robust (soft-L1 loss at that scale: a stroke the brush
    did not write as commanded pulls it little) and the rms counts the pairs within 3·outlier_m."""
    pairs = [
        (float(d), float(w))
        for d, w in zip(depths_m, widths_m, strict=True)
        if d > 0 and math.isfinite(w) and w > 0
    ]
    if len(pairs) < 3:
        raise ValueError(f'only {len(pairs)} pattern strokes measurable; need 3')
    depths_a, widths_a = np.array(pairs).T

    def residual(p: np.ndarray) -> np.ndarray:
        return WidthCurve(*p).width_at_depth(depths_a) - widths_a

    start = np.array([0.0004, max(widths_a.max() * 1.1, 0.002), 1.0])
    fit = least_squares(
        residual,
        start,
        bounds=([0.0, 0.001, 0.1], [0.003, 0.015, 5.0]),
        x_scale=[1e-3, 1e-3, 1.0],
        **({} if math.isinf(outlier_m) else {'loss': 'soft_l1', 'f_scale': outlier_m}),
    )
    curve = WidthCurve(*(float(v) for v in fit.x))
    kept = fit.fun[np.abs(fit.fun) <= 3.0 * outlier_m]
    return curve, float(math.sqrt(np.mean(kept**2))) if kept.size else math.inf


def write_brush_file(
    path: str | Path, curve: WidthCurve, contact_offset_m: float, rms_width_error_m: float
) -> Path:
    """The brush parameter file the controller and simulator read."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        'brush': {
            'touch_width_m': curve.touch_width_m,
            'belly_diameter_m': curve.belly_diameter_m,
            'width_slope': curve.width_slope,
        },
        'contact_offset_m': float(contact_offset_m),
        'calibration': {'method': 'camera', 'rms_width_error_m': float(rms_width_error_m)},
    }
    path.write_text(
        '# Brush calibrated by camera (camera_feedback.brush_calibration); SI units.\n'
        + yaml.safe_dump(document, sort_keys=False)
    )
    return path
