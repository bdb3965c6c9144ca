"""Dataclasses the camera-feedback core speaks.

Units: metres for every length on the sheet, pixels only where a name says `_px`. Rasters follow
the cell's convention: row 0 is the top of a region (largest paper y), column 0 its left edge
(smallest x); pixel (i, j) has its centre at x = x0 + (j + 0.5)·mpp, y = y0 + H − (i + 0.5)·mpp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# Error codes, equal to the constants of calligraphy_interfaces/srv/ObservePaper.
SUCCESS = 0
NO_IMAGE = 1
MARKERS_NOT_FOUND = 2
BAD_ENCODING = 3
BOX_OUTSIDE_SHEET = 4
INTERNAL_ERROR = 99


class ObservationError(Exception):
    """A look at the paper that could not be made; `code` is one of the constants above."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Region:
    """An axis-aligned rectangle of the sheet in the `paper` frame, metres."""

    x_m: float
    y_m: float
    width_m: float
    height_m: float

    def __post_init__(self) -> None:
        if not (self.width_m > 0.0 and self.height_m > 0.0):
            raise ValueError(
                f'region must have a positive size, got {self.width_m} x {self.height_m} m'
            )

    def shape(self, metres_per_pixel: float) -> tuple[int, int]:
        """(rows, cols) of the raster of this region at `metres_per_pixel`."""
        return (
            max(1, round(self.height_m / metres_per_pixel)),
            max(1, round(self.width_m / metres_per_pixel)),
        )

    def paper_to_pixel(self, xy: np.ndarray, metres_per_pixel: float) -> np.ndarray:
        """Paper points (..., 2) → continuous (col, row) raster coordinates (pixel centres are
        integers, as OpenCV's remap and warp expect)."""
        xy = np.asarray(xy, dtype=np.float64)
        col = (xy[..., 0] - self.x_m) / metres_per_pixel - 0.5
        row = (self.y_m + self.height_m - xy[..., 1]) / metres_per_pixel - 0.5
        return np.stack([col, row], axis=-1)

    def pixel_to_paper_matrix(self, metres_per_pixel: float) -> np.ndarray:
        """3x3 matrix taking homogeneous raster (col, row, 1) to paper (x, y, 1)."""
        top = self.y_m + self.height_m
        return np.array(
            [
                [metres_per_pixel, 0.0, self.x_m + 0.5 * metres_per_pixel],
                [0.0, -metres_per_pixel, top - 0.5 * metres_per_pixel],
                [0.0, 0.0, 1.0],
            ]
        )

    def expanded(self, margin_m: float) -> Region:
        return Region(
            self.x_m - margin_m,
            self.y_m - margin_m,
            self.width_m + 2.0 * margin_m,
            self.height_m + 2.0 * margin_m,
        )

    def contains(self, other: Region, tolerance_m: float = 1e-9) -> bool:
        return (
            other.x_m >= self.x_m - tolerance_m
            and other.y_m >= self.y_m - tolerance_m
            and other.x_m + other.width_m <= self.x_m + self.width_m + tolerance_m
            and other.y_m + other.height_m <= self.y_m + self.height_m + tolerance_m
        )


@dataclass(frozen=True)
class StrokeSpec:
    """One planned stroke: centreline (N, 2) in `paper` metres and planned width (N,) metres."""

    centreline_m: np.ndarray
    width_m: np.ndarray
    index: int = 0

    def __post_init__(self) -> None:
        centreline = np.asarray(self.centreline_m, dtype=np.float64).reshape(-1, 2)
        width = np.asarray(self.width_m, dtype=np.float64).reshape(-1)
        if len(centreline) != len(width):
            raise ValueError(
                f'stroke {self.index}: {len(centreline)} centreline points but {len(width)} widths'
            )
        object.__setattr__(self, 'centreline_m', centreline)
        object.__setattr__(self, 'width_m', width)


@dataclass(frozen=True)
class StrokeMeasurement:
    """What the camera measured of one written stroke along its planned centreline."""

    stroke_index: int
    planned_width_m: np.ndarray
    measured_width_m: np.ndarray  # NaN where unmeasurable (crossing another stroke, off region)
    coverage: float  # fraction of the planned footprint that carries ink
    darkness: float  # mean darkness of the inked part of the footprint, 0 paper .. 1 black
    darkness_along: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per point

    @property
    def valid(self) -> np.ndarray:
        return np.isfinite(self.measured_width_m)

    @property
    def planned_width_mean_m(self) -> float:
        valid = self.valid
        return float(np.mean(self.planned_width_m[valid])) if valid.any() else math.nan

    @property
    def measured_width_mean_m(self) -> float:
        valid = self.valid
        return float(np.mean(self.measured_width_m[valid])) if valid.any() else math.nan

    @property
    def width_error_m(self) -> float:
        valid = self.valid
        if not valid.any():
            return math.nan
        return float(np.mean(np.abs(self.measured_width_m[valid] - self.planned_width_m[valid])))


@dataclass(frozen=True)
class GlyphScore:
    """The figures of EVALUATION.md for one character box; NaN where not computable."""

    iou: float = math.nan
    chamfer_m: float = math.nan
    coverage: float = math.nan
    spill: float = math.nan
    stroke_order: float = math.nan
    width_error_m: float = math.nan


@dataclass(frozen=True)
class Observation:
    """One look at the sheet: the rectified region, its ink and the scores."""

    region: Region
    metres_per_pixel: float
    rectified: np.ndarray  # uint8 (rows, cols, 3) rgb of the region
    darkness: np.ndarray  # float32 (rows, cols), 0 paper .. 1 black, lighting removed
    ink_mask: np.ndarray  # bool (rows, cols)
    score: GlyphScore
    strokes: tuple[StrokeMeasurement, ...]
    homography: np.ndarray  # 3x3, paper metres → image pixels
    markers_found: tuple[int, ...]
    reprojection_rms_px: float
