"""The sheet's grid of character boxes: which boxes are already written (kept in a JSON file
across restarts), and where the next free one is."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from calligraphy_writer.config import LAYOUTS, WriterConfig
from calligraphy_writer.sequencer import (
    PLANNING_FAILED,
    SIZE_OUT_OF_RANGE,
    TEXT_DOES_NOT_FIT,
    WriteError,
)


@dataclass(frozen=True)
class Box:
    """A square character box: lower-left corner and side in `paper`, m."""

    x_m: float
    y_m: float
    size_m: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.x_m < other.x_m + other.size_m
            and other.x_m < self.x_m + self.size_m
            and self.y_m < other.y_m + other.size_m
            and other.y_m < self.y_m + self.size_m
        )


def box_size(config: WriterConfig, size_m: float) -> float:
    """The box side a goal asks for: 0 = the configured default; NaN, infinite, negative or out
    of the configured range raises WriteError(SIZE_OUT_OF_RANGE)."""
    if not math.isfinite(size_m) or size_m < 0.0:
        raise WriteError(
            SIZE_OUT_OF_RANGE, f'size {size_m} m is not a finite positive number (0 = default)'
        )
    size = size_m if size_m > 0.0 else config.size_m
    if not config.min_size_m <= size <= config.max_size_m:
        raise WriteError(
            SIZE_OUT_OF_RANGE,
            f'size {size * 1000:.1f} mm is outside {config.min_size_m * 1000:.0f}..'
            f'{config.max_size_m * 1000:.0f} mm',
        )
    return size


class SheetGrid:
    """Tracks used boxes and hands out the next free cell in reading order.

    Rows: left to right, rows top to bottom. Columns (traditional): top to bottom, columns right to
    left. With a `state_path` the used boxes are kept in that JSON file (written on every change,
    read at construction), so a restarted writer knows which cells hold ink; `on_error` hears of
    a file that cannot be read or written (the cells are then kept in memory only).
    """

    def __init__(
        self,
        config: WriterConfig,
        state_path: str | Path | None = None,
        on_error: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.config = config
        self.used: list[Box] = []
        self.state_path = Path(state_path).expanduser() if state_path else None
        self.on_error = on_error
        if self.state_path is not None and self.state_path.exists():
            self._load()

    def _load(self) -> None:
        try:
            document = json.loads(self.state_path.read_text())
            boxes = [
                Box(float(b['x_m']), float(b['y_m']), float(b['size_m'])) for b in document['used']
            ]
        except (OSError, ValueError, KeyError, TypeError) as error:
            self.on_error(
                f'cannot read the used cells from {self.state_path} ({error}); starting with '
                'none: call /writer/new_sheet once the sheet is blank'
            )
            return
        self.used = [b for b in boxes if all(map(math.isfinite, (b.x_m, b.y_m, b.size_m)))]

    def _save(self) -> None:
        if self.state_path is None:
            return
        document = {'used': [{'x_m': b.x_m, 'y_m': b.y_m, 'size_m': b.size_m} for b in self.used]}
        partial = self.state_path.with_name(self.state_path.name + '.partial')
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps(document, indent=1) + '\n')
            # A reader (or a writer killed mid-write) sees the old file or the new, never half.
            os.replace(partial, self.state_path)
        except OSError as error:
            self.on_error(f'cannot save the used cells to {self.state_path}: {error}')

    def on_sheet(self, box: Box) -> bool:
        c = self.config
        return (
            box.x_m >= 0.0
            and box.y_m >= 0.0
            and box.x_m + box.size_m <= c.sheet_width_m + 1e-9
            and box.y_m + box.size_m <= c.sheet_height_m + 1e-9
        )

    def lines(self, size_m: float, layout: str | None = None) -> list[list[Box]]:
        """The grid cells of side `size_m` as lines in reading order: rows top to bottom, each
        left to right (`rows`), or columns right to left, each top to bottom (`columns`)."""
        c = self.config
        layout = layout or c.layout
        pitch = size_m + c.spacing_m
        usable_w = c.sheet_width_m - 2 * c.margin_m
        usable_h = c.sheet_height_m - 2 * c.margin_m
        n_cols = int((usable_w + c.spacing_m) // pitch)
        n_rows = int((usable_h + c.spacing_m) // pitch)
        top = c.sheet_height_m - c.margin_m - size_m
        xs = [c.margin_m + i * pitch for i in range(n_cols)]
        ys = [top - j * pitch for j in range(n_rows)]
        if layout == 'rows':
            return [[Box(x, y, size_m) for x in xs] for y in ys]
        return [[Box(x, y, size_m) for y in ys] for x in reversed(xs)]

    def cells(self, size_m: float, layout: str | None = None) -> list[Box]:
        """All grid cells of side `size_m`, in reading order."""
        return [box for line in self.lines(size_m, layout) for box in line]

    def is_free(self, box: Box) -> bool:
        return not any(box.overlaps(used) for used in self.used)

    def next_free(self, size_m: float, layout: str | None = None) -> Box | None:
        for box in self.cells(size_m, layout):
            if self.is_free(box):
                return box
        return None

    def place_text(self, text: str, size_m: float, layout: str) -> list[tuple[str, Box]]:
        """(character, box) of every inked character of `text`, in the free cells of the
        `layout` from the first free one on: a space leaves a free cell blank, a line break goes
        on in the next line (row or column), a full line wraps, used cells are skipped.

        Raises:
            WriteError: PLANNING_FAILED for an unknown layout, TEXT_DOES_NOT_FIT when the free
                cells cannot take the whole text (the message says how many characters fit).
        """
        if layout not in LAYOUTS:
            raise WriteError(
                PLANNING_FAILED, f'layout {clipped(layout)} is not one of {", ".join(LAYOUTS)}'
            )
        lines = self.lines(size_m, layout)
        free = [[self.is_free(box) for box in line] for line in lines]
        line_length = len(lines[0]) if lines else 0
        line, slot = 0, 0
        placed: list[tuple[str, Box]] = []
        for character in text.replace('\r\n', '\n'):
            if character == '\n':
                line, slot = line + 1, 0
                continue
            while line < len(lines) and (slot >= line_length or not free[line][slot]):
                line, slot = (line + 1, 0) if slot >= line_length else (line, slot + 1)
            if line >= len(lines):
                break
            if character.strip():
                placed.append((character, lines[line][slot]))
            slot += 1
        inked = sum(1 for character in text if character.strip())
        if len(placed) < inked:
            free_cells = sum(map(sum, free))
            raise WriteError(
                TEXT_DOES_NOT_FIT,
                f'{inked} characters do not fit: the sheet has {free_cells} free cells at '
                f'{size_m * 1000:g} mm in {layout} ({len(placed)} of the characters fit; '
                '/writer/new_sheet frees all cells)',
            )
        return placed

    def mark_used(self, box: Box) -> None:
        self.used.append(box)
        self._save()

    def clear(self) -> None:
        self.used.clear()
        self._save()


def clipped(text: str, limit: int = 20) -> str:
    """`text` quoted for a message, cut to `limit` characters with its length when longer."""
    if len(text) <= limit:
        return repr(text)
    return f'{text[:limit]!r}… ({len(text)} characters)'
