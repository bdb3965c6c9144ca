"""Stroke-order data matched onto any outline font's glyph: the order from the data, the geometry
from the font.

The stroke-order data (hanzi-writer-data) knows each character's strokes — their order,
direction and count — only in the geometry of the AR PL Kaiti glyphs it was made from. To plan
the character in another font, the data's medians are registered onto that font's glyph:

1. Both sides are first made independent of stroke weight: the data's medians and the glyph's
   skeleton (Guo-Hall thinning, thinning.thin) are each drawn LINE_WIDTH of the box wide.
2. A global affine map from the data's box onto the glyph's: the centroid and spread of the
   data's filled outlines are put on the glyph's ink's (moments), then the map is refined by
   maximising the correlation of the two blurred line drawings (OpenCV ECC, coarse to fine).
3. A smooth non-rigid correction: a dense displacement field from the mapped line drawing of
   the data to the glyph's (OpenCV DIS optical flow on the blurred drawings) moves each median
   onto the glyph's strokes; a small sideways snap (at most SNAP_REACH) then puts it on the
   ridge of the glyph's ink, and each end is carried on along its direction while it stays in
   ink (at most END_REACH), where the font draws a stroke longer than the data.

Each data stroke keeps its own median through a crossing, so strokes that cross stay separate,
and each is written in the data's order and direction; the widths come from the glyph's
distance transform (planner).

Confidence, 0..1: the smaller of (a) the explained-ink IoU — the IoU with the glyph of a round
brush along the matched medians, as wide as the glyph's ink where it passes — rescaled so that
MIN_INK_IOU maps to 0 and GOOD_INK_IOU to 1, and (b) the smallest fraction, over the strokes,
of a matched median's middle (END_MARGIN of its length left off at each end) that lies on the
glyph's ink. Below MIN_CONFIDENCE the match is not trusted and the planner falls back to the
glyph's skeleton, saying why (except in UKai, the font the data was made from). Tuned on the
development set: every development character is trusted in the two Kaiti fonts (UKai, cwTeX
Kai) and 83 % in UMing (a Mingti font, whose thin strokes and serifs the Kaiti data fits less
well), while the data of a different character of about the same stroke count, matched onto a
glyph, passes in about 1 % of cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from stroke_planner.geometry import resample_polyline, sample, snap_to_ridge
from stroke_planner.stroke_data import (
    StrokeData,
    apply_affine,
    box_to_pixels,
    outline_mask,
)
from stroke_planner.thinning import gaussian_smooth, thin

# Resolutions (pixels per box side) at which the global affine is refined, coarse to fine.
ALIGN_LEVELS = (64, 128)
# Resolution and blur (pixels at that resolution) of the displacement field.
FLOW_PX = 128
FLOW_SIGMA = 2.0
# Largest sideways move of a moved median onto the glyph's ink ridge, fraction of the box.
SNAP_REACH = 0.02
# Largest extension of a median's end along its direction while in ink, fraction of the box;
# the end direction is taken over END_TANGENT times that length.
END_REACH = 0.06
END_TANGENT = 0.5
# The on-ink fraction of a median is measured without this fraction of its length at each end.
END_MARGIN = 0.15
# Spacing of the matched medians' points, and their Gaussian smoothing along their length,
# pixels of the work raster.
SAMPLE_PX = 2.0
SMOOTH_PX = 2.0
# Explained-ink IoU that maps to confidence 0 and to confidence 1.
MIN_INK_IOU = 0.6
GOOD_INK_IOU = 0.85
# Matches below this confidence are not trusted (tuned on the development set).
MIN_CONFIDENCE = 0.7
# A sane global map keeps the axes within this factor of each other's scale.
MAX_ANISOTROPY = 2.0

# Width of the lines that stand for the data's medians and the glyph's skeleton when the two are
# registered, fraction of the box.
LINE_WIDTH = 0.035

GlyphAt = Callable[[int], np.ndarray]


@dataclass(frozen=True)
class StrokeMatch:
    """The data's strokes matched onto one glyph.

    Attributes:
        polylines: one (M, 2) (col, row) pixel polyline per data stroke at the work resolution,
            in the data's writing order and direction.
        affine: (2, 3) global map from the data's normalised box onto the glyph's box.
        confidence: 0..1, see the module docstring.
        ink_iou: IoU with the glyph of a round brush along the matched medians, as wide as
            the glyph's ink where it passes (how much of the glyph the data explains).
        ink_fraction: smallest fraction over strokes of a moved median lying on ink.
    """

    polylines: tuple[np.ndarray, ...]
    affine: np.ndarray
    confidence: float
    ink_iou: float
    ink_fraction: float

    @property
    def trusted(self) -> bool:
        return self.confidence >= MIN_CONFIDENCE

    def reason(self) -> str:
        """Why the match is not trusted ('' when it is)."""
        if self.trusted:
            return ''
        return (
            f'stroke-order data does not fit the glyph (confidence {self.confidence:.2f} < '
            f'{MIN_CONFIDENCE}: explained-ink IoU {self.ink_iou:.2f}, worst stroke '
            f'{self.ink_fraction:.0%} on ink)'
        )


def _to_pixels(box_px: int) -> np.ndarray:
    """Normalised box (x right, y up) -> pixel-centre (col, row), as a 3x3 matrix."""
    return np.array([[box_px, 0.0, -0.5], [0.0, -box_px, box_px - 0.5], [0.0, 0.0, 1.0]])


def _ink_moments(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(mask)
    n = mask.shape[0]
    x = (cols + 0.5) / n
    y = 1.0 - (rows + 0.5) / n
    return np.array([x.mean(), y.mean()]), np.array([x.std(), y.std()])


def _moments_map(data_mask: np.ndarray, glyph: np.ndarray) -> np.ndarray:
    """Axis-aligned scale and shift putting the data's ink centroid and spread on the glyph's."""
    (data_c, data_s), (glyph_c, glyph_s) = _ink_moments(data_mask), _ink_moments(glyph)
    scale = glyph_s / np.maximum(data_s, 1e-6)
    affine = np.eye(3)
    affine[0, 0], affine[1, 1] = scale
    affine[:2, 2] = glyph_c - scale * data_c
    return affine


def _sane(affine: np.ndarray) -> bool:
    scales = np.linalg.svd(affine[:2, :2], compute_uv=False)
    return bool(
        np.all(np.isfinite(affine))
        and scales.min() > 0.3
        and scales.max() < 3.0
        and scales.max() / scales.min() < MAX_ANISOTROPY
        and np.abs(affine[:2, 2]).max() < 1.0
    )


def _lines(data: StrokeData, affine: np.ndarray, box_px: int) -> np.ndarray:
    """The data's medians, mapped by `affine`, drawn LINE_WIDTH of the box wide (uint8 0/1)."""
    canvas = np.zeros((box_px, box_px), np.uint8)
    width = max(int(round(LINE_WIDTH * box_px)), 1)
    for median in data.medians:
        pixels = box_to_pixels(apply_affine(affine[:2], median), box_px)
        cv2.polylines(
            canvas, [np.round(pixels * 16).astype(np.int32)], False, 1, width, cv2.LINE_8, 4
        )
    return canvas


