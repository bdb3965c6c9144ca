"""Plan a character (or a text) as ordered brush strokes in the `paper` frame."""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from stroke_planner.config import StrokePlannerConfig
from stroke_planner.fonts import NAMED_FONTS, FontSpec, glyph_mask, outline_font, resolve_font
from stroke_planner.geometry import resample_polyline, sample
from stroke_planner.layout import layout_text
from stroke_planner.single_line import hershey_strokes
from stroke_planner.skeleton import skeleton_strokes
from stroke_planner.stroke_data import load_stroke_data, pixels_to_box
from stroke_planner.stroke_match import StrokeMatch, match_strokes
from stroke_planner.types import CharacterPlan, ErrorCode, PlanningError, Source, Stroke

# The fonts the stroke-order data was made from (AR PL Kaiti): its strokes are these glyphs' own,
# so they are used whatever the match's confidence (which is still reported).
DATA_FONTS = {(str(NAMED_FONTS['ukai'][0]), NAMED_FONTS['ukai'][1])}
# Planned widths at a crossing are capped at this multiple of the stroke's median width, so the
# bulge of the distance transform where strokes cross does not make a blot.
CROSSING_WIDTH_CAP = 1.3


@lru_cache(maxsize=4096)
def _distance(path: str, face_index: int, character: str, box_px: int) -> np.ndarray:
    mask = glyph_mask(path, face_index, character, box_px)
    distance = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    # Distances are measured between pixel centres; the ink edge lies half a pixel nearer.
    distance = np.maximum(distance - 0.5, 0.0)
    distance.flags.writeable = False
    return distance


@lru_cache(maxsize=4096)
def _match(path: str, face_index: int, character: str, box_px: int) -> StrokeMatch | None:
    """The stroke-order data matched onto the glyph (None where the data lacks the character)."""
    data = load_stroke_data(character)
    if data is None:
        return None
    return match_strokes(
        data,
        lambda n: glyph_mask(path, face_index, character, n),
        _distance(path, face_index, character, box_px),
    )


def _alignment(path: str, face_index: int, character: str, box_px: int = 256) -> np.ndarray:
    """(2, 3) global affine from the data's unit square onto the glyph's."""
    return _match(path, face_index, character, box_px).affine


