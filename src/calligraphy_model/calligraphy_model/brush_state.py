"""Brush-state estimation from what the camera measured of the strokes written so far.

The controller conditions each stroke on a brush state (BrushState.msg). After a stroke, the camera
measures its width along the planned centreline; the ratio of measured to planned width, times
the width gain the controller assumed while writing it, is one observation of the brush's true
width gain (the controller aimed at the planned width through its width model, so any remaining
ratio is the model's error). Observations are pooled in log space with the prior as a pseudo-count,
older strokes fading by `forgetting` per stroke, so a brush that changes (spreads, runs dry) is
followed.

Ink load is read from the darkness of the latest stroke's tail, through the deposit law the
virtual paper uses (`calligraphy_model.brush.deposit_density`: d₀ + (1 − d₀)·√load), and from its
coverage once the brush is dry enough to streak (coverage ≈ load / dry_onset_load below the onset).

Usage (the controller / writer side):

    estimator = BrushStateEstimator()
    state = estimator.estimate               # prior before anything is written
    ... write stroke k with `state`, observe the paper ...
    state = estimator.update(observation.strokes[k:k + 1], assumed=state)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from calligraphy_model.brush import load_for_density
from calligraphy_model.types import StrokeMeasurement


@dataclass(frozen=True)
class BrushStateEstimate:
    """What the controller conditions on (fields and units as in BrushState.msg)."""

    ink_load: float = 1.0
    width_gain: float = 1.0
    contact_offset_m: float = 0.0
    tip_lag_gain: float = 1.0
    confidence: float = 0.0
    strokes_observed: int = 0

    def problem(self) -> str | None:
        """Why this state cannot condition a controller (a field not finite, a width gain not
        positive), or None."""
        for name in ('ink_load', 'width_gain', 'contact_offset_m', 'tip_lag_gain'):
            if not math.isfinite(getattr(self, name)):
                return f'brush_state.{name} is not finite'
        if self.width_gain <= 0.0:
            return 'brush_state.width_gain must be > 0'
        return None


@dataclass(frozen=True)
class EstimatorConfig:
    """Tuning of the brush-state estimator."""

    # Width gains outside this range are taken as measurement failures and clipped.
    width_gain_min: float = 0.4
    width_gain_max: float = 2.5
    # Planned widths under this are too thin to measure reliably, metres.
    min_planned_width_m: float = 0.0008
    # Pseudo-count of centreline points the prior is worth.
    prior_points: float = 8.0
    # Weight kept by older observations for every newer stroke (1 = never forget).
    forgetting: float = 0.85
    # Valid points at which confidence reaches 1 − 1/e.
    confidence_points: float = 40.0
    # Camera darkness of fully dense ink (paper → ink contrast), and the ink density a nearly
    # empty brush still lays (the virtual paper's `darkness_at_empty`, nominal 0.45).
    full_ink_darkness: float = 0.93
    density_at_empty: float = 0.45
    # Load under which bristles run dry and coverage falls (the brush's `dry_onset_load`).
    dry_onset_load: float = 0.32
    # Part of the latest stroke whose darkness tells the ink left (its end), 0..1.
    tail_fraction: float = 0.3

    def __post_init__(self) -> None:
        if not 0 < self.width_gain_min < 1 < self.width_gain_max:
            raise ValueError('need 0 < width_gain_min < 1 < width_gain_max')
        if not 0 < self.forgetting <= 1:
            raise ValueError('forgetting must lie in (0, 1]')
        if self.prior_points <= 0 or self.confidence_points <= 0:
            raise ValueError('prior_points and confidence_points must be positive')
        if not 0 < self.full_ink_darkness <= 1 or not 0 <= self.density_at_empty < 1:
            raise ValueError('full_ink_darkness in (0, 1] and density_at_empty in [0, 1)')
        if not 0 < self.tail_fraction <= 1 or not 0 < self.dry_onset_load <= 1:
            raise ValueError('tail_fraction and dry_onset_load must lie in (0, 1]')


class BrushStateEstimator:
    """Turns measured-vs-planned stroke widths and ink darkness into a BrushStateEstimate."""

    def __init__(
        self, config: EstimatorConfig | None = None, prior: BrushStateEstimate | None = None
    ) -> None:
        self.config = config or EstimatorConfig()
        self.reset(prior)

    def reset(self, prior: BrushStateEstimate | None = None) -> None:
        """Forget all observations (a new brush, or a fresh dip when `prior` says so)."""
        self._prior = prior or BrushStateEstimate()
        self._log_gain_sum = 0.0
        self._weight = 0.0
        self._points_seen = 0.0
        self._estimate = self._prior

    @property
    def estimate(self) -> BrushStateEstimate:
        return self._estimate

    @property
    def prior(self) -> BrushStateEstimate:
        """What the estimate is before any stroke was measured."""
        return self._prior

    def reload(self, ink_load: float = 1.0) -> BrushStateEstimate:
        """The brush was dipped: ink is known again, the width gain estimate is kept."""
        self._estimate = replace(self._estimate, ink_load=float(np.clip(ink_load, 0.0, 1.0)))
        return self._estimate

    def update(
        self,
        strokes: Sequence[StrokeMeasurement],
        assumed: BrushStateEstimate | None = None,
        expected: Sequence[np.ndarray] | None = None,
    ) -> BrushStateEstimate:
        """Fold in newly written strokes, in writing order.

        Args:
            strokes: measurements of strokes not yet given to this estimator.
            assumed: the brush state the controller conditioned on when it wrote them (default:
                the current estimate, i.e. what this estimator last handed out).
            expected: per stroke, the width (m, one per centreline point) the brush should have
                laid under the assumed state at the depths the controller commanded (see
                `commanded_widths`). Default: the planned width, which is right only for a
                controller that hits its plan exactly; a controller with a bias of its own (a
                learned policy that writes a little wide because the glyph scores better so)
                would have that bias read as brush gain.
        """
        cfg = self.config
        assumed = assumed or self._estimate
        assumed_log_gain = math.log(max(assumed.width_gain, 1e-6))
        ink_load = self._estimate.ink_load
        observed = 0
        if expected is not None and len(expected) != len(strokes):
            raise ValueError(f'{len(expected)} expected-width arrays for {len(strokes)} strokes')
        for n, stroke in enumerate(strokes):
            planned = (
                stroke.planned_width_m
                if expected is None
                else np.asarray(expected[n], dtype=float).reshape(-1)
            )
            measured = stroke.measured_width_m
            if len(planned) != len(measured):
                raise ValueError(
                    f'stroke {stroke.stroke_index}: {len(planned)} expected widths for '
                    f'{len(measured)} measured'
                )
            usable = self.usable_points(planned, measured)
            count = int(usable.sum())
            self._log_gain_sum *= cfg.forgetting
            self._weight *= cfg.forgetting
            if count:
                ratio = float(np.median(measured[usable] / planned[usable]))
                log_gain = assumed_log_gain + math.log(
                    float(np.clip(ratio, cfg.width_gain_min, cfg.width_gain_max))
                )
                self._log_gain_sum += count * log_gain
                self._weight += count
                self._points_seen += count
            ink_load = self._ink_load(stroke, ink_load)
            observed += 1
        prior_weight = cfg.prior_points
        log_gain = (prior_weight * math.log(self._prior.width_gain) + self._log_gain_sum) / (
            prior_weight + self._weight
        )
        width_gain = float(np.clip(math.exp(log_gain), cfg.width_gain_min, cfg.width_gain_max))
        confidence = 1.0 - math.exp(-self._points_seen / cfg.confidence_points)
        self._estimate = BrushStateEstimate(
            ink_load=ink_load,
            width_gain=width_gain,
            contact_offset_m=self._estimate.contact_offset_m,
            tip_lag_gain=self._estimate.tip_lag_gain,
            confidence=float(confidence),
            strokes_observed=self._estimate.strokes_observed + observed,
        )
        return self._estimate

    def usable_points(self, reference_m: np.ndarray, measured_m: np.ndarray) -> np.ndarray:
        """bool per centreline point: a width measured there (finite, > 0) against a reference
        width (planned or expected) wide enough to measure reliably."""
        reference = np.asarray(reference_m, dtype=float)
        measured = np.asarray(measured_m, dtype=float)
        return (
            np.isfinite(measured) & (measured > 0) & (reference >= self.config.min_planned_width_m)
        )

    def _ink_load(self, stroke: StrokeMeasurement, previous: float) -> float:
        """Ink left after `stroke`, from the darkness at its end (and its coverage when dry)."""
        cfg = self.config
        along = np.asarray(stroke.darkness_along, dtype=float)
        inked = along[along > 0]
        if len(along):
            tail = along[-max(1, int(round(cfg.tail_fraction * len(along)))) :]
            tail = tail[tail > 0]
            darkness = float(np.mean(tail)) if len(tail) else 0.0
        else:
            darkness = float(stroke.darkness)
        if not inked.size and not darkness:
            # Nothing laid at all: either the brush is empty or it never touched; the width
            # observation (zero) already tells; keep the ink estimate.
            return previous
        density = np.clip(darkness / cfg.full_ink_darkness, 0.0, 1.0)
        load = float(load_for_density(density, cfg.density_at_empty))
        if math.isfinite(stroke.coverage) and stroke.coverage < 0.9:
            load = min(load, float(stroke.coverage) * cfg.dry_onset_load)
        return load


def commanded_widths(
    centreline_m: np.ndarray,
    path_xy_m: np.ndarray,
    path_depth_m: np.ndarray,
    width_at_depth,
    width_gain: float = 1.0,
) -> np.ndarray:
    """The width a brush of `width_gain` lays at each centreline point under a commanded path.

    Each centreline point takes the pressing depth of the nearest pressing (depth > 0) path
    point; `width_at_depth` is the nominal width curve (the brush parameter file's, from
    calibration), scaled by the gain. Points no pressing path point comes near (within 3 mm) get
    NaN and are not used.

    Args:
        centreline_m: (N, 2) planned centreline, paper metres.
        path_xy_m: (M, 2) brush path positions, paper metres.
        path_depth_m: (M,) pressing depths, metres.
        width_at_depth: callable, depth (m, array) -> nominal width (m, array).
        width_gain: the gain the controller assumed.
    """
    centreline = np.asarray(centreline_m, dtype=float).reshape(-1, 2)
    xy = np.asarray(path_xy_m, dtype=float).reshape(-1, 2)
    depth = np.asarray(path_depth_m, dtype=float).reshape(-1)
    pressing = depth > 0.0
    widths = np.full(len(centreline), np.nan)
    if not pressing.any() or not len(centreline):
        return widths
    xy, depth = xy[pressing], depth[pressing]
    distance = np.linalg.norm(centreline[:, None, :] - xy[None, :, :], axis=2)
    nearest = np.argmin(distance, axis=1)
    near = distance[np.arange(len(centreline)), nearest] < 0.003
    widths[near] = width_gain * np.asarray(width_at_depth(depth[nearest[near]]), dtype=float)
    return widths
