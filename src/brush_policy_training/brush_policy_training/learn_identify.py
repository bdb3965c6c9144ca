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
the retreated brush reads narrow or empty). Tip lag is reported as not identified, with the
reason (`tip_lag`): the recorded path already carries the controller's lead against the lag.

Ink use (`fit_ink_use`): the brush's ink capacity from how the camera's darkness of the strokes
falls as the brush lays ink, and rises after each dip (the dips come from the dipping action's
status topic; the virtual paper's ink-load topic is the simulator's hidden state and is never
used). Each stroke's inked area is its measured width integrated along the centreline; the load
falls over it by the brush's ink law (`calligraphy_model.brush.ink_spent_per_area`) over the
capacity, and the camera sees `full_ink_darkness` × the density that load lays
(`deposit_density`). Fitted: the capacity, the load at each session's start and the load a dip
leaves; the camera's full-ink darkness, the density at empty and the dry onset stay nominal. Only
wet strokes' darkness is compared (coverage of at least INK_WET_COVERAGE, and at least half the
centreline measurable): in a cell session dry-brush strokes read up to 0.3 lighter than the law
(streaks and soft edges the camera blurs), and a stroke mostly under later strokes takes their
darkness; their ink still counts.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import yaml

from brush_policy_training.simulator import true_width_gain
from calligraphy_model.brush import (
    PARAM_RANGES,
    BrushParams,
    deposit_density,
    footprint_width,
    ink_spent_per_area,
)
from calligraphy_model.brush_state import EstimatorConfig
from calligraphy_model.ink_budget import InkBudgetConfig

FITTED = ('touch_width_m', 'belly_diameter_m', 'width_slope')
MIN_POINTS = 20
BOUNDS = ([0.0, 0.001, 0.1], [0.003, 0.02, 5.0])
# Residuals beyond this weigh less and less (soft L1): strokes partly hidden from the camera or
# drying out read narrower than the brush, and should not bend the curve.
ROBUST_SCALE_M = 0.0002

# Ink use: strokes with a measured darkness needed, and the largest relative standard error of
# the capacity that counts as identified (beyond it the nominal capacity is kept).
INK_MIN_STROKES = 6
INK_MAX_RELATIVE_ERROR = 0.3
INK_CAPACITY_BOUNDS_M2 = (1e-4, 1e-2)
INK_LOAD_BOUNDS = (0.05, 1.0)
# Strokes whose darkness is compared with the law: wet (coverage) and mostly measurable.
INK_WET_COVERAGE = 0.95
INK_MIN_MEASURED_SHARE = 0.5
# Sub-steps over which a stroke's ink is laid (its mean darkness is their mean).
INK_SUBSTEPS = 8


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


def _ink_not_identified(why: str, **figures) -> tuple[dict, dict]:
    return {'identified': False, 'why': why + '; ink_capacity_m2 keeps the nominal value',
            **figures}, {}  # fmt: skip


