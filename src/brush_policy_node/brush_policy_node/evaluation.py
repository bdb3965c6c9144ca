"""Offline evaluation per EVALUATION.md in the brush simulator (no arm).

An episode is one (character, brush) pair: the brush is drawn from the simulator's *evaluation*
distribution with a seed derived from (seed, episode), starts full, and writes the character's
strokes in order with the controller's paths; the cell's scripted dip refills it when the load
falls below `RELOAD_BELOW`. Every controller writes the same episodes (same brushes, same streak
seeds, same camera-estimate noise), so their figures compare pair-wise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from brush_policy_node.controllers import ControllerSet
from brush_policy_node.scoring import chamfer_m, glyph_iou, mean_ci95
from brush_policy_node.simulator import estimated_state
from brush_policy_node.training import RELOAD_BELOW
from brush_policy_node.types import TimedBrushPath
from calligraphy_sim.brush_params import BrushParams
from calligraphy_sim.brush_render import CanvasRegion, measure_width_along, render_batch

INK_THRESHOLD = 0.25
BOX_X_M = 0.02
BOX_Y_M = 0.02
BOX_SIZE_M = 0.06
METRES_PER_PIXEL = 0.00025


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


def make_episodes(chars: str, episodes: int, seed: int) -> list[Episode]:
    """Episodes cycling through `chars`, each with its own evaluation-distribution brush."""
    from brush_policy_node.characters import plan_strokes
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
    controllers: ControllerSet, name: str, episodes: Sequence[Episode]
) -> list[EpisodeScore]:
    """Write every episode with controller `name`; strokes of all episodes render as one batch."""
    controller = controllers.get(name)
    rows = cols = int(round(BOX_SIZE_M / METRES_PER_PIXEL))
    region = CanvasRegion(BOX_X_M, BOX_Y_M, rows, cols, METRES_PER_PIXEL)
    canvases = [np.zeros((rows, cols), np.float32) for _ in episodes]
    loads = np.ones(len(episodes))
    rngs = [np.random.default_rng(ep.state_noise_seed) for ep in episodes]
    width_errors: list[list[float]] = [[] for _ in episodes]
    fell_back = np.zeros(len(episodes), dtype=int)
    longest = max(len(ep.strokes) for ep in episodes)
    for k in range(longest):
        active = [i for i, ep in enumerate(episodes) if len(ep.strokes) > k]
        paths = []
        for i in active:
            if loads[i] < RELOAD_BELOW:
                loads[i] = 1.0
            state = estimated_state(episodes[i].params, loads[i], rngs[i])
            path = controller.compute(episodes[i].strokes[k], state)
            fell_back[i] += int(path.fell_back)
            paths.append(path)
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
        for i, render in zip(active, renders, strict=True):
            loads[i] = render.ink_load_end
            # Ink layers darken like wet washes: 1 - (1 - a)(1 - b).
            canvases[i] = 1.0 - (1.0 - canvases[i]) * (1.0 - render.ink)
            stroke = episodes[i].strokes[k]
            measured = measure_width_along(
                render.ink, region, stroke.centreline_m, threshold=INK_THRESHOLD
            )
            width_errors[i].append(float(np.mean(np.abs(measured - stroke.width_m))))
    scores = []
    for i, ep in enumerate(episodes):
        written = canvases[i] >= INK_THRESHOLD
        scores.append(
            EpisodeScore(
                iou=glyph_iou(ep.target, written),
                ceiling_iou=glyph_iou(ep.target, ep.ceiling),
                chamfer_m=chamfer_m(ep.target, written, METRES_PER_PIXEL),
                width_error_m=float(np.mean(width_errors[i])),
                fell_back=int(fell_back[i]),
                ink=canvases[i],
            )
        )
    return scores


def summarise(name: str, scores: Sequence[EpisodeScore], constant: Sequence[EpisodeScore]) -> dict:
    """The EVALUATION.md figures of one controller, with gap_closed against `constant`."""
    iou = np.array([s.iou for s in scores])
    mean, lo, hi = mean_ci95(iou)
    ceiling = float(np.mean([s.ceiling_iou for s in scores]))
    const = float(np.mean([s.iou for s in constant]))
    gap = ceiling - const
    return {
        'controller': name,
        'episodes': len(scores),
        'iou_mean': mean,
        'iou_ci95': [lo, hi],
        'ceiling_iou_mean': ceiling,
        'chamfer_mm_mean': 1e3 * float(np.nanmean([s.chamfer_m for s in scores])),
        'width_err_mm_mean': 1e3 * float(np.mean([s.width_error_m for s in scores])),
        'gap_closed': float((mean - const) / gap) if gap > 0 else float('nan'),
        'constant_iou_mean': const,
        'strokes_fell_back': int(sum(s.fell_back for s in scores)),
    }


def evaluate(
    controllers: ControllerSet,
    controller: str,
    chars: str,
    episodes: int,
    seed: int,
    contact_sheet: Path | None = None,
) -> dict:
    """Figures of `controller` (and of `constant`, which gap_closed needs) over the episodes."""
    eps = make_episodes(chars, episodes, seed)
    constant = write_episodes(controllers, 'constant', eps)
    scores = constant if controller == 'constant' else write_episodes(controllers, controller, eps)
    figures = summarise(controller, scores, constant)
    figures.update({'characters': chars, 'seed': seed})
    if contact_sheet is not None:
        figures['contact_sheet'] = str(save_contact_sheet(contact_sheet, eps, scores, constant))
    return figures


def save_contact_sheet(
    path: Path,
    episodes: Sequence[Episode],
    scores: Sequence[EpisodeScore],
    constant: Sequence[EpisodeScore],
    samples: int = 8,
) -> Path:
    """PNG: per sampled episode, the target, `constant`'s ink and the controller's ink; the
    target's outline is drawn in blue over both inks."""
    picks = np.linspace(0, len(episodes) - 1, min(samples, len(episodes))).astype(int)
    tiles = []
    for i in picks:
        target = episodes[i].target
        outline = target & ~cv2.erode(target.astype(np.uint8), np.ones((3, 3))).astype(bool)
        row = [np.where(target, 60, 255).astype(np.uint8)]
        for ink in (constant[i].ink, scores[i].ink):
            row.append((255 * (1.0 - ink)).astype(np.uint8))
        rgb = [np.repeat(t[..., None], 3, axis=2) for t in row]
        for tile in rgb[1:]:
            tile[outline] = (255, 90, 0)
        for tile, text in zip(
            rgb,
            (
                f'{episodes[i].character} target',
                f'constant {constant[i].iou:.2f}',
                f'IoU {scores[i].iou:.2f}',
            ),
            strict=True,
        ):
            cv2.putText(tile, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 200), 1)
        tiles.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0))) for t in rgb], axis=1))
    sheet = np.concatenate(tiles, axis=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), sheet)
    return path
