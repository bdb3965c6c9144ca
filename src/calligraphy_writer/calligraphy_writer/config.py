"""Writer configuration (SI units, `paper` frame)."""

from __future__ import annotations

from dataclasses import dataclass

CONTROLLERS = ('constant', 'analytic', 'learned')
LAYOUTS = ('rows', 'columns')


@dataclass(frozen=True)
class WriterConfig:
    """What the writer does when a goal leaves a choice open.

    Attributes:
        font: default font name or path.
        size_m: default side of a character box, m.
        min_size_m, max_size_m: accepted range of box sizes, m.
        controller: default brush controller.
        use_feedback: observe the paper between strokes and condition the next on it.
        layout: `rows` or `columns`, for the next free cell and for texts.
        sheet_width_m, sheet_height_m: the sheet, m (paper frame origin at its lower-left corner).
        margin_m: free border of the sheet, m.
        spacing_m: gap between character boxes, m.
        service_timeout_s: how long to wait for a service answer, s.
        motion_timeout_s: how long to wait for one brush path's execution, s.
        hop_height_m: tip height above the sheet between strokes, m, within a character and
            from one character of a text to the next (the motion executor's safe height after
            the last stroke of a goal and to and from the ink well; 0 = always the safe height).
        save_dir: where observed images are saved ('' = not saved).
        sheet_state_file: JSON file of the sheet's used boxes, kept across restarts of the writer
            until /writer/new_sheet ('' = kept in memory only, for a cell whose sheet is new
            each time it starts, such as the simulation's virtual sheet).
    """

    font: str = 'ukai'
    size_m: float = 0.06
    min_size_m: float = 0.01
    max_size_m: float = 0.2
    controller: str = 'analytic'
    use_feedback: bool = True
    layout: str = 'rows'
    sheet_width_m: float = 0.297
    sheet_height_m: float = 0.210
    margin_m: float = 0.015
    spacing_m: float = 0.008
    service_timeout_s: float = 10.0
    motion_timeout_s: float = 60.0
    hop_height_m: float = 0.01
    save_dir: str = ''
    sheet_state_file: str = '~/.cache/calligraphy/sheet.json'

    def __post_init__(self) -> None:
        if not 0.0 < self.min_size_m <= self.size_m <= self.max_size_m:
            raise ValueError(
                f'need 0 < min_size_m <= size_m <= max_size_m, got {self.min_size_m}, '
                f'{self.size_m}, {self.max_size_m}'
            )
        if self.controller not in CONTROLLERS:
            raise ValueError(f'controller must be one of {CONTROLLERS}, got {self.controller!r}')
        if self.layout not in LAYOUTS:
            raise ValueError(f'layout must be one of {LAYOUTS}, got {self.layout!r}')
        if self.sheet_width_m <= 2 * self.margin_m or self.sheet_height_m <= 2 * self.margin_m:
            raise ValueError('the margins leave no room on the sheet')
        if not (self.hop_height_m == 0.0 or 0.005 <= self.hop_height_m <= 0.1):
            raise ValueError(
                f'hop_height_m must be 0 or in [0.005, 0.1] m, got {self.hop_height_m}'
            )
        if self.service_timeout_s <= 0.0 or self.motion_timeout_s <= 0.0:
            raise ValueError('timeouts must be > 0')