def fit_ink_use(runs) -> tuple[dict, dict]:
    """The identification's ink_use entry and the BrushParams fields to set ({} when not
    identified). `runs`: per session, (its InkSteps in writing order, whether it recorded the
    dips)."""
    from scipy.optimize import least_squares

    usable = [steps for steps, recorded in runs if recorded and steps]
    if not usable:
        return _ink_not_identified(
            'not identified: no session recorded when the brush was dipped (the dipping '
            "action's status topic /dip_ink/_action/status), so the darkness cannot be tied to "
            'the ink laid since a dip'
        )
    nominal = BrushParams()
    full = EstimatorConfig().full_ink_darkness
    d0, dry = nominal.darkness_at_empty, nominal.dry_onset_load
    # A stroke the camera did not measure still spent ink: its path length times the session's
    # median measured width.
    areas = []
    for steps in usable:
        widths = [
            st.area_m2 / st.path_length_m
            for st in steps
            if math.isfinite(st.area_m2) and st.path_length_m > 0
        ]
        fill = float(np.median(widths)) if widths else 0.0
        areas.append([st.area_m2 if math.isfinite(st.area_m2) else fill * st.path_length_m
                      for st in steps])  # fmt: skip

    def compared(step) -> bool:
        return (
            math.isfinite(step.darkness)
            and step.coverage >= INK_WET_COVERAGE
            and step.measured_share >= INK_MIN_MEASURED_SHARE
        )

    observed = np.array([st.darkness for steps in usable for st in steps if compared(st)])
    dipped = any(st.dips_before > 0 for steps in usable for st in steps)
    if len(observed) < INK_MIN_STROKES:
        return _ink_not_identified(
            f'not identified: {len(observed)} wet, measurable strokes with a measured '
            f'darkness, {INK_MIN_STROKES} needed'
        )

    def predicted(p: np.ndarray) -> np.ndarray:
        capacity, after_dip = math.exp(p[0]), p[-1]
        out = []
        for run, (steps, run_areas) in enumerate(zip(usable, areas, strict=True)):
            load, dips = p[1 + run], 0
            for step, area in zip(steps, run_areas, strict=True):
                if step.dips_before > dips:
                    load, dips = after_dip, step.dips_before
                densities = []
                for _ in range(INK_SUBSTEPS):
                    densities.append(float(deposit_density(load, d0)))
                    spent = float(ink_spent_per_area(load, dry, d0))
                    load = max(load - area / INK_SUBSTEPS * spent / capacity, 0.0)
                if compared(step):
                    out.append(full * float(np.mean(densities)))
        return np.array(out)

    lo_c, hi_c = (math.log(b) for b in INK_CAPACITY_BOUNDS_M2)
    lower = [lo_c] + [INK_LOAD_BOUNDS[0]] * (len(usable) + 1)
    upper = [hi_c] + [INK_LOAD_BOUNDS[1]] * (len(usable) + 1)
    start = [math.log(nominal.ink_capacity_m2)] + [0.95] * (len(usable) + 1)
    fit = least_squares(
        lambda p: predicted(p) - observed,
        np.clip(start, np.add(lower, 1e-6), np.subtract(upper, 1e-6)),
        bounds=(lower, upper),
        diff_step=1e-3,
    )
    residual = fit.fun
    # Without a dip the load a dip leaves plays no part: leave it out of the covariance.
    columns = fit.jac if dipped else fit.jac[:, :-1]
    dof = max(len(residual) - columns.shape[1], 1)
    s2 = float(residual @ residual) / dof
    try:
        stderr = np.sqrt(np.clip(np.diag(s2 * np.linalg.pinv(columns.T @ columns)), 0.0, None))
    except np.linalg.LinAlgError:
        stderr = np.full(columns.shape[1], np.inf)
    capacity = math.exp(fit.x[0])
    relative = float(stderr[0])  # of log capacity: the capacity's relative standard error
    figures = {
        'model': 'camera darkness = full_ink_darkness x deposit_density(load); over each '
        'stroke the load falls by its inked area (measured width along the centreline) x '
        'ink_spent_per_area(load) / ink_capacity_m2; a recorded dip resets it to the load a dip '
        'leaves',
        'ink_capacity_m2': capacity,
        'ink_capacity_standard_error_m2': capacity * relative,
        'load_at_session_start': [float(v) for v in fit.x[1 : 1 + len(usable)]],
        'load_after_a_dip': float(fit.x[-1]) if dipped else None,
        'strokes': int(len(observed)),
        'strokes_compared_means': f'wet (coverage >= {INK_WET_COVERAGE}) and at least '
        f'{INK_MIN_MEASURED_SHARE:.0%} of the centreline measured; every stroke spends ink',
        'dips': int(sum(max((st.dips_before for st in steps), default=0) for steps in usable)),
        'residual_rms': float(math.sqrt(np.mean(residual**2))),
        'darkness_range': [float(observed.min()), float(observed.max())],
        'assumed': {'full_ink_darkness': full, 'darkness_at_empty': d0, 'dry_onset_load': dry},
    }
    at_bound = not (lo_c + 1e-3 < fit.x[0] < hi_c - 1e-3)
    if not fit.success or at_bound or relative > INK_MAX_RELATIVE_ERROR:
        why = (
            'the capacity ran to a bound of the fit'
            if at_bound
            else f'its relative standard error {relative:.0%} exceeds '
            f'{INK_MAX_RELATIVE_ERROR:.0%} (the darkness fell too little between dips)'
        )
        return _ink_not_identified(f'not identified: {why}', **figures)
    # The writer books ink by planned width plus bleed (calligraphy_model.ink_budget), calibrated
    # on the nominal brush: its capacity scales with the brush's.
    calibrated = InkBudgetConfig().capacity_m2
    budget = calibrated * capacity / nominal.ink_capacity_m2
    figures['writer_parameter'] = {
        'writer_node': {'ink.capacity_m2': budget},
        'means': "the writer's ink budget for this brush (its nominal-brush calibration "
        f'{calibrated:g} m^2 scaled by the identified capacity): '
        f'calligraphy write --param writer_node:ink.capacity_m2={budget:.4g}, or the parameter '
        "in the cell's config",
    }
    return {'identified': True, **figures}, {'ink_capacity_m2': capacity}


