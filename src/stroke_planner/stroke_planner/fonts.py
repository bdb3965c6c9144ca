"""Font resolution and glyph rasterisation (freetype), cached per font file.

A glyph is placed in its square character box through the font's em square: the box spans one
em horizontally (a narrower glyph is centred on its advance width) and vertically from 0.121 em
below the baseline to 0.879 em above it — the ideographic em box of the AR PL fonts, which is
also the 1024-unit box of the hanzi-writer stroke data (top at y = 900, bottom at y = -124).
Box coordinates are normalised: (0, 0) the box's lower-left corner, (1, 1) its upper-right.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import freetype
import numpy as np

from stroke_planner.types import ErrorCode, PlanningError

ARPHIC_DIR = Path('/usr/share/fonts/truetype/arphic')
# Configured font names -> (file, face index). Face 0 of the AR PL collections is the CN
# (simplified) variant, the glyph set the hanzi-writer data was extracted from.
NAMED_FONTS = {
    'ukai': (ARPHIC_DIR / 'ukai.ttc', 0),
    'uming': (ARPHIC_DIR / 'uming.ttc', 0),
}
HERSHEY_PREFIX = 'hershey'
DEFAULT_HERSHEY_FONT = 'futural'
# Baseline height above the box bottom, in em (124 / 1024, the AR PL ideographic box).
BASELINE_EM = 124.0 / 1024.0


@dataclass(frozen=True)
class FontSpec:
    """A resolved font: `kind` is `outline` (TTF/OTF/TTC) or `single_line` (Hershey)."""

    name: str
    kind: str
    path: str
    face_index: int = 0


def resolve_font(font: str) -> FontSpec:
    """Resolve a font name or path; PlanningError(FONT_UNREADABLE) when it cannot be used."""
    name = (font or 'ukai').strip()
    if name.lower() in NAMED_FONTS:
        path, index = NAMED_FONTS[name.lower()]
        spec = FontSpec(name.lower(), 'outline', str(path), index)
    elif name.lower().split(':', 1)[0] == HERSHEY_PREFIX:
        hershey = name.split(':', 1)[1] if ':' in name else DEFAULT_HERSHEY_FONT
        from stroke_planner.single_line import available_hershey_fonts

        if hershey not in available_hershey_fonts():
            raise PlanningError(
                ErrorCode.FONT_UNREADABLE,
                f'no Hershey font {hershey!r}; known: {", ".join(available_hershey_fonts())}',
            )
        return FontSpec(name, 'single_line', hershey)
    else:
        spec = FontSpec(name, 'outline', name, 0)
    outline_font(spec.path, spec.face_index)  # opens (and caches) it, or raises
    return spec


class OutlineFont:
    """One face of a TTF/OTF/TTC file, with glyph masks rendered by freetype.

    freetype faces carry state (size, transform), so every use holds the face's lock.
    """

    def __init__(self, path: str, face_index: int = 0) -> None:
        try:
            self._face = freetype.Face(path, face_index)
        except (freetype.FT_Exception, OSError, ValueError) as error:
            raise PlanningError(
                ErrorCode.FONT_UNREADABLE, f'cannot read font file {path!r}: {error}'
            ) from error
        if not self._face.is_scalable:
            raise PlanningError(
                ErrorCode.FONT_UNREADABLE, f'font {path!r} has no scalable outlines'
            )
        self.path = path
        self.units_per_em = float(self._face.units_per_EM)
        self._lock = threading.Lock()

    def has_glyph(self, character: str) -> bool:
        return self._face.get_char_index(ord(character)) != 0

    def _require(self, character: str) -> None:
        if not self.has_glyph(character):
            raise PlanningError(
                ErrorCode.CHARACTER_NOT_IN_FONT,
                f'font {self.path!r} has no glyph for {character!r} (U+{ord(character):04X})',
            )

    def advance_em(self, character: str) -> float:
        self._require(character)
        with self._lock:
            self._face.set_transform(
                freetype.Matrix(0x10000, 0, 0, 0x10000), freetype.Vector(0, 0)
            )
            self._face.load_char(
                character, freetype.FT_LOAD_NO_SCALE | freetype.FT_LOAD_NO_HINTING
            )
            return self._face.glyph.advance.x / self.units_per_em

    def render(self, character: str, box_px: float, shape: int | None = None) -> np.ndarray:
        """The filled glyph in a box of `box_px` pixels per side (bool, row 0 = box top).

        Pixel (i, j) covers [j, j + 1) x [i, i + 1) of the box in pixels; it is ink when
        freetype's coverage of it is at least one half. `shape` (default round(box_px)) sets the
        array size, for boxes that are not a whole number of pixels.
        """
        self._require(character)
        n = int(round(box_px)) if shape is None else int(shape)
        origin_x = -(self.advance_em(character) - 1.0) / 2.0 * box_px
        origin_y = BASELINE_EM * box_px
        ix, iy = int(np.floor(origin_x)), int(np.floor(origin_y))
        ppem = int(round(box_px * 64))
        with self._lock:
            face = self._face
            face.set_char_size(ppem, ppem, 72, 72)
            delta = freetype.Vector(
                int(round((origin_x - ix) * 64)), int(round((origin_y - iy) * 64))
            )
            face.set_transform(freetype.Matrix(0x10000, 0, 0, 0x10000), delta)
            face.load_char(
                character,
                freetype.FT_LOAD_RENDER | freetype.FT_LOAD_NO_HINTING | freetype.FT_LOAD_NO_BITMAP,
            )
            glyph = face.glyph
            # freetype-py's `bitmap.buffer` builds a Python list byte by byte (~3 ms for a
            # 256 px glyph); copying the C buffer directly takes microseconds.
            bitmap = glyph._FT_GlyphSlot.contents.bitmap
            rows, width, pitch = bitmap.rows, bitmap.width, abs(bitmap.pitch)
            coverage = (
                np.frombuffer(ctypes.string_at(bitmap.buffer, rows * pitch), np.uint8).reshape(
                    rows, pitch
                )[:, :width]
                if rows and width
                else np.zeros((0, 0), np.uint8)
            )
            left, top = glyph.bitmap_left, glyph.bitmap_top
        mask = np.zeros((n, n), bool)
        row0 = n - (iy + top)
        col0 = ix + left
        r0, c0 = max(row0, 0), max(col0, 0)
        r1, c1 = min(row0 + coverage.shape[0], n), min(col0 + coverage.shape[1], n)
        if r1 > r0 and c1 > c0:
            mask[r0:r1, c0:c1] = coverage[r0 - row0 : r1 - row0, c0 - col0 : c1 - col0] >= 128
        return mask


@lru_cache(maxsize=16)
def outline_font(path: str, face_index: int = 0) -> OutlineFont:
    """The cached OutlineFont of a file (opening a face costs ~ms; planning must not pay it)."""
    return OutlineFont(path, face_index)


@lru_cache(maxsize=4096)
def glyph_mask(path: str, face_index: int, character: str, box_px: int) -> np.ndarray:
    """Cached read-only glyph mask at the internal working resolution."""
    mask = outline_font(path, face_index).render(character, box_px)
    mask.flags.writeable = False
    return mask