def _with_widths(
    polylines_px: list[np.ndarray], distance: np.ndarray, step_px: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Resample (col, row) polylines at `step_px` and give each point the ink width there."""
    strokes = []
    for polyline in polylines_px:
        points = resample_polyline(polyline, step_px)
        radius = sample(distance, points[:, 0], points[:, 1])
        inside = np.nonzero(radius > 0.0)[0]
        if len(inside) >= 2:
            # Medians may start or end a little outside the ink; the brush starts where ink does.
            points = resample_polyline(points[inside[0] : inside[-1] + 1], step_px)
            radius = sample(distance, points[:, 0], points[:, 1])
        if len(points) >= 3:
            radius = np.minimum(radius, CROSSING_WIDTH_CAP * np.median(radius))
        strokes.append((points, 2.0 * radius))
    return strokes


class StrokePlanner:
    """Plans characters and texts; keeps fonts, glyph rasters and data loaded between calls."""

    def __init__(self, config: StrokePlannerConfig | None = None) -> None:
        self.config = config or StrokePlannerConfig()

    def _check_size(self, size_m: float) -> None:
        low, high = self.config.min_char_size_m, self.config.max_char_size_m
        if not (math.isfinite(size_m) and low <= size_m <= high):
            raise PlanningError(
                ErrorCode.SIZE_OUT_OF_RANGE,
                f'character size {size_m * 1000:g} mm is outside [{low * 1000:g}, '
                f'{high * 1000:g}] mm',
            )

    def _check_step(self, step_m: float, size_m: float) -> None:
        if not (math.isfinite(step_m) and 1e-5 <= step_m <= size_m / 4.0):
            raise PlanningError(
                ErrorCode.SIZE_OUT_OF_RANGE,
                f'resample step {step_m * 1000:g} mm is outside [0.01 mm, a quarter of the '
                f'{size_m * 1000:g} mm box]',
            )

    def _with_glyph(self, spec: FontSpec, character: str) -> tuple[FontSpec, str]:
        """The font to plan `character` in: the requested one, or the fallback font where an
        outline font lacks the glyph (with the reason); a font that cannot serve it raises
        CHARACTER_NOT_IN_FONT when the glyph is rendered."""
        if spec.kind != 'outline' or outline_font(spec.path, spec.face_index).has_glyph(character):
            return spec, ''
        if not self.config.fallback_font.strip():
            return spec, ''
        fallback = resolve_font(self.config.fallback_font)
        if (
            fallback.kind != 'outline'
            or fallback == spec
            or not outline_font(fallback.path, fallback.face_index).has_glyph(character)
        ):
            return spec, ''
        return fallback, (
            f'font {spec.name!r} has no glyph for {character!r} (U+{ord(character):04X}); '
            f'planned in the fallback font {fallback.name!r}'
        )

    def choose_source(
        self, spec: FontSpec, character: str, forced: Source | None = None
    ) -> tuple[Source, StrokeMatch | None, str]:
        """The glyph source, the data matched onto the glyph (None where there is none) and
        why the stroke-order data is not used ('' when it is, or when `forced`)."""
        if spec.kind == 'single_line':
            return forced or Source.SINGLE_LINE, None, ''
        match = _match(spec.path, spec.face_index, character, self.config.work_px)
        if forced is not None:
            return forced, match, ''
        if match is None:
            return Source.SKELETON, None, f'no stroke-order data for {character!r}'
        if not match.trusted and (spec.path, spec.face_index) not in DATA_FONTS:
            return Source.SKELETON, match, match.reason()
        return Source.STROKE_DATA, match, ''

    def _box_strokes(
        self,
        spec: FontSpec,
        character: str,
        source: Source,
        step: float,
        match: StrokeMatch | None,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Strokes in normalised box coordinates (0..1, y up): (points, widths) pairs."""
        if source == Source.SINGLE_LINE:
            width = self.config.single_line_width_ratio
            strokes = []
            for polyline in hershey_strokes(spec.path, character):
                points = resample_polyline(polyline, step)
                strokes.append((points, np.full(len(points), width)))
            return strokes
        n = self.config.work_px
        distance = _distance(spec.path, spec.face_index, character, n)
        step_px = step * n
        if source == Source.STROKE_DATA:
            polylines = list(match.polylines)
        else:
            polylines = skeleton_strokes(glyph_mask(spec.path, spec.face_index, character, n))
        return [
            (pixels_to_box(points, n), widths / n)
            for points, widths in _with_widths(polylines, distance, step_px)
        ]

    def plan_character(
        self,
        character: str,
        font: str | None = None,
        box_x_m: float = 0.0,
        box_y_m: float = 0.0,
        size_m: float | None = None,
        resample_step_m: float | None = None,
        source: Source | str | None = None,
    ) -> CharacterPlan:
        """Ordered strokes of one character in the box with lower-left (box_x_m, box_y_m).

        Args:
            character: one Unicode code point that puts ink on paper.
            font: `ukai`, `uming`, `hershey[:name]` or a TTF/OTF/TTC path (default: config).
            box_x_m, box_y_m: lower-left corner of the character box in `paper`, metres.
            size_m: side of the box, metres (default: config).
            resample_step_m: arc-length spacing of centreline points (default: config).
            source: force a glyph source (`skeleton` where there is stroke-order data, for
                comparison; `stroke_data` even where the match is not trusted); default: the
                stroke-order data matched onto the font's glyph where the data has the
                character and the match is trusted (stroke_match), else the glyph's skeleton.
                An outline font lacking the glyph falls back to `config.fallback_font`; the
                plan's `fallback_reason` says what fell back and why.

        Raises:
            PlanningError: EMPTY_TEXT, CHARACTER_NOT_IN_FONT, FONT_UNREADABLE,
                SIZE_OUT_OF_RANGE.
        """
        if not character or not character.strip():
            raise PlanningError(ErrorCode.EMPTY_TEXT, 'no character to plan (empty or blank)')
        if len(character) != 1:
            raise PlanningError(
                ErrorCode.LAYOUT_INVALID, f'plan_character takes one character, got {character!r}'
            )
        size_m = self.config.char_size_m if size_m is None else float(size_m)
        step_m = self.config.resample_step_m if resample_step_m is None else float(resample_step_m)
        self._check_size(size_m)
        self._check_step(step_m, size_m)
        spec, font_note = self._with_glyph(resolve_font(font or self.config.font), character)
        forced = None if source is None else Source(source)
        chosen, match, data_note = self.choose_source(spec, character, forced)
        if chosen == Source.STROKE_DATA and match is None:
            raise PlanningError(
                ErrorCode.CHARACTER_NOT_IN_FONT,
                f'no stroke-order data for {character!r} with font {spec.name!r}',
            )
        if chosen == Source.SINGLE_LINE and spec.kind != 'single_line':
            raise PlanningError(
                ErrorCode.FONT_UNREADABLE, f'font {spec.name!r} is not a single-line font'
            )
        if chosen == Source.SKELETON and spec.kind != 'outline':
            raise PlanningError(
                ErrorCode.FONT_UNREADABLE, f'font {spec.name!r} has no outlines to skeletonize'
            )
        box_strokes = self._box_strokes(spec, character, chosen, step_m / size_m, match)
        origin = np.array([box_x_m, box_y_m], float)
        strokes = []
        previous_end = origin
        for points, widths in box_strokes:
            centreline = origin + points * size_m
            strokes.append(
                Stroke(
                    centreline=centreline,
                    width_m=widths * size_m,
                    travel_from_previous_m=float(np.linalg.norm(centreline[0] - previous_end)),
                )
            )
            previous_end = centreline[-1]
        return CharacterPlan(
            character=character,
            font=spec.name,
            source=chosen,
            box_x_m=float(box_x_m),
            box_y_m=float(box_y_m),
            box_size_m=size_m,
            strokes=tuple(strokes),
            step_m=step_m,
            data_to_box=None if match is None else match.affine.copy(),
            match_confidence=None if match is None else round(match.confidence, 4),
            fallback_reason='; '.join(note for note in (font_note, data_note) if note),
        )

    def plan_text(
        self,
        text: str,
        font: str | None = None,
        size_m: float | None = None,
        layout: str | None = None,
        origin_m: tuple[float, float] | None = None,
        resample_step_m: float | None = None,
    ) -> list[CharacterPlan]:
        """One plan per inked character of `text`, in writing order, laid out on the sheet.

        Spaces leave an empty box; a line break starts a new row (`rows`) or column
        (`columns`); a full row or column wraps. `origin_m` places the first box's lower-left
        corner; by default layout starts at the sheet's top-left (rows) or top-right (columns)
        margin.

        Raises:
            PlanningError: any code of plan_character, plus LAYOUT_INVALID and
                TEXT_DOES_NOT_FIT.
        """
        size_m = self.config.char_size_m if size_m is None else float(size_m)
        self._check_size(size_m)
        boxes = layout_text(text, self.config, size_m, layout or self.config.layout, origin_m)
        return [
            self.plan_character(
                character, font, x, y, size_m=size_m, resample_step_m=resample_step_m
            )
            for character, x, y in boxes
        ]


@lru_cache(maxsize=1)
def default_planner() -> StrokePlanner:
    return StrokePlanner()


def plan_character(
    character: str,
    font: str = 'ukai',
    box_x_m: float = 0.0,
    box_y_m: float = 0.0,
    size_m: float = 0.06,
    resample_step_m: float = 0.0005,
    source: Source | str | None = None,
) -> CharacterPlan:
    """`StrokePlanner.plan_character` with the default configuration."""
    return default_planner().plan_character(
        character, font, box_x_m, box_y_m, size_m, resample_step_m, source
    )


def plan_text(
    text: str,
    font: str = 'ukai',
    size_m: float = 0.06,
    layout: str = 'rows',
    origin_m: tuple[float, float] | None = None,
    resample_step_m: float = 0.0005,
) -> list[CharacterPlan]:
    """`StrokePlanner.plan_text` with the default configuration."""
    return default_planner().plan_text(text, font, size_m, layout, origin_m, resample_step_m)
