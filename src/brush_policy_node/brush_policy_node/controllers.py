"""Controllers: a planned stroke and the brush state in, a timed brush path out.

- `constant`: one pressing depth for the whole stroke, nominal speed (a pen plotter).
- `analytic`: the nominal width model inverted point by point; no lag compensation, no state.
- `learned`: the policy network's per-point corrections on top of `analytic` (depth, along-track
  and lateral lead of the tip against tip lag, writing speed), conditioned on the estimable brush
  state. Outside the training distribution of its model card it answers with `analytic`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import numpy as np

from brush_policy_node.backends import N_OUTPUTS, PolicyBackend
from brush_policy_node.config import CONTROLLERS, ControllerConfig
from brush_policy_node.features import stroke_features, stroke_frames
from brush_policy_node.model_card import ModelCard
from brush_policy_node.types import (
    EMPTY_PLAN,
    STROKE_INDEX_OUT_OF_RANGE,
    UNKNOWN_CONTROLLER,
    BrushState,
    ControllerError,
    StrokeSpec,
    TimedBrushPath,
    validate_brush_state,
)
from brush_policy_node.width_model import TabulatedWidthModel

# Metres per unit of the policy's raw position and depth outputs.
DEPTH_OUTPUT_SCALE_M = 0.001
OFFSET_OUTPUT_SCALE_M = 0.001
MIN_DT_S = 1e-4


def timestamps(centreline_m: np.ndarray, speed_mps: np.ndarray) -> np.ndarray:
    """Time of each point when the tip moves along the centreline at the given point speeds."""
    seg = np.linalg.norm(np.diff(centreline_m, axis=0), axis=1)
    mean_speed = 0.5 * (speed_mps[1:] + speed_mps[:-1])
    dt = np.maximum(seg / mean_speed, MIN_DT_S)
    return np.concatenate([[0.0], np.cumsum(dt)])


def smooth(values: np.ndarray, half_window: int) -> np.ndarray:
    """Edge-padded moving average along the stroke: corrections never jitter point to point."""
    if half_window <= 0 or len(values) < 3:
        return values
    kernel = np.ones(2 * half_window + 1) / (2 * half_window + 1)
    padded = np.pad(values, (half_window, half_window), mode='edge')
    return np.convolve(padded, kernel, mode='valid')


class Controller(ABC):
    """Stroke plan + brush state → timed brush path."""

    name = 'abstract'

    def __init__(self, width_model: TabulatedWidthModel, config: ControllerConfig) -> None:
        self.width_model = width_model
        self.config = config

    @abstractmethod
    def compute(self, stroke: StrokeSpec, state: BrushState) -> TimedBrushPath:
        """The timed path for one validated stroke."""

    def _path(
        self, stroke: StrokeSpec, xy: np.ndarray, depth: np.ndarray, speed: np.ndarray
    ) -> TimedBrushPath:
        limit = self.config.max_depth_m
        wanted = float(np.max(depth)) if len(depth) else 0.0
        widest = float(np.max(stroke.width_m)) if len(stroke.width_m) else 0.0
        depth = np.clip(depth, 0.0, limit)
        warnings = []
        # The width model ends at the limit, so a stroke wider than its widest asks for more.
        if wanted > limit + 1e-9 or widest > self.width_model.max_width_m * (1.0 + 1e-6):
            # The motion executor refuses anything deeper: the stroke comes out narrower.
            warnings.append(
                f'stroke {stroke.index}: pressing depth clipped to the {limit * 1e3:.2f} mm '
                f'limit; {widest * 1e3:.1f} mm wide is planned, the brush writes at most '
                f'{self.width_model.max_width_m * 1e3:.1f} mm'
            )
        return TimedBrushPath(
            x_m=np.asarray(xy[:, 0], dtype=np.float64),
            y_m=np.asarray(xy[:, 1], dtype=np.float64),
            pressing_depth_m=depth.astype(np.float64),
            time_from_start_s=timestamps(stroke.centreline_m, speed),
            controller=self.name,
            stroke_index=stroke.index,
            warnings=warnings,
        )


class ConstantController(Controller):
    name = 'constant'

    def compute(self, stroke: StrokeSpec, state: BrushState) -> TimedBrushPath:
        depth = self.config.constant_depth_m or float(
            self.width_model.depth_for_width(float(np.mean(stroke.width_m)))
        )
        n = len(stroke.width_m)
        speed = np.full(n, self.config.speed_nominal_mps)
        return self._path(stroke, stroke.centreline_m, np.full(n, depth), speed)


class AnalyticController(Controller):
    name = 'analytic'

    def compute(self, stroke: StrokeSpec, state: BrushState) -> TimedBrushPath:
        depth = self.width_model.depth_for_width(stroke.width_m)
        speed = np.full(len(depth), self.config.speed_nominal_mps)
        return self._path(stroke, stroke.centreline_m, depth, speed)


class LearnedController(Controller):
    name = 'learned'

    def __init__(
        self,
        width_model: TabulatedWidthModel,
        config: ControllerConfig,
        backend: PolicyBackend,
        card: ModelCard | None = None,
    ) -> None:
        super().__init__(width_model, config)
        self.backend = backend
        self.card = card
        self.fallback = AnalyticController(width_model, config)

    def corrections(self, stroke: StrokeSpec, state: BrushState) -> np.ndarray:
        """Raw policy outputs (N, N_OUTPUTS) for the stroke."""
        analytic_depth = self.width_model.depth_for_width(stroke.width_m)
        features = stroke_features(
            stroke.centreline_m, stroke.width_m, analytic_depth, state.ink_load, state.width_gain
        )
        raw = self.backend.infer(features)
        if raw.shape != (len(stroke.width_m), N_OUTPUTS) or not np.all(np.isfinite(raw)):
            raise ControllerError(99, f'policy returned {raw.shape} or non-finite outputs')
        return raw

    def compute(self, stroke: StrokeSpec, state: BrushState) -> TimedBrushPath:
        if self.card is not None:
            reasons = self.card.out_of_distribution(stroke, state)
            if reasons:
                path = self.fallback.compute(stroke, state)
                path.fell_back = True
                path.warnings.insert(
                    0,
                    f'stroke {stroke.index}: learned policy fell back to analytic: '
                    + '; '.join(reasons),
                )
                return path
        return self.apply(stroke, self.corrections(stroke, state))

    def apply(self, stroke: StrokeSpec, raw: np.ndarray) -> TimedBrushPath:
        """Turn raw outputs into the path (also used by training to score targets)."""
        h = self.config.smoothing_points
        tangent, normal, _ = stroke_frames(stroke.centreline_m)
        depth = self.width_model.depth_for_width(stroke.width_m) + DEPTH_OUTPUT_SCALE_M * smooth(
            raw[:, 0].astype(np.float64), h
        )
        along = OFFSET_OUTPUT_SCALE_M * smooth(raw[:, 1].astype(np.float64), h)
        lateral = OFFSET_OUTPUT_SCALE_M * smooth(raw[:, 2].astype(np.float64), h)
        xy = stroke.centreline_m + along[:, None] * tangent + lateral[:, None] * normal
        speed = np.clip(
            self.config.speed_nominal_mps * np.exp(smooth(raw[:, 3].astype(np.float64), h)),
            self.config.speed_min_mps,
            self.config.speed_max_mps,
        )
        return self._path(stroke, xy, depth, speed)


class ControllerSet:
    """The controllers a node or an evaluation can choose from, by name."""

    def __init__(self, controllers: Mapping[str, Controller], default: str) -> None:
        self.controllers = dict(controllers)
        if default not in self.controllers:
            raise ValueError(f'default controller {default!r} is not available')
        self.default = default

    def get(self, name: str) -> Controller:
        name = name or self.default
        if name not in self.controllers:
            known = ', '.join(n for n in CONTROLLERS if n in self.controllers)
            raise ControllerError(
                UNKNOWN_CONTROLLER, f'unknown controller {name!r} (available: {known})'
            )
        return self.controllers[name]

    def compute_paths(
        self,
        strokes: Sequence[StrokeSpec],
        indices: Sequence[int],
        state: BrushState,
        controller: str = '',
    ) -> list[TimedBrushPath]:
        """Paths for the requested strokes (all, in order, when `indices` is empty).

        Raises ControllerError with the srv's codes for an empty plan, an invalid stroke, an
        unknown controller or an index out of range; nothing is computed then.
        """
        if len(strokes) == 0:
            raise ControllerError(EMPTY_PLAN, 'the plan has no strokes')
        chosen = self.get(controller)
        validate_brush_state(state)
        selected = list(indices) if len(indices) else list(range(len(strokes)))
        for i in selected:
            if not 0 <= i < len(strokes):
                raise ControllerError(
                    STROKE_INDEX_OUT_OF_RANGE,
                    f'stroke index {i} out of range (plan has {len(strokes)} strokes)',
                )
        for i in selected:
            strokes[i].validate()
        return [chosen.compute(strokes[i], state) for i in selected]
