"""Sheets with ink of exactly known geometry, for the tests and the camera benchmark."""

from __future__ import annotations

import numpy as np

from calligraphy_model.cell_description import SHEET_HEIGHT_M, SHEET_WIDTH_M
from calligraphy_model.raster import DEFAULT_MPP, Region
from calligraphy_model.stroke_width import render_strokes
from calligraphy_model.types import StrokeSpec

SHEET_MPP = DEFAULT_MPP
SHEET = Region(0.0, 0.0, SHEET_WIDTH_M, SHEET_HEIGHT_M)


def line_stroke(
    p0: tuple[float, float],
    p1: tuple[float, float],
    width_m: float | np.ndarray,
    index: int = 0,
    points: int = 40,
) -> StrokeSpec:
    """A straight stroke from p0 to p1 (paper metres) of constant or per-point width."""
    t = np.linspace(0.0, 1.0, points)[:, None]
    centreline = np.asarray(p0) * (1 - t) + np.asarray(p1) * t
    width = np.full(points, width_m) if np.isscalar(width_m) else np.asarray(width_m)
    return StrokeSpec(centreline, width, index)


def sheet_with_strokes(strokes: list[StrokeSpec], ink_grey: int = 25) -> np.ndarray:
    """uint8 rgb sheet image (0.25 mm/px, row 0 = top) with the strokes inked as round-brush
    footprints of exactly their planned widths."""
    ink = render_strokes(strokes, SHEET, SHEET_MPP)
    sheet = np.full((*ink.shape, 3), 255, np.uint8)
    sheet[ink] = ink_grey
    return sheet