def _bones(glyph: np.ndarray) -> np.ndarray:
    """The glyph's skeleton drawn LINE_WIDTH of the box wide: the same weight as `_lines`, so
    that fonts of any stroke weight are compared with the data on equal terms."""
    width = max(int(round(LINE_WIDTH * glyph.shape[0])), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    return cv2.dilate(thin(glyph).astype(np.uint8), kernel)


def align(data: StrokeData, glyph_at: GlyphAt, bones_at: GlyphAt | None = None) -> np.ndarray:
    """(3, 3) affine from the data's normalised box onto the glyph's (moments, then ECC).

    `bones_at(n)`: the glyph's `_bones` at n pixels per side, where already computed.
    """
    finest = ALIGN_LEVELS[-1]
    affine = _moments_map(outline_mask(data.outlines, finest), glyph_at(finest))
    bones_at = bones_at or (lambda n: _bones(glyph_at(n)))
    for box_px in ALIGN_LEVELS:
        glyph = bones_at(box_px).astype(np.float32)
        strokes = _lines(data, np.eye(3), box_px).astype(np.float32)
        to_px = _to_pixels(box_px)
        # ECC's warp maps glyph pixels onto data pixels: the inverse of ours, in pixels.
        warp = (to_px @ np.linalg.inv(affine) @ np.linalg.inv(to_px))[:2].astype(np.float32)
        sigma = 128.0 / box_px
        try:
            _, warp = cv2.findTransformECC(
                cv2.GaussianBlur(glyph, (0, 0), sigma),
                cv2.GaussianBlur(strokes, (0, 0), sigma),
                warp,
                cv2.MOTION_AFFINE,
                (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4),
                None,
                1,
            )
        except cv2.error:
            break
        candidate = np.linalg.inv(to_px) @ np.linalg.inv(np.vstack([warp, [0, 0, 1]])) @ to_px
        if not _sane(candidate):
            break
        affine = candidate
    return affine


def _flow(data_lines: np.ndarray, glyph_lines: np.ndarray) -> np.ndarray:
    """Dense displacement (FLOW_PX pixels, (dx, dy) per pixel) taking the mapped data onto the
    glyph: the data's line at p corresponds to the glyph's at p + flow(p)."""
    blur = [
        np.clip(cv2.GaussianBlur(m.astype(np.float32), (0, 0), FLOW_SIGMA) * 255, 0, 255).astype(
            np.uint8
        )
        for m in (data_lines, glyph_lines)
    ]
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(
        blur[0], blur[1], None
    )


def _displace(flow: np.ndarray, box_points: np.ndarray) -> np.ndarray:
    """Box points moved by the displacement field."""
    pixels = box_to_pixels(box_points, FLOW_PX)
    dx = sample(flow[..., 0], pixels[:, 0], pixels[:, 1])
    dy = sample(flow[..., 1], pixels[:, 0], pixels[:, 1])
    return box_points + np.stack([dx, -dy], axis=1) / FLOW_PX


def _extend_ends(pixels: np.ndarray, distance: np.ndarray, reach_px: float) -> np.ndarray:
    """Carry each end of a (col, row) polyline on along its end direction while it stays in the
    ink (at most `reach_px`): the data's medians stop short of ends that another font draws
    longer."""
    if len(pixels) < 3:
        return pixels
    ends = []
    for line in (pixels[::-1], pixels):  # the start (walking backwards), then the end
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(line, axis=0), axis=1))])
        back = line[
            min(int(np.searchsorted(arc, arc[-1] - END_TANGENT * reach_px)), len(line) - 2)
        ]
        direction = line[-1] - back
        norm = np.linalg.norm(direction)
        if norm < 1e-6:
            ends.append(np.zeros((0, 2)))
            continue
        steps = np.arange(1.0, reach_px + 1.0)
        ahead = line[-1] + steps[:, None] * direction / norm
        inside = sample(distance, ahead[:, 0], ahead[:, 1]) >= 1.0
        count = int(np.argmin(inside)) if not inside.all() else len(inside)
        ends.append(ahead[:count])
    return np.vstack([ends[0][::-1], pixels, ends[1]])


