"""The writer's side of camera feedback: which brush state each stroke was written with, and
which strokes the brush-state estimator has already seen.

The controller compensates for the width gain it is given, so a stroke written with gain g that
comes out r times its planned width says the brush's gain is g·r, not r. The estimator
(camera_feedback.brush_state) does that arithmetic; this class makes sure every stroke reaches it
exactly once, with the state that stroke was written with, although every observation after
stroke k measures all strokes 0..k of the character again.

One estimator serves the writer for as long as it runs, across characters and goals: the width
gain belongs to the brush, not to a character (the estimator's forgetting follows a brush that
changes). Ink load is not taken from it: the writer's ink budget, which also decides the dips and
is reset by each dip, is what the controller is told (`state_for_stroke`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from camera_feedback.brush_state import BrushStateEstimate, BrushStateEstimator
from camera_feedback.types import StrokeMeasurement


class StrokeFeedback:
    """Feeds the camera's per-stroke widths to a BrushStateEstimator once per stroke."""

    def __init__(self, estimator: BrushStateEstimator | None = None) -> None:
        self.estimator = estimator or BrushStateEstimator()
        self._written: dict[int, BrushStateEstimate] = {}
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
            conditioned_on: the state the writer chose to condition on (None: the prior, i.e.
                the nominal brush, as when writing open loop).
            ink_load: the ink the writer's budget says the brush carries, 0..1.
        """
        if stroke_index == 0:
            self._written.clear()
            self._folded.clear()
        base = conditioned_on if conditioned_on is not None else BrushStateEstimate()
        state = replace(base, ink_load=float(ink_load))
        self._written[stroke_index] = state
        return state

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
            self.estimator.update([stroke], assumed=self._written[stroke.stroke_index])
            self._folded.add(stroke.stroke_index)
        return self.estimator.estimate

    def _measurable(self, stroke: StrokeMeasurement) -> bool:
        planned = np.asarray(stroke.planned_width_m, dtype=float)
        measured = np.asarray(stroke.measured_width_m, dtype=float)
        usable = (
            np.isfinite(measured)
            & (measured > 0)
            & (planned >= self.estimator.config.min_planned_width_m)
        )
        return bool(usable.any())
