"""Dataclasses the controllers speak. Units: metres, seconds; frame `paper` (see DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from calligraphy_model.brush_state import BrushStateEstimate
from calligraphy_model.errors import CalligraphyError

# Error codes, identical to ComputeBrushPath.srv's constants.
SUCCESS = 0
EMPTY_PLAN = 1
INVALID_PLAN = 2
UNKNOWN_CONTROLLER = 3
STROKE_INDEX_OUT_OF_RANGE = 4
INTERNAL_ERROR = 99


class ControllerError(CalligraphyError):
    """A request the controllers cannot serve; `code` is one of the constants above."""


# What a controller conditions on: the brush as the camera estimates it (or its prior), the core's
# one type for BrushState.msg. Only `ink_load` and `width_gain` are used by the learned policy.
BrushState = BrushStateEstimate


def validate_brush_state(state: BrushState) -> None:
    problem = state.problem()
    if problem is not None:
        raise ControllerError(INVALID_PLAN, problem)


@dataclass(frozen=True)
class StrokeSpec:
    """One planned stroke: centreline (N, 2) metres in `paper`, planned width (N,) metres."""

    centreline_m: np.ndarray
    width_m: np.ndarray
    index: int = 0

    @classmethod
    def from_stroke(cls, stroke: object, index: int = 0) -> StrokeSpec:
        """From a stroke_planner `Stroke` (attributes `centreline`, `width_m`)."""
        centreline = getattr(stroke, 'centreline', None)
        if centreline is None:
            centreline = stroke.centreline_m
        return cls(
            np.asarray(centreline, dtype=np.float64)[:, :2],
            np.asarray(stroke.width_m, dtype=np.float64),
            int(getattr(stroke, 'index', index)),
        )

    def validate(self) -> None:
        """Raise ControllerError(INVALID_PLAN) for shapes or values no controller can write."""
        c, w = self.centreline_m, self.width_m
        if c.ndim != 2 or c.shape[1] != 2 or c.shape[0] < 2:
            raise ControllerError(
                INVALID_PLAN, f'stroke {self.index}: centreline needs >= 2 points of (x, y)'
            )
        if w.shape != (c.shape[0],):
            raise ControllerError(
                INVALID_PLAN,
                f'stroke {self.index}: {w.shape[0]} widths for {c.shape[0]} centreline points',
            )
        if not (np.all(np.isfinite(c)) and np.all(np.isfinite(w))):
            raise ControllerError(INVALID_PLAN, f'stroke {self.index}: NaN or infinite values')
        if np.any(w < 0.0):
            raise ControllerError(INVALID_PLAN, f'stroke {self.index}: negative planned width')
        if float(np.sum(np.linalg.norm(np.diff(c, axis=0), axis=1))) <= 0.0:
            raise ControllerError(INVALID_PLAN, f'stroke {self.index}: zero-length centreline')


@dataclass
class TimedBrushPath:
    """A timed path of the brush tip (tool centre point) for one stroke, frame `paper`.

    `pressing_depth_m` > 0 presses into the paper; `time_from_start_s` strictly increases.
    """

    x_m: np.ndarray
    y_m: np.ndarray
    pressing_depth_m: np.ndarray
    time_from_start_s: np.ndarray
    controller: str
    stroke_index: int = 0
    fell_back: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return float(self.time_from_start_s[-1])

    def xy(self) -> np.ndarray:
        return np.stack([self.x_m, self.y_m], axis=1)
