"""Brush identification for `calligraphy learn`: the width-vs-depth curve from camera widths.

The camera sees the footprint plus the ink's bleed into the paper on both sides
(`BrushParams.seen_width_at_depth`); bleed and touch width cannot be told apart from widths
alone, so the bleed is held at the nominal brush's and the fit is of touch width w0, belly
diameter D and slope k of `calligraphy_model.brush.footprint_width`, by least squares
(scipy.optimize.least_squares) over every (commanded depth, measured width) pair. Standard errors
come from the Jacobian at the optimum: cov = s² (JᵀJ)⁻¹, s² the residual variance (with the
robust loss below, an approximation).

The fit also shifts the commanded depths along the path by a fitted residual lag (the widths
may trail the depths), and weighs outliers less (soft L1: a stroke end hidden from the camera by
the retreated brush reads narrow or empty). Tip lag and ink use are reported as not identified,
with the reason (`tip_lag`, NOT_IDENTIFIED): the recorded path already carries the controller's
lead against the lag, and nothing marks when the brush was dipped (the virtual paper's ink-load
topic is the simulator's hidden state and is never used).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import yaml

from calligraphy_model.brush import PARAM_RANGES, BrushParams, footprint_width

FITTED = ('touch_width_m', 'belly_diameter_m', 'width_slope')
MIN_POINTS = 20
BOUNDS = ([0.0, 0.001, 0.1], [0.003, 0.02, 5.0])
# Residuals beyond this weigh less and less (soft L1): strokes partly hidden from the camera or
# drying out read narrower than the brush, and should not bend the curve.
ROBUST_SCALE_M = 0.0002

NOT_IDENTIFIED = {
    'ink_use': 'not identified: the camera darkness per stroke is recorded, but the recorded '
    'topics do not mark when the brush was dipped (a real cell has no ink-load sensor; the '
    "virtual paper's ink load is hidden state and is not used); ink_capacity_m2 keeps the "
    'nominal value',
}


class IdentificationError(ValueError):
    """Too few usable observations to identify the brush."""


def _depth_at(stroke, shift_m: float) -> np.ndarray:
    """Commanded depth where the holder was `shift_m` further along the path than each
    centreline point (0 beyond the path's ends: the brush never pressed there)."""
    at = stroke.centre_s_m + shift_m
    end = stroke.path_s_m[-1]
    at = np.where((at > end) & (at <= end + 1e-6), end, at)  # rounding at the last point
    return np.interp(at, stroke.path_s_m, stroke.path_depth_m, left=0.0, right=0.0)


def fit_brush(strokes, bleed_m: float) -> dict:
    """Least-squares fit of w0, D, k and the footprint's lag behind the holder along the path.

    Each measured width (> 0) is compared with the seen width at
    the commanded depth where the holder was `lag` further along the path, 0 where that lies off
    the path. Several starting lags are tried (the residual is piecewise linear in the lag)."""
    from scipy.optimize import least_squares

    used = []
    for stroke in strokes:
        # No ink seen (0) is left out: the brush hiding the stroke from the camera, a dry brush
        # and a stroke the tip never reached all read so (seen in a cell session: the stroke's
        # end read 0 under the retreated brush).
        ok = np.isfinite(stroke.measured_width_m) & (stroke.measured_width_m > 0)
        ok &= np.isfinite(stroke.centre_s_m)
        if ok.any() and len(stroke.path_s_m) >= 2:
            used.append((stroke, ok))
    measured = np.concatenate([st.measured_width_m[ok] for st, ok in used]) if used else []
    if int(np.sum(np.asarray(measured) > 0)) < MIN_POINTS:
        raise IdentificationError(
            f'only {int(np.sum(np.asarray(measured) > 0))} centreline points with a measured '
            f'width; need {MIN_POINTS} to fit the width curve'
        )

    def depths(lag: float) -> np.ndarray:
        return np.concatenate([_depth_at(st, lag)[ok] for st, ok in used])

    def residual(p: np.ndarray) -> np.ndarray:
        d = depths(p[3])
        return (
            np.where(d > 0, footprint_width(d, p[0], p[1], p[2]) + 2.0 * bleed_m, 0.0) - measured
        )

    nominal = BrushParams()
    # The footprint trails the holder (upright brush) by at most what the widest-lagging brush of
    # the training ranges would at the deepest commanded depth.
    deepest = max(float(np.max(st.path_depth_m)) for st, _ in used)
    lag_max = PARAM_RANGES['belly_lag_fraction'][1] * (
        PARAM_RANGES['lag_slope'][1] * deepest + PARAM_RANGES['lag_offset_m'][1]
    )
    lower, upper = np.array([*BOUNDS[0], 0.0]), np.array([*BOUNDS[1], lag_max])
    best = None
    for lag in np.linspace(0.0, lag_max, 4):
        start = np.array(
            [nominal.touch_width_m, max(nominal.belly_diameter_m, 1.05 * max(measured)), 1.0, lag]
        )
        start = np.clip(start, lower + 1e-6, upper - 1e-6)
        fit = least_squares(
            residual, start, bounds=(lower, upper), x_scale=[1e-3, 1e-3, 1.0, 1e-3],
            loss='soft_l1', f_scale=ROBUST_SCALE_M,
        )  # fmt: skip
        if best is None or fit.cost < best.cost:
            best = fit
    fit = best
    dof = max(len(measured) - len(fit.x), 1)
    s2 = float(fit.fun @ fit.fun) / dof
    try:
        stderr = np.sqrt(np.clip(np.diag(s2 * np.linalg.inv(fit.jac.T @ fit.jac)), 0.0, None))
    except np.linalg.LinAlgError:
        stderr = np.full(len(fit.x), np.inf)
    values = {name: float(v) for name, v in zip(FITTED, fit.x[:3], strict=True)}
    if values['touch_width_m'] >= values['belly_diameter_m']:
        raise IdentificationError('the fit gave a touch width not below the belly diameter')
    d = depths(fit.x[3])
    pressed = d[d > 0]
    depth_range = [float(pressed.min()), float(pressed.max())] if len(pressed) else [0.0, 0.0]
    return {
        'model': 'w(d) = w0 + (D - w0) tanh(k d / (D - w0)) + 2 * paper_spread_m (nominal), d the '
        'commanded depth where the holder was `footprint_lag_m` further along the path',
        'parameters': values,
        'standard_errors': {n: float(e) for n, e in zip(FITTED, stderr[:3], strict=True)},
        'footprint_lag_m': float(fit.x[3]),
        'footprint_lag_standard_error_m': float(stderr[3]),
        'footprint_lag_bounds_m': [0.0, float(lag_max)],
        'paper_spread_m_assumed': float(bleed_m),
        'points': len(measured),
        'depth_range_m': depth_range,
        'mean_depth_m': float(pressed.mean()) if len(pressed) else 0.0,
        'residual_rms_m': float(math.sqrt(np.mean(fit.fun**2))),
        'residual_mean_m': float(np.mean(fit.fun)),
        'residual_percentiles_m': {
            str(q): float(np.percentile(fit.fun, q)) for q in (5, 25, 50, 75, 95)
        },
        'converged': bool(fit.success),
        'belly_reached': bool(
            footprint_width(depth_range[1], *fit.x[:3]) > 0.9 * values['belly_diameter_m']
        ),
    }


def tip_lag(fit: dict) -> tuple[dict, dict]:
    """The identification's tip_lag entry, and BrushParams fields to set (none: see why)."""
    lag, err = fit['footprint_lag_m'], fit['footprint_lag_standard_error_m']
    return {
        'identified': False,
        'why': "the recorded path already carries the controller's lead against the tip lag, "
        "and a session does not record the planned centreline, so the brush's own lag cannot be "
        'separated from the lead; lag_slope and lag_offset_m keep the nominal values. Measured '
        'here on offline-simulated sessions, the residual shift below was 0.06 mm (nominal '
        'brush) and 0.25 mm (lag_slope 1.0) where the footprint trails by about 0.9 and 1.2 mm',
        'residual_shift_m': lag,
        'residual_shift_standard_error_m': err,
        'residual_shift_means': 'how far along the path the widths trail the commanded depths '
        "after the controller's lead (fitted with the width curve, 0 .. plausible maximum)",
    }, {}


def identify(strokes, truth: dict | None = None) -> dict:
    """The identification document (identification.json) and the identified BrushParams."""
    nominal = BrushParams()
    fit = fit_brush(strokes, nominal.paper_spread_m)
    lag_entry, lag_fields = tip_lag(fit)
    brush = dataclasses.replace(nominal, **fit['parameters'], **lag_fields)
    document = {
        'width_curve': fit,
        'tip_lag': lag_entry,
        'ink_use': NOT_IDENTIFIED['ink_use'],
        'identified_brush': {name: getattr(brush, name) for name in (*FITTED, *lag_fields)},
        'nominal_for_the_rest': sorted(
            f.name
            for f in dataclasses.fields(BrushParams)
            if f.name not in FITTED and f.name not in lag_fields
        ),
    }
    if not fit['belly_reached']:
        document['width_curve']['note'] = (
            'the deepest commanded depth stays well below the belly: the belly diameter is an '
            'extrapolation (see its standard error)'
        )
    if truth:
        document['against_simulated_brush'] = simulation_error(brush, truth, fit['depth_range_m'])
    return {'document': document, 'brush': brush}


def simulation_error(brush: BrushParams, truth: dict, depth_range_m: list[float]) -> dict:
    """Fit error against the brush the simulator wrote with (known only in simulation)."""
    fields = {f.name for f in dataclasses.fields(BrushParams)}
    try:
        true = dataclasses.replace(
            BrushParams(), **{k: v for k, v in truth.items() if k in fields}
        )
    except (TypeError, ValueError) as error:
        return {'note': f'simulated brush in report.json not usable: {error}'}
    depths = np.linspace(max(depth_range_m[0], 1e-5), depth_range_m[1], 200)
    diff = brush.width_at_depth(depths) - true.width_at_depth(depths)
    return {
        'label': 'known only in simulation: report.json simulated_brush (never used to fit)',
        'width_curve_rms_error_m': float(math.sqrt(np.mean(diff**2))),
        'over_depths_m': [float(depths[0]), float(depths[-1])],
        'parameter_error': {n: getattr(brush, n) - getattr(true, n) for n in FITTED},
        'true': {n: getattr(true, n) for n in FITTED},
    }


def write_brush_yaml(path: Path, brush: BrushParams, fit: dict) -> Path:
    """The `--brush-file` format: `brush:` with every BrushParams field (fitted + nominal)."""
    values = {f.name: getattr(brush, f.name) for f in dataclasses.fields(BrushParams)}
    values = {k: (int(v) if isinstance(v, int) else float(v)) for k, v in values.items()}
    header = (
        '# Brush identified by `calligraphy learn` from camera widths; SI units.\n'
        f'# Fitted: {", ".join(FITTED)} (residual RMS {fit["residual_rms_m"] * 1e3:.3f} mm over '
        f'{fit["points"]} points); every other field is the nominal brush.\n'
    )
    path.write_text(header + yaml.safe_dump({'brush': values}, sort_keys=False))
    return path
