"""Configuration of the dip node and its dip-and-wipe routine (SI units, `paper` frame; no ROS).

The node declares DipRoutineConfig's fields as `dip.*`, InkWellSettings' as `ink_well.*` and
DipNodeConfig's under their own names. The well itself is the cell description's
(calligraphy_model.cell_description.InkWellGeometry, placed by InkWellSettings). The ink budget
that decides when to dip is the writer's (calligraphy_model.ink_budget).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from calligraphy_model.ink_budget import InkBudgetConfig
from calligraphy_model.settings import check, setting

DIP_MODES = ('full', 'quick')


@dataclass(frozen=True)
class DipRoutineConfig:
    """Timing and geometry of dip-and-wipe (parameters `dip.*`).

    Attributes:
        safe_height_m: travel height of the brush tip above the paper surface, m.
        dip_depth_m: how far the tip goes below the ink surface, m.
        dwell_s: time the bristles soak in `full` mode, s (`quick` uses a third of it).
        wipe_count: wipes on the rim in `full` mode (`quick` wipes once).
        wipe_direction_rad: direction in the paper plane in which the brush is drawn over the rim.
        travel_speed_m_s: peak tip speed of the moves, m/s.
        wipe_speed_m_s: peak tip speed while dragging over the rim, m/s.
    """

    safe_height_m: float = setting(
        0.04, 'travel height of the brush tip above the paper surface', unit='m', low=0.0
    )
    dip_depth_m: float = setting(
        0.008, 'how far the tip goes below the ink surface', unit='m', low=0.0
    )
    dwell_s: float = setting(
        0.6, 'time the bristles soak in full mode (quick: a third)', unit='s', low=0.0
    )
    wipe_count: int = setting(2, 'wipes on the rim in full mode (quick wipes once)', low=0)
    wipe_direction_rad: float = setting(
        math.pi, 'direction in the paper plane in which the brush is drawn over the rim',
        unit='rad',
    )  # fmt: skip
    # Peak speeds (the moves are smoothstep-timed, mean = 2/3 of peak). A calligrapher's dip takes
    # a second or two; at 0.08 and 0.04 m/s the robot's took 11 s, a third of a character's time.
    travel_speed_m_s: float = setting(0.12, 'peak tip speed of the moves', unit='m/s', low=0.0)
    wipe_speed_m_s: float = setting(
        0.06, 'peak tip speed while dragging over the rim', unit='m/s', low=0.0
    )

    def __post_init__(self) -> None:
        if self.safe_height_m <= 0.0:
            raise ValueError(f'safe_height_m must be > 0, got {self.safe_height_m}')
        if self.dip_depth_m <= 0.0:
            raise ValueError(f'dip_depth_m must be > 0, got {self.dip_depth_m}')
        if self.dwell_s < 0.0 or self.wipe_count < 0:
            raise ValueError('dwell_s and wipe_count must be >= 0')
        if self.travel_speed_m_s <= 0.0 or self.wipe_speed_m_s <= 0.0:
            raise ValueError('speeds must be > 0')


@dataclass(frozen=True)
class DipNodeConfig:
    """The dip node's own parameters."""

    cell_yaml: str = setting(
        '',
        "cell description ('' = urdf/cell.yaml of the checkout or the installed share): the "
        "well's pose and the arm's home pose for the reach check",
    )
    urdf_path: str = setting('', "arm model for the reach check ('' = the checkout's)")
    wipe_target_load: float = setting(
        InkBudgetConfig().wipe_target_load,
        'ink load reported after a dip where nothing measures it',
        low=0.0,
        high=1.0,
    )
    ink_load_topic: str = setting(
        'virtual_paper/ink_load', "the brush's measured ink load (std_msgs/Float64; '' = none)"
    )
    motion_timeout_s: float = setting(60.0, 'longest wait for one motion', unit='s', low=0.0)
    max_wipe_count: int = setting(10, 'largest wipe_count a goal may ask for', low=0)

    def __post_init__(self) -> None:
        if self.max_wipe_count < 0:
            raise ValueError(f'max_wipe_count must be >= 0, got {self.max_wipe_count}')
        check(self)
