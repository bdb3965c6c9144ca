"""The writer's side of camera feedback: which brush state each stroke was written with, and
which strokes the brush-state estimator has already seen.

The controller compensates for the width gain it is given, so a stroke written with gain g that
comes out r times its planned width says the brush's gain is g·r, not r. The estimator
(calligraphy_model.brush_state) does that arithmetic; this class makes sure every stroke reaches
it exactly once, with the state that stroke was written with, although every observation after
stroke k measures all strokes 0..k of the character again.

One estimator serves the writer for as long as it runs, across characters and goals: the width
gain belongs to the brush, not to a character (the estimator's forgetting follows a brush that
changes). Ink load is not taken from it: the writer's ink budget, which also decides the dips and
is reset by each dip, is what the controller is told (`state_for_stroke`).

A measured width is compared with the width the brush should have laid at the depths the
controller commanded (`commanded`), not with the plan: the learned policy writes a little wide
where the glyph scores better so, and that is the controller's intent, not the brush's gain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from calligraphy_model.brush import BrushParams
from calligraphy_model.brush_state import BrushStateEstimate, BrushStateEstimator, commanded_widths
from calligraphy_model.types import StrokeMeasurement


class StrokeFeedback:
    """Feeds the camera's per-stroke widths to a BrushStateEstimator once per stroke."""

    def __init__(
        self,
        estimator: BrushStateEstimator | None = None,
        seen_width_at_depth: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        """Args:
        estimator: the brush-state estimator (default: its default tuning, nominal prior).
        seen_width_at_depth: the width the camera sees a nominal brush lay at a depth (m -> m;
            the brush parameter file's curve; default: the nominal brush's).
        """
        self.estimator = estimator or BrushStateEstimator()
        self.seen_width_at_depth = seen_width_at_depth or BrushParams().seen_width_at_depth
        self._written: dict[int, BrushStateEstimate] = {}
        self._expected: dict[int, np.ndarray] = {}
        self._folded: set[int] = set()

    @property
    def estimate(self) -> BrushStateEstimate:
        return self.estimator.estimate

    def state_for_stroke(
        self, stroke_index: int, conditioned_on: BrushStateEstimate | None, ink_load: float
    ) -> BrushStateEstimate:
        """The state stroke `stroke_index` of the current character is written with, recorded
        for its measurement later. Stroke 0 starts a new character.

        Args:
            stroke_index: index of the stroke in its character's plan.
            conditioned_on: the state the writer chose to condition on (None: the estimator's
                prior, as when writing open loop or before the camera measured a stroke).
            ink_load: the ink the writer's budget says the brush carries, 0..1.
        """
        if stroke_index == 0:
            self._written.clear()
            self._expected.clear()
            self._folded.clear()
        base = conditioned_on if conditioned_on is not None else self.estimator.prior
        state = replace(base, ink_load=float(ink_load))
        self._written[stroke_index] = state
        return state

    def commanded(
        self,
        stroke_index: int,
        centreline_m: np.ndarray,
        path_xy_m: np.ndarray,
        path_depth_m: np.ndarray,
    ) -> None:
        """Record the path the controller returned for stroke `stroke_index` (after
        `state_for_stroke`): the widths it should lay along the planned centreline."""
        state = self._written.get(stroke_index, BrushStateEstimate())
        self._expected[stroke_index] = commanded_widths(
            centreline_m, path_xy_m, path_depth_m, self.seen_width_at_depth, state.width_gain
        )

    def observed(self, strokes: Sequence[StrokeMeasurement]) -> BrushStateEstimate | None:
        """Fold in the strokes of an observation not folded in before; None when none was new.

        A stroke is folded in at the first observation that measured a width on it: one seen
        before the sheet showed it (nothing measurable) waits for the next observation.
        Strokes not written through `state_for_stroke` (of another character) are ignored.
        """
        new = sorted(
            (
                s
                for s in strokes
                if s.stroke_index in self._written
                and s.stroke_index not in self._folded
                and self._measurable(s)
            ),
            key=lambda s: s.stroke_index,
        )
        if not new:
            return None
        for stroke in new:
            expected = self._expected.get(stroke.stroke_index)
            if expected is not None and len(expected) != len(stroke.measured_width_m):
                expected = None  # measured on other points than planned: compare with the plan
            self.estimator.update(
                [stroke],
                assumed=self._written[stroke.stroke_index],
                expected=None if expected is None else [expected],
            )
            self._folded.add(stroke.stroke_index)
        return self.estimator.estimate

    def _measurable(self, stroke: StrokeMeasurement) -> bool:
        usable = self.estimator.usable_points(stroke.planned_width_m, stroke.measured_width_m)
        return bool(usable.any())
