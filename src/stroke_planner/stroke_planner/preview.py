"""Picture of plans for a person to check: glyph, strokes numbered in order, arrowed."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from stroke_planner.raster import ideal_reconstruction, paper_to_pixels, target_mask
from stroke_planner.types import CharacterPlan

PREVIEW_PX = 480  # pixels per character box side
_COLOURS = [  # BGR, distinct on white
    (180, 119, 31),
    (14, 127, 255),
    (44, 160, 44),
    (40, 39, 214),
    (189, 103, 148),
    (75, 86, 140),
    (194, 119, 227),
    (34, 189, 188),
    (207, 190, 23),
    (127, 127, 127),
]


def render_plan(plan: CharacterPlan, box_px: int = PREVIEW_PX) -> np.ndarray:
    """BGR image of one box: target glyph light grey, the ceiling reconstruction a shade
    darker, each stroke's centreline in its own colour with an arrow head at its end and its
    number (1-based, writing order) beside its start."""
    mpp = plan.box_size_m / box_px
    target = target_mask(plan, mpp)
    ideal = ideal_reconstruction(plan, mpp)
    image = np.full((box_px, box_px, 3), 255, np.uint8)
    image[target] = (215, 215, 215)
    image[ideal & target] = (190, 190, 190)
    image[ideal & ~target] = (200, 200, 240)
    cv2.rectangle(image, (0, 0), (box_px - 1, box_px - 1), (160, 160, 160), 1)
    thickness = max(2, box_px // 160)
    font_scale = box_px / 700.0
    labels = []
    for index, stroke in enumerate(plan.strokes):
        colour = _COLOURS[index % len(_COLOURS)]
        pixels = paper_to_pixels(plan, stroke.centreline, mpp)
        points = np.round(pixels).astype(np.int32)
        cv2.polylines(image, [points], False, colour, thickness, cv2.LINE_AA)
        # Arrow head over the last stretch of the stroke, sized to the box, not the stroke.
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pixels, axis=0), axis=1))])
        back = int(np.searchsorted(arc, arc[-1] - 0.06 * box_px))
        back = min(max(back, 0), len(points) - 1)
        if len(points) >= 2 and back < len(points) - 1:
            tail, tip = pixels[back], pixels[-1]
            tip_ratio = min(0.5, 0.05 * box_px / max(np.linalg.norm(tip - tail), 1e-6))
            cv2.arrowedLine(
                image,
                tuple(int(v) for v in np.round(tail)),
                tuple(int(v) for v in np.round(tip)),
                colour,
                thickness,
                cv2.LINE_AA,
                0,
                tip_ratio,
            )
        cv2.circle(image, tuple(int(v) for v in points[0]), thickness + 2, colour, -1, cv2.LINE_AA)
        labels.append((index, points[0], colour))
    for index, start, colour in labels:
        text = str(index + 1)
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        x = int(np.clip(start[0] - w - 6, 0, box_px - w))
        y = int(np.clip(start[1] - 6, h, box_px - 1))
        cv2.rectangle(image, (x - 2, y - h - 2), (x + w + 2, y + 4), (255, 255, 255), -1)
        cv2.putText(
            image,
            text,
            (x, y),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            colour,
            thickness,
            cv2.LINE_AA,
        )
    return image


def save_preview(
    plans: list[CharacterPlan], path: Path, box_px: int = PREVIEW_PX, per_row: int = 6
) -> None:
    """Boxes side by side in writing order, `per_row` to a row, saved as PNG."""
    tiles = [render_plan(plan, box_px) for plan in plans]
    rows = []
    for start in range(0, len(tiles), per_row):
        row = tiles[start : start + per_row]
        row += [np.full_like(tiles[0], 255)] * (per_row - len(row) if len(tiles) > per_row else 0)
        rows.append(np.concatenate(row, axis=1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.concatenate(rows, axis=0)):
        raise OSError(f'could not write {path}')
