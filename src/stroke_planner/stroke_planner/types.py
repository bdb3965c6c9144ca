"""Types the stroke planner speaks. All coordinates are metres in the `paper` frame.

`paper`: origin at the sheet's lower-left corner, x to the right, y up the sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np

from calligraphy_model.errors import CalligraphyError


class ErrorCode(IntEnum):
    """Error codes, equal to the constants of calligraphy_interfaces/srv/PlanStrokes (the
    planner's one mirror of them)."""

    SUCCESS = 0
    EMPTY_TEXT = 1
    CHARACTER_NOT_IN_FONT = 2
    FONT_UNREADABLE = 3
    SIZE_OUT_OF_RANGE = 4
    LAYOUT_INVALID = 5
    TEXT_DOES_NOT_FIT = 6
    INTERNAL_ERROR = 99


class PlanningError(CalligraphyError):
    """A request the planner cannot serve: `code` (an ErrorCode) says which kind, `message`
    what was wrong."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(code, message)
        self.code = ErrorCode(code)

    def __str__(self) -> str:
        return f'{self.code.name}: {self.message}'


class Source(StrEnum):
    """Where a character's strokes came from (StrokePlan.SOURCE_* constants)."""

    STROKE_DATA = 'stroke_data'
    SKELETON = 'skeleton'
    SINGLE_LINE = 'single_line'


@dataclass(frozen=True)
class Stroke:
    """One brush stroke.

    Attributes:
        centreline: (N, 2) float64, metres in `paper`, uniform arc-length spacing, in writing
            direction.
        width_m: (N,) float64, planned ink width at each centreline point, metres.
        travel_from_previous_m: pen-up travel from the end of the previous stroke (the box's
            lower-left corner for a character's first stroke) to this stroke's start, metres.
    """

    centreline: np.ndarray
    width_m: np.ndarray
    travel_from_previous_m: float = 0.0

    @property
    def length_m(self) -> float:
        return float(np.linalg.norm(np.diff(self.centreline, axis=0), axis=1).sum())


@dataclass(frozen=True)
class CharacterPlan:
    """The ordered strokes of one character placed in its square box on the sheet.

    Attributes:
        character: one Unicode code point.
        font: the font name (`ukai`, `hershey`, ...) or the path of the font file.
        source: a `Source` value.
        box_x_m, box_y_m: lower-left corner of the character box in `paper`, metres.
        box_size_m: side of the box, metres.
        strokes: strokes in writing order.
        step_m: arc-length spacing of centreline points, metres (the requested maximum; each
            stroke uses its length divided evenly, so the actual spacing is at most this).
        data_to_box: (2, 3) affine from the stroke-order data's unit square onto this glyph's,
            where the data has the character and the font has outlines (else None); the
            reference frame of the stroke-order figure (order_accuracy).
        match_confidence: how well the data's strokes fit the glyph, 0..1 (stroke_match),
            where they were matched (else None).
        fallback_reason: why the plan is not what was asked for: the stroke-order data was
            not used (missing, or not trusted on this glyph), or the requested font lacks the
            glyph and `font` is the fallback font ('' when nothing fell back).
    """

    character: str
    font: str
    source: Source
    box_x_m: float
    box_y_m: float
    box_size_m: float
    strokes: tuple[Stroke, ...]
    step_m: float
    data_to_box: np.ndarray | None = None
    match_confidence: float | None = None
    fallback_reason: str = ''
