"""Ink budget: how much ink the brush carries and when it must be reloaded (no ROS).

The writer owns the budget and runs it in its own process: it asks `dip_decision` before each
stroke, never during one, and a stroke is only started when the ink left covers it above the
configured floor. Its parameters are the writer's `ink.*` (InkBudgetConfig's fields).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calligraphy_model.settings import check, setting

DIP_POLICIES = ('budget', 'every_n', 'fading')
# Ink spreads into the paper beyond the brush's footprint, and the footprint keeps a minimum width
# where the plan asks for a hairline, so the inked band is wider than the planned width by about
# this much (m). Fitted on the simulated nominal brush (paper bleed ~0.1 mm a side plus wicking
# while it dwells): with it, ink spent per booked area is the same for 0.5 mm and 5 mm strokes
# to within ~15 % (`calligraphy bench ink_capacity`), where the bare planned width is off by
# ~40 % on the thin strokes of a 3 cm character.
INK_BLEED_M = 0.0003


@dataclass(frozen=True)
class InkBudgetConfig:
    """How the brush's ink is accounted for and when a dip is due.

    Attributes:
        capacity_m2: inked stroke area (`stroke_area_m2`: planned width plus bleed, integrated
            along the centreline) that uses up one whole load, m²; the budget books ink
            linearly. Calibrated on the simulated nominal brush (`calligraphy bench
            ink_capacity`): from the wipe load 0.9 to the floor 0.2, straight 0.5-5 mm strokes
            ink 1,650-1,880 mm² per unit load; glyph strokes (curves, touch-downs) spend up to
            ~10 % more per booked area. With 1,400 mm² a two-sheet text of 385 strokes
            (test_ink_budget_sim) stays above the floor open loop (lowest 0.23) and with the
            paper's load fed back (0.204), with 7 dips for 6.1 loads of ink spent. A real brush
            is calibrated to the same figure.
        floor_load: a stroke is never started if it is predicted to end below this load (0..1).
        wipe_target_load: load left on the brush after wiping on the rim (0..1).
        policy: `budget` (dip before a stroke whose need exceeds what is left above the floor),
            `every_n` (dip every N strokes) or `fading` (dip when the camera sees strokes fading).
        every_n_strokes: N for the `every_n` policy.
        fading_darkness: for `fading`, dip when the last stroke's measured darkness (0..1)
            falls below this.
    """

    capacity_m2: float = setting(
        1.4e-3, 'inked stroke area that uses up one whole load of ink', unit='m^2', low=0.0
    )
    floor_load: float = setting(
        0.2, 'a stroke is never started if predicted to end below this load', low=0.0, high=1.0
    )
    wipe_target_load: float = setting(
        0.9, 'ink load left on the brush after wiping on the rim', low=0.0, high=1.0
    )
    policy: str = setting(
        'budget',
        'when to dip: before a stroke the ink left does not cover (budget), every N strokes, '
        'or when the camera sees strokes fading',
        choices=DIP_POLICIES,
    )
    every_n_strokes: int = setting(6, 'N for the every_n policy', low=1)
    fading_darkness: float = setting(
        0.55, 'fading policy: dip when the last stroke is lighter than this', low=0.0, high=1.0
    )

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
        check(self)


def stroke_area_m2(
    centreline_m: np.ndarray, width_m: np.ndarray, bleed_m: float = INK_BLEED_M
) -> float:
    """Inked area of a planned stroke, m²: (width + bleed) integrated along the centreline, plus
    round ends."""
    points = np.asarray(centreline_m, dtype=float).reshape(-1, 2)
    widths = np.asarray(width_m, dtype=float).reshape(-1) + bleed_m
    if len(points) != len(widths):
        raise ValueError(f'{len(points)} centreline points but {len(widths)} widths')
    if len(points) == 0:
        return 0.0
    segment = np.linalg.norm(np.diff(points, axis=0), axis=1)
    mid_width = 0.5 * (widths[1:] + widths[:-1])
    caps = 0.25 * np.pi * 0.5 * (widths[0] ** 2 + widths[-1] ** 2)
    return float(np.sum(segment * mid_width) + caps)


@dataclass(frozen=True)
class DipDecision:
    dip: bool
    reason: str


class InkBudget:
    """The brush's ink load (fraction of a full load), predicted from plans and corrected by
    measurements from the virtual paper or the camera."""

    def __init__(self, config: InkBudgetConfig, load: float = 1.0) -> None:
        self.config = config
        self._load = float(np.clip(load, 0.0, 1.0))
        self.strokes_since_dip = 0
        self.dips = 0

    @property
    def load(self) -> float:
        return self._load

    def need(self, stroke_area: float) -> float:
        """Fraction of a full load that inking `stroke_area` m² takes."""
        return stroke_area / self.config.capacity_m2

    def dip_decision(self, stroke_area: float, last_darkness: float | None = None) -> DipDecision:
        """Whether to dip before the next stroke (of `stroke_area` m²), under the chosen policy.

        Whatever the policy, a stroke whose predicted need would take the load below the floor
        triggers a dip first: running dry mid-stroke is never acceptable.
        """
        need = self.need(stroke_area)
        after = self._load - need
        if after < self.config.floor_load:
            return DipDecision(
                True,
                f'stroke needs {need:.2f} of a load, {self._load:.2f} left (floor '
                f'{self.config.floor_load:.2f})',
            )
        policy = self.config.policy
        if policy == 'every_n' and self.strokes_since_dip >= self.config.every_n_strokes:
            return DipDecision(True, f'{self.strokes_since_dip} strokes since the last dip')
        if (
            policy == 'fading'
            and last_darkness is not None
            and last_darkness < self.config.fading_darkness
        ):
            return DipDecision(True, f'last stroke faded to darkness {last_darkness:.2f}')
        return DipDecision(False, f'{self._load:.2f} left covers {need:.2f}')

    def consume(self, stroke_area: float) -> None:
        """Book a written stroke by its predicted consumption."""
        self._load = max(0.0, self._load - self.need(stroke_area))
        self.strokes_since_dip += 1

    def observe(self, measured_load: float) -> None:
        """Replace the prediction with a measurement (virtual paper or camera estimate)."""
        self._load = float(np.clip(measured_load, 0.0, 1.0))

    def reloaded(self, load: float) -> None:
        """Book a dip that left the brush at `load`."""
        self._load = float(np.clip(load, 0.0, 1.0))
        self.strokes_since_dip = 0
        self.dips += 1
