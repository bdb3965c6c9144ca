"""Planner configuration: one frozen dataclass that validates itself."""

from __future__ import annotations

from dataclasses import dataclass

LAYOUTS = ('rows', 'columns')


@dataclass(frozen=True)
class PlannerConfig:
    """Settings of the stroke planner. Lengths in metres.

    Attributes:
        font: default font (`ukai`, `uming`, `hershey[:name]` or a TTF/OTF/TTC path).
        char_size_m: default side of a character box (the sheet is 0.297 x 0.210 m).
        min_char_size_m, max_char_size_m: accepted range of box sides.
        resample_step_m: arc-length spacing of centreline points.
        layout: `rows` (left to right, rows top to bottom) or `columns` (top to bottom,
            columns right to left).
        margin_m: blank border of the sheet that layout keeps free.
        spacing_m: gap between neighbouring boxes along a row (column).
        line_spacing_m: gap between rows (columns).
        sheet_width_m, sheet_height_m: the sheet (A4 landscape).
        single_line_width_ratio: nominal ink width of single-line (Hershey) strokes, as a fraction
            of the box side.
        work_px: pixels per box side of the internal glyph raster (skeleton, width profile);
            independent of the box size, so a plan scales exactly with it.
    """

    font: str = 'ukai'
    char_size_m: float = 0.06
    min_char_size_m: float = 0.005
    max_char_size_m: float = 0.2
    resample_step_m: float = 0.0005
    layout: str = 'rows'
    margin_m: float = 0.015
    spacing_m: float = 0.004
    line_spacing_m: float = 0.008
    sheet_width_m: float = 0.297
    sheet_height_m: float = 0.210
    single_line_width_ratio: float = 0.05
    work_px: int = 256

    def __post_init__(self) -> None:
        if not 0.0 < self.min_char_size_m <= self.max_char_size_m:
            raise ValueError(
                f'min_char_size_m ({self.min_char_size_m}) must be > 0 and <= max_char_size_m '
                f'({self.max_char_size_m})'
            )
        if not self.min_char_size_m <= self.char_size_m <= self.max_char_size_m:
            raise ValueError(
                f'char_size_m {self.char_size_m} outside [{self.min_char_size_m}, '
                f'{self.max_char_size_m}]'
            )
        if not 1e-5 <= self.resample_step_m <= 0.01:
            raise ValueError(f'resample_step_m {self.resample_step_m} outside [1e-5, 0.01] m')
        if self.layout not in LAYOUTS:
            raise ValueError(f'layout {self.layout!r} is not one of {LAYOUTS}')
        for name in ('margin_m', 'spacing_m', 'line_spacing_m'):
            if getattr(self, name) < 0.0:
                raise ValueError(f'{name} must be >= 0, got {getattr(self, name)}')
        if self.sheet_width_m <= 0.0 or self.sheet_height_m <= 0.0:
            raise ValueError('sheet size must be positive')
        if not 0.0 < self.single_line_width_ratio < 0.5:
            raise ValueError('single_line_width_ratio must be in (0, 0.5)')
        if not 64 <= self.work_px <= 2048:
            raise ValueError(f'work_px {self.work_px} outside [64, 2048]')
