"""Configuration of the ink budget and the dip-and-wipe routine (SI units, `paper` frame)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from calligraphy_sim.ink_well import InkWellGeometry

DIP_POLICIES = ('budget', 'every_n', 'fading')
DIP_MODES = ('full', 'quick')


@dataclass(frozen=True)
class InkBudgetConfig:
    """How the brush's ink is accounted for and when a dip is due.

    Attributes:
        capacity_m2: inked stroke area (`budget.stroke_area_m2`: planned width plus bleed,
            integrated along the centreline) that uses up one whole load, m²; the budget books
            ink linearly. Calibrated on the simulated nominal brush (`ink_dipping.capacity`,
            `calligraphy bench ink_capacity`): from the wipe load 0.9 to the floor 0.2, straight
            0.5-5 mm strokes ink 1,650-1,880 mm² per unit load; glyph strokes (curves,
            touch-downs) spend up to ~10 % more per booked area. With 1,400 mm² a two-sheet text
            of 385 strokes (test_ink_budget_sim) stays above the floor open loop (lowest 0.23)
            and with the paper's load fed back (0.204), with 7 dips for 6.1 loads of ink spent.
            A real brush is calibrated to the same figure.
        floor_load: a stroke is never started if it is predicted to end below this load (0..1).
        wipe_target_load: load left on the brush after wiping on the rim (0..1).
        policy: `budget` (dip before a stroke whose need exceeds what is left above the floor),
            `every_n` (dip every N strokes) or `fading` (dip when the camera sees strokes fading).
        every_n_strokes: N for the `every_n` policy.
        fading_darkness: for `fading`, dip when the last stroke's measured darkness (0..1)
            falls below this.
    """

    capacity_m2: float = 1.4e-3
    floor_load: float = 0.2
    wipe_target_load: float = 0.9
    policy: str = 'budget'
    every_n_strokes: int = 6
    fading_darkness: float = 0.55

    def __post_init__(self) -> None:
        if not self.capacity_m2 > 0.0:
            raise ValueError(f'capacity_m2 must be > 0, got {self.capacity_m2}')
        if not 0.0 <= self.floor_load < self.wipe_target_load <= 1.0:
            raise ValueError(
                'need 0 <= floor_load < wipe_target_load <= 1, got '
                f'{self.floor_load} and {self.wipe_target_load}'
            )
        if self.policy not in DIP_POLICIES:
            raise ValueError(f'policy must be one of {DIP_POLICIES}, got {self.policy!r}')
        if self.every_n_strokes < 1:
            raise ValueError(f'every_n_strokes must be >= 1, got {self.every_n_strokes}')
        if not 0.0 < self.fading_darkness < 1.0:
            raise ValueError(f'fading_darkness must be in (0, 1), got {self.fading_darkness}')


# One definition of the well for the dip and the simulation: both derive it from urdf/cell.yaml
# (`calligraphy_sim.ink_well.ink_well_in_paper`). Fields: x_m, y_m (opening centre), radius_m
# (inner radius), rim_height_m, ink_surface_height_m (above the paper surface), all in `paper`.
InkWellConfig = InkWellGeometry


@dataclass(frozen=True)
class DipRoutineConfig:
    """Timing and geometry of dip-and-wipe.

    Attributes:
        safe_height_m: travel height of the brush tip above the paper surface, m.
        dip_depth_m: how far the tip goes below the ink surface, m.
        dwell_s: time the bristles soak in `full` mode, s (`quick` uses a third of it).
        wipe_count: wipes on the rim in `full` mode (`quick` wipes once).
        wipe_direction_rad: direction in the paper plane in which the brush is drawn over the rim.
        travel_speed_m_s: peak tip speed of the moves, m/s.
        wipe_speed_m_s: peak tip speed while dragging over the rim, m/s.
    """

    safe_height_m: float = 0.04
    dip_depth_m: float = 0.008
    dwell_s: float = 0.6
    wipe_count: int = 2
    wipe_direction_rad: float = math.pi
    # Peak speeds (the moves are smoothstep-timed, mean = 2/3 of peak). A calligrapher's dip takes
    # a second or two; at 0.08 and 0.04 m/s the robot's took 11 s, a third of a character's time.
    travel_speed_m_s: float = 0.12
    wipe_speed_m_s: float = 0.06

    def __post_init__(self) -> None:
        if self.safe_height_m <= 0.0:
            raise ValueError(f'safe_height_m must be > 0, got {self.safe_height_m}')
        if self.dip_depth_m <= 0.0:
            raise ValueError(f'dip_depth_m must be > 0, got {self.dip_depth_m}')
        if self.dwell_s < 0.0 or self.wipe_count < 0:
            raise ValueError('dwell_s and wipe_count must be >= 0')
        if self.travel_speed_m_s <= 0.0 or self.wipe_speed_m_s <= 0.0:
            raise ValueError('speeds must be > 0')
