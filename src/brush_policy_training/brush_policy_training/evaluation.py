"""Offline evaluation per EVALUATION.md in the brush simulator (no arm).

An episode is one (character, brush) pair: the brush is drawn from the simulator's *evaluation*
distribution with a seed derived from (seed, episode), starts full, and writes the character's
strokes in order with the controller's paths; the cell's scripted dip refills it when the load
falls below `RELOAD_BELOW`. Every controller writes the same episodes (same brushes, same streak
seeds, same camera-estimate noise), so their figures compare pair-wise.

Without mismatch every controller is told the brush as the camera would estimate it (true width
gain and load with estimation noise, `simulator.estimated_state`). Under `mismatch` the brush is
still drawn from the evaluation distribution but the controller is told the nominal brush (width
gain 1); only the ink load, which the cell's ink budget tracks, is still known. `learned+feedback`
is the learned policy conditioned on the width gain that the camera's BrushStateEstimator
infers from the widths of the strokes written so far (measured on the episode's canvas the way the
camera measures them, crossings excluded); it starts from what the open-loop controllers are told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from brush_policy_node.config import EVAL_CONTROLLERS, FEEDBACK
from brush_policy_node.controllers import ControllerSet
from brush_policy_node.types import TimedBrushPath
from brush_policy_training.figures import feedback_recovery, save_contact_sheet, summarise
from brush_policy_training.simulator import estimated_state, true_width_gain
from brush_policy_training.training import RELOAD_BELOW
from calligraphy_model.brush import BrushParams
from calligraphy_model.brush_state import (
    BrushStateEstimate,
    BrushStateEstimator,
    commanded_widths,
)
from calligraphy_model.raster import PixelGrid, Region
from calligraphy_model.scoring import chamfer_m, iou
from calligraphy_model.stroke_width import measure_strokes, measure_width_along, stroke_footprint
from calligraphy_model.types import StrokeSpec as CameraStroke
from calligraphy_sim.brush_render import render_batch

INK_THRESHOLD = 0.25
BOX_X_M = 0.02
BOX_Y_M = 0.02
BOX_SIZE_M = 0.06
METRES_PER_PIXEL = 0.00025
# The width curve the controllers assume (the brush parameter file's).
NOMINAL_BRUSH = BrushParams()


# A stroke's share of the glyph: the target within 1 mm of its planned footprint.
_NEAR_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))


@dataclass
class Episode:
    index: int
    character: str
    params: BrushParams
    plan: object
    strokes: list
    target: np.ndarray
    ceiling: np.ndarray
    state_noise_seed: int


@dataclass
class EpisodeScore:
    iou: float
    ceiling_iou: float
    chamfer_m: float
    width_error_m: float
    fell_back: int
    ink: np.ndarray = field(repr=False)
    # IoU of each stroke's own ink with the glyph around its planned footprint, in order.
    stroke_ious: list[float] = field(default_factory=list)
    # Width gain the controller was told for each stroke, and the brush's true one.
    told_gains: list[float] = field(default_factory=list)
    true_gain: float = 1.0


def make_episodes(chars: str, episodes: int, seed: int) -> list[Episode]:
    """Episodes cycling through `chars`, each with its own evaluation-distribution brush."""
    from brush_policy_training.characters import plan_strokes
    from stroke_planner import ideal_reconstruction, target_mask

    plans = {}
    out = []
    for e in range(episodes):
        ch = chars[e % len(chars)]
        if ch not in plans:
            plan, strokes = plan_strokes(ch, BOX_X_M, BOX_Y_M, BOX_SIZE_M)
            plans[ch] = (
                plan,
                strokes,
                target_mask(plan, METRES_PER_PIXEL),
                ideal_reconstruction(plan, METRES_PER_PIXEL),
            )
        plan, strokes, target, ceiling = plans[ch]
        params = BrushParams.sample(np.random.default_rng([seed, e]), 'eval')
        out.append(Episode(e, ch, params, plan, strokes, target, ceiling, seed * 100003 + e))
    return out


def _pad(paths: Sequence[TimedBrushPath]) -> list[np.ndarray]:
    """(B, N) arrays; shorter paths end with the brush lifted in place (no further ink)."""
    n = max(len(p.x_m) for p in paths)

    def padded(values: np.ndarray, lift: bool) -> np.ndarray:
        tail = np.zeros(n - len(values)) if lift else np.repeat(values[-1:], n - len(values))
        return np.concatenate([values, tail])

    return [
        np.stack([padded(p.x_m, False) for p in paths]),
        np.stack([padded(p.y_m, False) for p in paths]),
        np.stack([padded(p.pressing_depth_m, True) for p in paths]),
        np.stack([padded(p.time_from_start_s, False) for p in paths]),
    ]


def write_episodes(
    controllers: ControllerSet,
    name: str,
    episodes: Sequence[Episode],
    mismatch: bool = False,
    prior_width_gain: float = 1.0,
) -> list[EpisodeScore]:
    """Write every episode with controller `name` (one of EVAL_CONTROLLERS); the strokes of all
    episodes render as one batch per stroke index. `mismatch`: see the module docstring; the
    controller is then told `prior_width_gain` (the writer's prior: nominal 1, or an identified
    brush's) where it would have been told the brush's."""
    feedback = name == FEEDBACK
    controller = controllers.get('learned' if feedback else name)
    rows = cols = int(round(BOX_SIZE_M / METRES_PER_PIXEL))
    region = PixelGrid(BOX_X_M, BOX_Y_M, rows, cols, METRES_PER_PIXEL)
    box = Region(BOX_X_M, BOX_Y_M, BOX_SIZE_M, BOX_SIZE_M)
    canvases = [np.zeros((rows, cols), np.float32) for _ in episodes]
    loads = np.ones(len(episodes))
    rngs = [np.random.default_rng(ep.state_noise_seed) for ep in episodes]
    width_errors: list[list[float]] = [[] for _ in episodes]
    stroke_ious: list[list[float]] = [[] for _ in episodes]
    told_gains: list[list[float]] = [[] for _ in episodes]
    estimators: list[BrushStateEstimator | None] = [None] * len(episodes)
    camera_strokes = [
        [CameraStroke(s.centreline_m, s.width_m, k) for k, s in enumerate(ep.strokes)]
        for ep in episodes
    ]
    fell_back = np.zeros(len(episodes), dtype=int)
    longest = max(len(ep.strokes) for ep in episodes)
    for k in range(longest):
        active = [i for i, ep in enumerate(episodes) if len(ep.strokes) > k]
        paths, states = [], []
        for i in active:
            if loads[i] < RELOAD_BELOW:
                loads[i] = 1.0
            # Always drawn, so that every controller sees the same estimation noise.
            state = estimated_state(episodes[i].params, loads[i], rngs[i])
            if mismatch:
                state = replace(state, width_gain=prior_width_gain, confidence=0.0)
            if feedback:
                if estimators[i] is None:
                    prior = BrushStateEstimate(width_gain=state.width_gain)
                    estimators[i] = BrushStateEstimator(prior=prior)
                state = replace(state, width_gain=estimators[i].estimate.width_gain)
            told_gains[i].append(state.width_gain)
            path = controller.compute(episodes[i].strokes[k], state)
            fell_back[i] += int(path.fell_back)
            paths.append(path)
            states.append(state)
        x, y, d, t = _pad(paths)
        renders = render_batch(
            x,
            y,
            d,
            t,
            [episodes[i].params for i in active],
            ink_load=loads[active],
            region=region,
            seeds=[episodes[i].state_noise_seed * 64 + k for i in active],
        )
        for i, state, path, render in zip(active, states, paths, renders, strict=True):
            loads[i] = render.ink_load_end
            # Ink layers darken like wet washes: 1 - (1 - a)(1 - b).
            canvases[i] = 1.0 - (1.0 - canvases[i]) * (1.0 - render.ink)
            stroke = episodes[i].strokes[k]
            measured = measure_width_along(
                render.ink, region, stroke.centreline_m, threshold=INK_THRESHOLD
            )
            width_errors[i].append(float(np.mean(np.abs(measured - stroke.width_m))))
            # The stroke against the glyph around its planned footprint (the part of the target
            # it is meant to cover), so that a stroke is judged as the glyph is.
            footprint = stroke_footprint(camera_strokes[i][k], box, METRES_PER_PIXEL)
            near = cv2.dilate(footprint.astype(np.uint8), _NEAR_KERNEL).astype(bool)
            stroke_ious[i].append(
                iou(episodes[i].target & near, (render.ink >= INK_THRESHOLD) & near)
            )
            if feedback:
                # What the camera sees: the whole box so far, this stroke measured where no other
                # written stroke crosses it.
                seen = measure_strokes(
                    canvases[i],
                    canvases[i] >= INK_THRESHOLD,
                    box,
                    METRES_PER_PIXEL,
                    camera_strokes[i][: k + 1],
                    INK_THRESHOLD,
                )
                expected = commanded_widths(
                    stroke.centreline_m,
                    np.column_stack([path.x_m, path.y_m]),
                    path.pressing_depth_m,
                    NOMINAL_BRUSH.seen_width_at_depth,
                    state.width_gain,
                )
                assumed = BrushStateEstimate(width_gain=state.width_gain)
                estimators[i].update(seen[k:], assumed=assumed, expected=[expected])
    scores = []
    for i, ep in enumerate(episodes):
        written = canvases[i] >= INK_THRESHOLD
        scores.append(
            EpisodeScore(
                iou=iou(ep.target, written),
                ceiling_iou=iou(ep.target, ep.ceiling),
                chamfer_m=chamfer_m(ep.target, written, METRES_PER_PIXEL),
                width_error_m=float(np.mean(width_errors[i])),
                fell_back=int(fell_back[i]),
                ink=canvases[i],
                stroke_ious=stroke_ious[i],
                told_gains=told_gains[i],
                true_gain=true_width_gain(ep.params),
            )
        )
    return scores


def evaluate(
    controllers: ControllerSet,
    controller: str,
    chars: str,
    episodes: int,
    seed: int,
    contact_sheet: Path | None = None,
    mismatch: bool = False,
) -> dict:
    """Figures of `controller` (and of `constant`, which gap_closed needs) over the episodes.

    Under `mismatch` the figures also say what the mismatch cost: `iou_told` is the same
    controller (the learned one, for learned+feedback) told the brush; for learned+feedback the
    `feedback` block compares it with the learned policy left open-loop under the mismatch.
    """
    if controller not in EVAL_CONTROLLERS:
        raise ValueError(f'controller must be one of {", ".join(EVAL_CONTROLLERS)}')
    eps = make_episodes(chars, episodes, seed)
    constant = write_episodes(controllers, 'constant', eps, mismatch)
    scores = (
        constant
        if controller == 'constant'
        else write_episodes(controllers, controller, eps, mismatch)
    )
    figures = summarise(controller, scores, constant)
    figures.update({'characters': chars, 'seed': seed, 'mismatch': mismatch})
    if mismatch:
        base = 'learned' if controller == FEEDBACK else controller
        told = write_episodes(controllers, base, eps, mismatch=False)
        figures['iou_told'] = float(np.mean([s.iou for s in told]))
        if controller == FEEDBACK:
            open_loop = write_episodes(controllers, 'learned', eps, mismatch=True)
            figures['feedback'] = feedback_recovery(told, open_loop, scores)
    if contact_sheet is not None:
        figures['contact_sheet'] = str(save_contact_sheet(contact_sheet, eps, scores, constant))
    return figures
