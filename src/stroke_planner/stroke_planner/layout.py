"""Layout of a text into square character boxes on the sheet."""

from __future__ import annotations

import math

from stroke_planner.config import LAYOUTS, StrokePlannerConfig
from stroke_planner.types import ErrorCode, PlanningError

_EPS = 1e-9


def layout_text(
    text: str,
    config: StrokePlannerConfig,
    size_m: float,
    layout: str,
    origin_m: tuple[float, float] | None = None,
) -> list[tuple[str, float, float]]:
    """(character, box_x_m, box_y_m) of every inked character, in writing order.

    `rows`: left to right, rows from the top down; `columns`: top to bottom, columns from the
    right to the left (traditional). A space leaves an empty box, a line break starts the next
    row/column, and a row/column that reaches the sheet's margin wraps.

    Raises:
        PlanningError: EMPTY_TEXT (nothing to ink), LAYOUT_INVALID (unknown layout, origin off
            the sheet), TEXT_DOES_NOT_FIT (runs past the sheet's margin).
    """
    if not text or not text.strip():
        raise PlanningError(ErrorCode.EMPTY_TEXT, 'the text is empty (or only blanks)')
    if layout not in LAYOUTS:
        raise PlanningError(
            ErrorCode.LAYOUT_INVALID, f'layout {layout!r} is not one of {", ".join(LAYOUTS)}'
        )
    width, height, margin = config.sheet_width_m, config.sheet_height_m, config.margin_m
    pitch = size_m + config.spacing_m
    line_pitch = size_m + config.line_spacing_m
    if origin_m is None:
        start_x = margin if layout == 'rows' else width - margin - size_m
        start_y = height - margin - size_m
        low_x, high_x, low_y, high_y = margin, width - margin, margin, height - margin
    else:
        start_x, start_y = (float(v) for v in origin_m)
        if not all(math.isfinite(v) for v in (start_x, start_y)) or not (
            0.0 <= start_x <= width - size_m + _EPS and 0.0 <= start_y <= height - size_m + _EPS
        ):
            raise PlanningError(
                ErrorCode.LAYOUT_INVALID,
                f'first box at ({start_x:.4f}, {start_y:.4f}) m with side {size_m:.4f} m is not '
                f'on the {width:.3f} x {height:.3f} m sheet',
            )
        # An explicit origin may use the whole sheet.
        low_x, high_x, low_y, high_y = 0.0, width, 0.0, height
    boxes = []
    line, slot = 0, 0
    for character in text.replace('\r\n', '\n'):
        if character == '\n':
            line, slot = line + 1, 0
            continue
        for _ in range(2):
            if layout == 'rows':
                x, y = start_x + slot * pitch, start_y - line * line_pitch
                wraps = x + size_m > high_x + _EPS
            else:
                x, y = start_x - line * line_pitch, start_y - slot * pitch
                wraps = y < low_y - _EPS
            if not wraps or slot == 0:
                break
            line, slot = line + 1, 0
        slot += 1
        if not character.strip():
            continue
        if (
            x < low_x - _EPS
            or x + size_m > high_x + _EPS
            or y < low_y - _EPS
            or (y + size_m > high_y + _EPS)
        ):
            raise PlanningError(
                ErrorCode.TEXT_DOES_NOT_FIT,
                f'{character!r} (character {len(boxes) + 1}) falls outside the sheet: '
                f'{size_m * 1000:g} mm boxes in {layout} leave no room for it',
            )
        boxes.append((character, x, y))
    if not boxes:
        raise PlanningError(ErrorCode.EMPTY_TEXT, 'the text has no character to write')
    return boxes