def match_strokes(
    data: StrokeData, glyph_at: GlyphAt, distance: np.ndarray, affine: np.ndarray | None = None
) -> StrokeMatch:
    """Match the data's strokes onto a glyph.

    Args:
        data: the character's stroke-order data.
        glyph_at: glyph mask (bool, row 0 = box top) at a given pixels-per-side.
        distance: distance transform of the glyph at the work resolution (its side = n).
        affine: the global map, when already known (default: `align`).
    """
    n = distance.shape[0]
    bones = {size: _bones(glyph_at(size)) for size in {*ALIGN_LEVELS, FLOW_PX}}
    affine = align(data, glyph_at, bones.get) if affine is None else affine
    flow = _flow(_lines(data, affine, FLOW_PX), bones[FLOW_PX])
    polylines, on_ink = [], []
    explained = np.zeros((n, n), np.uint8)
    glyph_n = distance > 0.0
    for median in data.medians:
        box = resample_polyline(apply_affine(affine[:2], median), SAMPLE_PX / n)
        pixels = box_to_pixels(_displace(flow, box), n)
        pixels = snap_to_ridge(pixels, distance, SNAP_REACH * n)
        pixels = _extend_ends(pixels, distance, END_REACH * n)
        # Smooth away the small zigzags that snapping leaves at sharp turns.
        pixels = resample_polyline(pixels, SAMPLE_PX)
        pixels = gaussian_smooth(pixels, SMOOTH_PX / SAMPLE_PX)
        radius = sample(distance, pixels[:, 0], pixels[:, 1])
        # Ends may overshoot a font's tapered stroke ends (they are trimmed to the ink later).
        margin = int(END_MARGIN * len(radius))
        on_ink.append(float(np.mean(radius[margin : len(radius) - margin] > 0.0)))
        polylines.append(pixels)
        centres = np.rint(pixels).astype(int).tolist()
        for (col, row), r in zip(centres, np.rint(radius).astype(int).tolist(), strict=True):
            if r > 0:
                cv2.circle(explained, (col, row), r, 1, -1)
    ink_iou = np.count_nonzero(glyph_n & (explained > 0)) / max(
        np.count_nonzero(glyph_n | (explained > 0)), 1
    )
    ink_fraction = min(on_ink) if on_ink else 0.0
    iou_score = (ink_iou - MIN_INK_IOU) / (GOOD_INK_IOU - MIN_INK_IOU)
    confidence = float(np.clip(min(iou_score, ink_fraction), 0.0, 1.0))
    return StrokeMatch(tuple(polylines), affine[:2].copy(), confidence, ink_iou, ink_fraction)
