"""Writer configuration (SI units, `paper` frame)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from calligraphy_model.cell_description import SHEET_HEIGHT_M, SHEET_WIDTH_M
from calligraphy_model.settings import check, setting

CONTROLLERS = ('constant', 'analytic', 'learned')
LAYOUTS = ('rows', 'columns')
OBSERVE_FROM = ('hover', 'clear_view')


@dataclass(frozen=True)
class WriterConfig:
    """What the writer does when a goal leaves a choice open (the writer_node's parameters)."""

    font: str = setting('ukai', 'default font: ukai, uming, hershey[:name] or a font file path')
    size_m: float = setting(0.06, 'default side of a character box', unit='m', low=0.0)
    min_size_m: float = setting(0.01, 'smallest accepted box side', unit='m', low=0.0)
    max_size_m: float = setting(0.2, 'largest accepted box side', unit='m', low=0.0)
    controller: str = setting('analytic', 'default brush controller', choices=CONTROLLERS)
    use_feedback: bool = setting(
        True, 'observe the paper between strokes and condition the next stroke on it'
    )
    layout: str = setting(
        'rows', 'reading order of the next free cell and of texts', choices=LAYOUTS
    )
    sheet_width_m: float = setting(SHEET_WIDTH_M, 'sheet width (paper x)', unit='m', low=0.0)
    sheet_height_m: float = setting(
        SHEET_HEIGHT_M,
        'sheet height (paper y; origin at its lower-left corner)',
        unit='m',
        low=0.0,
    )
    margin_m: float = setting(0.015, 'free border of the sheet', unit='m', low=0.0)
    spacing_m: float = setting(0.008, 'gap between character boxes', unit='m', low=0.0)
    service_timeout_s: float = setting(
        10.0, 'how long to wait for a service answer', unit='s', low=0.0
    )
    motion_timeout_s: float = setting(
        60.0, "how long to wait for one brush path's execution", unit='s', low=0.0
    )
    hop_height_m: float = setting(
        0.01,
        'tip height above the sheet between strokes, within a character and from one character '
        "of a text to the next (the motion executor's safe height after the last stroke of a "
        'goal and to and from the ink well); 0 = always the safe height, else at least 0.005',
        unit='m',
        low=0.0,
        high=0.1,
    )
    feedback_every_stroke: bool = setting(
        True,
        "with feedback, observe after every stroke; off: after each character's last stroke "
        'only, its estimate conditioning the next character (fewer observations: each one from '
        'a clear view costs robot time)',
    )
    chain_strokes: bool = setting(
        False,
        'send the strokes written between two observations and two dips to the motion executor '
        'as one goal (its then_paths): the brush hops from each stroke to the next without '
        'stopping in the air, and the arm does not settle and wait for a new goal between them',
    )
    observe_from: str = setting(
        'hover',
        "where the brush waits while the camera observes the sheet: 'hover' (at the hop height "
        "over the stroke's end, where the arm hides much of the character from a camera above "
        "it) or 'clear_view' (first moved out of the camera's way: clear_view_below_box_m below "
        "the character box's lower edge, towards the robot, at the box's middle and "
        'clear_view_height_m)',
        choices=OBSERVE_FROM,
    )
    clear_view_below_box_m: float = setting(
        0.06,
        "distance of the clear-view pose below the character box's lower edge (the arm hides "
        'none of the sheet at 0.05 m in the reference cell, some at 0.04: '
        'python -m calligraphy_sim.occlusion_bench)',
        unit='m',
    )
    clear_view_height_m: float = setting(
        0.045,
        "tip height of the clear-view pose above the sheet (the cell configs' safe height: a "
        'goal leaves the brush there)',
        unit='m',
        low=0.005,
    )
    prior_width_gain: float = setting(
        1.0,
        "the brush's width gain before the camera has measured a stroke of it (its widths over "
        "the nominal brush's at the same depths; 1 = nominal), and what open-loop writing is "
        "conditioned on: `calligraphy learn` prints the identified brush's",
        low=0.0,
    )
    save_dir: str = setting('', "where observed images are saved ('' = not saved)")
    sheet_state_file: str = setting(
        '~/.cache/calligraphy/sheet.json',
        "JSON file of the sheet's used boxes, kept across restarts of the writer until "
        "/writer/new_sheet ('' = kept in memory only, for a cell whose sheet is new each time "
        "it starts, such as the simulation's virtual sheet)",
    )

    def __post_init__(self) -> None:
        if not 0.0 < self.min_size_m <= self.size_m <= self.max_size_m:
            raise ValueError(
                f'need 0 < min_size_m <= size_m <= max_size_m, got {self.min_size_m}, '
                f'{self.size_m}, {self.max_size_m}'
            )
        if self.controller not in CONTROLLERS:
            raise ValueError(f'controller must be one of {CONTROLLERS}, got {self.controller!r}')
        if self.observe_from not in OBSERVE_FROM:
            raise ValueError(
                f'observe_from must be one of {OBSERVE_FROM}, got {self.observe_from!r}'
            )
        if self.layout not in LAYOUTS:
            raise ValueError(f'layout must be one of {LAYOUTS}, got {self.layout!r}')
        if self.sheet_width_m <= 2 * self.margin_m or self.sheet_height_m <= 2 * self.margin_m:
            raise ValueError('the margins leave no room on the sheet')
        if not (self.hop_height_m == 0.0 or 0.005 <= self.hop_height_m <= 0.1):
            raise ValueError(
                f'hop_height_m must be 0 or in [0.005, 0.1] m, got {self.hop_height_m}'
            )
        if not (0.0 < self.prior_width_gain < math.inf):
            raise ValueError(f'prior_width_gain must be > 0, got {self.prior_width_gain}')
        if self.service_timeout_s <= 0.0 or self.motion_timeout_s <= 0.0:
            raise ValueError('timeouts must be > 0')
        check(self)
