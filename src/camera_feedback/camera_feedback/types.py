"""The camera-feedback core's error codes, its error and its observation.

Units: metres for every length on the sheet, pixels only where a name says `_px`. Rasters follow
:mod:`calligraphy_model.raster`; the region, stroke and score types are the core's
(:mod:`calligraphy_model.raster`, :mod:`calligraphy_model.types`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from calligraphy_model.errors import CalligraphyError
from calligraphy_model.raster import Region
from calligraphy_model.types import GlyphScore, StrokeMeasurement

# Error codes, equal to the constants of calligraphy_interfaces/srv/ObservePaper.
SUCCESS = 0
NO_IMAGE = 1
MARKERS_NOT_FOUND = 2
BAD_ENCODING = 3
BOX_OUTSIDE_SHEET = 4
INVALID_BOX = 5
INTERNAL_ERROR = 99


class ObservationError(CalligraphyError):
    """A look at the paper that could not be made; `code` is one of the constants above."""


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
    # The rectified sheet's blur measured on the markers' edges, undone in the stroke widths
    # (camera_feedback.blur); NaN when not measured (no strokes, undo_blur off, no usable edge).
    blur_sigma_m: float = math.nan
