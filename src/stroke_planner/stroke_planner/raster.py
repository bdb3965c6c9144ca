"""Masks of a plan's character box: the target glyph and the ideal (ceiling) reconstruction.

Rasters follow the cell's convention (calligraphy_model.raster; the box is the region): row 0 is
the top of the box, column 0 its left edge. Masks are scored by calligraphy_model.scoring.
"""

from __future__ import annotations

import cv2
import numpy as np

from calligraphy_model.raster import DEFAULT_MPP, Region
from calligraphy_model.scoring import iou
from stroke_planner.fonts import outline_font, resolve_font
from stroke_planner.types import CharacterPlan, ErrorCode, PlanningError

_SHIFT = 4  # cv2 fixed-point bits: 1/16 pixel precision for sub-pixel drawing
_ONE = 1 << _SHIFT


def box_region(plan: CharacterPlan) -> Region:
    """The plan's character box as a region of the sheet."""
    return Region(plan.box_x_m, plan.box_y_m, plan.box_size_m, plan.box_size_m)


def box_pixels(plan: CharacterPlan, metres_per_pixel: float) -> int:
    if metres_per_pixel <= 0.0:
        raise PlanningError(ErrorCode.SIZE_OUT_OF_RANGE, 'metres_per_pixel must be > 0')
    return box_region(plan).shape(metres_per_pixel)[0]


def paper_to_pixels(plan: CharacterPlan, points: np.ndarray, mpp: float) -> np.ndarray:
    """(N, 2) paper metres -> (N, 2) (col, row) continuous pixel-centre coordinates."""
    return box_region(plan).paper_to_pixel(points, mpp)


def draw_round_brush(
    canvas: np.ndarray, pixels: np.ndarray, radii_px: np.ndarray, value: int = 1
) -> None:
    """Stamp a round brush of varying radius along a polyline: discs at the points joined by
    the tangent hull of consecutive discs (exact for spacing below the radius)."""
    fixed = np.round(pixels * _ONE).astype(np.int32)
    radii = np.maximum(radii_px, 0.0)
    for k in range(len(pixels)):
        cv2.circle(
            canvas,
            tuple(int(v) for v in fixed[k]),
            int(round(radii[k] * _ONE)),
            value,
            -1,
            cv2.LINE_8,
            _SHIFT,
        )
    if len(pixels) < 2:
        return
    direction = np.diff(pixels, axis=0)
    length = np.linalg.norm(direction, axis=1, keepdims=True)
    normal = direction[:, ::-1] * np.array([1.0, -1.0]) / np.maximum(length, 1e-9)
    r0, r1 = radii[:-1, None], radii[1:, None]
    quads = np.stack(
        [
            pixels[:-1] + normal * r0,
            pixels[1:] + normal * r1,
            pixels[1:] - normal * r1,
            pixels[:-1] - normal * r0,
        ],
        axis=1,
    )
    for quad in np.round(quads * _ONE).astype(np.int32):
        cv2.fillConvexPoly(canvas, quad, value, cv2.LINE_8, _SHIFT)


def ideal_reconstruction(plan: CharacterPlan, metres_per_pixel: float = DEFAULT_MPP) -> np.ndarray:
    """The ceiling mask: a perfect round brush following each planned centreline with exactly the
    planned width (EVALUATION.md), in the plan's box (bool, row 0 = box top)."""
    n = box_pixels(plan, metres_per_pixel)
    canvas = np.zeros((n, n), np.uint8)
    for stroke in plan.strokes:
        pixels = paper_to_pixels(plan, stroke.centreline, metres_per_pixel)
        draw_round_brush(canvas, pixels, stroke.width_m / 2.0 / metres_per_pixel)
    return canvas.astype(bool)


def target_mask(plan: CharacterPlan, metres_per_pixel: float = DEFAULT_MPP) -> np.ndarray:
    """The target: the filled glyph of the plan's character in the plan's font, rendered into
    the plan's box (bool, row 0 = box top). A single-line font has no filled glyph: its target
    is its strokes at their nominal width, i.e. the ideal reconstruction."""
    spec = resolve_font(plan.font)
    if spec.kind == 'single_line':
        return ideal_reconstruction(plan, metres_per_pixel)
    n = box_pixels(plan, metres_per_pixel)
    font = outline_font(spec.path, spec.face_index)
    return font.render(plan.character, plan.box_size_m / metres_per_pixel, shape=n)


def ceiling_iou(plan: CharacterPlan, metres_per_pixel: float = DEFAULT_MPP) -> float:
    """IoU of the ideal reconstruction against the target glyph (calligraphy_model.scoring:
    NaN when both are empty)."""
    return iou(target_mask(plan, metres_per_pixel), ideal_reconstruction(plan, metres_per_pixel))
