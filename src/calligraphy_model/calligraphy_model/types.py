"""Plain types the scorer, the width measurement and the brush-state estimator speak.

Units: metres for every length on the sheet; rasters follow :mod:`calligraphy_model.raster`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


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
