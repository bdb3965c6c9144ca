"""Planner configuration: one frozen dataclass that validates itself."""

from __future__ import annotations

from dataclasses import dataclass

from calligraphy_model.cell_description import SHEET_HEIGHT_M, SHEET_WIDTH_M
from calligraphy_model.settings import setting

LAYOUTS = ('rows', 'columns')


@dataclass(frozen=True)
class StrokePlannerConfig:
    """Settings of the stroke planner (the stroke_planner_node's parameters). Lengths in metres.

    `margin_m`, `spacing_m` and `line_spacing_m` are the node's `layout.*` parameters,
    `sheet_width_m` and `sheet_height_m` its `sheet.width_m` and `sheet.height_m`. `work_px`
    is independent of the box size, so a plan scales exactly with it.
    """

    font: str = setting('ukai', 'default font: ukai, uming, hershey[:name] or a TTF/OTF/TTC path')
    fallback_font: str = setting(
        'ukai',
        'outline font used for a character the requested outline font lacks (empty: none, '
        'such a character is an error)',
    )
    char_size_m: float = setting(0.06, 'default character box side', unit='m', low=0.0)
    min_char_size_m: float = setting(0.005, 'smallest accepted box side', unit='m', low=0.0)
    max_char_size_m: float = setting(0.2, 'largest accepted box side', unit='m', low=0.0)
    resample_step_m: float = setting(
        0.0005, 'default centreline point spacing (arc length)', unit='m', low=1e-5, high=0.01
    )
    layout: str = setting(
        'rows',
        'default layout: rows (left to right, rows top to bottom) or columns (top to bottom, '
        'columns right to left)',
        choices=LAYOUTS,
    )
    margin_m: float = setting(0.015, 'blank sheet border kept by layout', unit='m', low=0.0)
    spacing_m: float = setting(
        0.004, 'gap between neighbouring boxes along a row (column)', unit='m', low=0.0
    )
    line_spacing_m: float = setting(0.008, 'gap between rows (columns)', unit='m', low=0.0)
    sheet_width_m: float = setting(
        SHEET_WIDTH_M, 'sheet width (paper x; A4 landscape)', unit='m', low=0.0
    )
    sheet_height_m: float = setting(SHEET_HEIGHT_M, 'sheet height (paper y)', unit='m', low=0.0)
    single_line_width_ratio: float = setting(
        0.05,
        'single-line (Hershey) font ink width, fraction of the box side',
        low=0.0,
        high=0.5,
    )
    work_px: int = setting(
        256,
        'internal glyph raster (skeleton, width profile), pixels per box side',
        low=64,
        high=2048,
    )

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