def identify(strokes, truth: dict | None = None, ink_runs=()) -> dict:
    """The identification document (identification.json) and the identified BrushParams.
    `ink_runs`: per session, (InkSteps, dips recorded), for ink use (see fit_ink_use)."""
    nominal = BrushParams()
    fit = fit_brush(strokes, nominal.paper_spread_m)
    lag_entry, lag_fields = tip_lag(fit)
    ink_entry, ink_fields = fit_ink_use(list(ink_runs))
    brush = dataclasses.replace(nominal, **fit['parameters'], **lag_fields, **ink_fields)
    gain = true_width_gain(brush)
    fit['writer_parameter'] = {
        'writer_node': {'prior_width_gain': gain},
        'means': "the writer's width gain before its camera has measured a stroke (its brush-"
        "state estimator's prior; nominal 1): the identified brush's widths over the nominal "
        f"brush's at the depths of 2-5 mm nominal strokes. calligraphy write --model M applies "
        "the model card's; for another model or the real cell: --param "
        f"writer_node:prior_width_gain={gain:.4g}, or the parameter in the cell's config",
    }
    document = {
        'width_curve': fit,
        'tip_lag': lag_entry,
        'ink_use': ink_entry,
        'identified_brush': {
            name: getattr(brush, name) for name in (*FITTED, *lag_fields, *ink_fields)
        },
        'nominal_for_the_rest': sorted(
            f.name
            for f in dataclasses.fields(BrushParams)
            if f.name not in FITTED and f.name not in lag_fields and f.name not in ink_fields
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


def prior_width_gain(document: dict) -> float:
    """The writer's starting width gain an identification document (`identify`) gives."""
    return document['width_curve']['writer_parameter']['writer_node']['prior_width_gain']


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
        'ink_capacity_m2': {'identified': brush.ink_capacity_m2, 'true': true.ink_capacity_m2},
        'over_depths_m': [float(depths[0]), float(depths[-1])],
        'parameter_error': {n: getattr(brush, n) - getattr(true, n) for n in FITTED},
        'true': {n: getattr(true, n) for n in FITTED},
    }


def write_brush_yaml(path: Path, brush: BrushParams, fit: dict, ink: dict | None = None) -> Path:
    """The `--brush-file` format: `brush:` with every BrushParams field (fitted + nominal)."""
    values = {f.name: getattr(brush, f.name) for f in dataclasses.fields(BrushParams)}
    values = {k: (int(v) if isinstance(v, int) else float(v)) for k, v in values.items()}
    ink_line = ''
    if ink and ink.get('identified'):
        ink_line = (
            f'# Fitted: ink_capacity_m2 (camera darkness over {ink["strokes"]} strokes and '
            f'{ink["dips"]} dips, residual RMS {ink["residual_rms"]:.3f}).\n'
        )
    header = (
        '# Brush identified by `calligraphy learn` from camera widths; SI units.\n'
        f'# Fitted: {", ".join(FITTED)} (residual RMS {fit["residual_rms_m"] * 1e3:.3f} mm over '
        f'{fit["points"]} points).\n{ink_line}# Every other field is the nominal brush.\n'
    )
    path.write_text(header + yaml.safe_dump({'brush': values}, sort_keys=False))
    return path
