"""Single-line (engraving) fonts: Hershey glyphs as centrelines with a nominal width."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from HersheyFonts import HersheyFonts

from stroke_planner.types import ErrorCode, PlanningError

# Placement in the box (normalised, y up): the Hershey base line sits where the AR PL em box puts
# the baseline of a Latin letter, and the cap height takes CAP_HEIGHT of the box, so Latin
# capitals and CJK characters written side by side look about the same size.
BASELINE = 0.22
CAP_HEIGHT = 0.62


@lru_cache(maxsize=1)
def available_hershey_fonts() -> tuple[str, ...]:
    return tuple(HersheyFonts().default_font_names)


@lru_cache(maxsize=8)
def _font(name: str) -> HersheyFonts:
    font = HersheyFonts()
    font.load_default_font(name)
    return font


@lru_cache(maxsize=2048)
def hershey_strokes(name: str, character: str) -> tuple[np.ndarray, ...]:
    """A character's strokes in normalised box coordinates (0..1, y up), drawing order."""
    font = _font(name)
    options = font.render_options
    glyphs = list(font.glyphs_for_text(character))
    if len(glyphs) != 1 or (not glyphs[0].lines and character.strip()):
        raise PlanningError(
            ErrorCode.CHARACTER_NOT_IN_FONT,
            f'Hershey font {name!r} has no glyph for {character!r} (U+{ord(character):04X})',
        )
    cap, base = options['cap_line'], options['base_line']
    scale = CAP_HEIGHT / float(base - cap)
    strokes = [np.array(s, float) for s in font.strokes_for_text(character) if len(s) >= 2]
    if not strokes:
        raise PlanningError(
            ErrorCode.CHARACTER_NOT_IN_FONT, f'Hershey glyph of {character!r} has no strokes'
        )
    points = np.vstack(strokes)
    centre_x = (points[:, 0].min() + points[:, 0].max()) / 2.0
    return tuple(
        np.stack([0.5 + (s[:, 0] - centre_x) * scale, BASELINE + (base - s[:, 1]) * scale], axis=1)
        for s in strokes
    )
