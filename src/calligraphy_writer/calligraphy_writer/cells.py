"""Which character boxes of the sheet are already written, and where the next free one is."""

from __future__ import annotations

from dataclasses import dataclass

from calligraphy_writer.config import WriterConfig


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


class SheetCells:
    """Tracks used boxes and hands out the next free cell in reading order.

    Rows: left to right, rows top to bottom. Columns (traditional): top to bottom, columns right to
    left.
    """

    def __init__(self, config: WriterConfig) -> None:
        self.config = config
        self.used: list[Box] = []

    def on_sheet(self, box: Box) -> bool:
        c = self.config
        return (
            box.x_m >= 0.0
            and box.y_m >= 0.0
            and box.x_m + box.size_m <= c.sheet_width_m + 1e-9
            and box.y_m + box.size_m <= c.sheet_height_m + 1e-9
        )

    def cells(self, size_m: float) -> list[Box]:
        """All grid cells of side `size_m`, in reading order."""
        c = self.config
        pitch = size_m + c.spacing_m
        usable_w = c.sheet_width_m - 2 * c.margin_m
        usable_h = c.sheet_height_m - 2 * c.margin_m
        n_cols = int((usable_w + c.spacing_m) // pitch)
        n_rows = int((usable_h + c.spacing_m) // pitch)
        top = c.sheet_height_m - c.margin_m - size_m
        xs = [c.margin_m + i * pitch for i in range(n_cols)]
        ys = [top - j * pitch for j in range(n_rows)]
        if c.layout == 'rows':
            return [Box(x, y, size_m) for y in ys for x in xs]
        return [Box(x, y, size_m) for x in reversed(xs) for y in ys]

    def next_free(self, size_m: float) -> Box | None:
        for box in self.cells(size_m):
            if not any(box.overlaps(used) for used in self.used):
                return box
        return None

    def mark_used(self, box: Box) -> None:
        self.used.append(box)

    def clear(self) -> None:
        self.used.clear()
