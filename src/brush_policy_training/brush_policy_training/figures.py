"""The offline evaluation's figures from its episode scores (EVALUATION.md): a controller's
summary with gap_closed, how much of a brush mismatch the feedback loop wins back, and the
contact sheet of sampled episodes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from calligraphy_model.scoring import mean_ci95

if TYPE_CHECKING:
    from brush_policy_training.evaluation import Episode, EpisodeScore


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


def _recovery(told: float, open_loop: float, closed: float) -> float:
    lost = told - open_loop
    return float((closed - open_loop) / lost) if lost > 1e-9 else float('nan')


def feedback_recovery(
    told: Sequence[EpisodeScore],
    open_loop: Sequence[EpisodeScore],
    closed: Sequence[EpisodeScore],
    settled_after: int = 3,
) -> dict:
    """How much of the IoU the mismatch cost the feedback loop wins back, over the same episodes.

    recovery = (closed − open_loop) / (told − open_loop): 0 = no better than open loop, 1 = as
    good as being told the brush. `recovery_after_first_3_strokes` pools the per-stroke IoUs of
    every stroke after the first `settled_after` (which the estimator has already seen);
    `by_stroke` gives the per-stroke means and the width gain error |ln(told/true)| per index.
    """

    def glyph(scores: Sequence[EpisodeScore]) -> float:
        return float(np.mean([s.iou for s in scores]))

    def strokes(scores: Sequence[EpisodeScore], k: int | None = None) -> np.ndarray:
        if k is None:
            return np.array([v for s in scores for v in s.stroke_ious[settled_after:]])
        return np.array([s.stroke_ious[k] for s in scores if len(s.stroke_ious) > k])

    def gain_error(scores: Sequence[EpisodeScore], k: int) -> float:
        errors = [
            abs(np.log(s.told_gains[k] / s.true_gain)) for s in scores if len(s.told_gains) > k
        ]
        return float(np.mean(errors))

    longest = max(len(s.stroke_ious) for s in told)
    by_stroke = []
    for k in range(longest):
        count = len(strokes(told, k))
        if count < max(5, len(told) // 10):
            break  # too few characters have this many strokes for a mean to mean much
        means = [float(np.mean(strokes(scores, k))) for scores in (told, open_loop, closed)]
        by_stroke.append(
            {
                'stroke': k + 1,
                'episodes': count,
                'iou_told': means[0],
                'iou_open_loop': means[1],
                'iou_feedback': means[2],
                'recovery': _recovery(*means),
                'gain_err_open_loop': gain_error(open_loop, k),
                'gain_err_feedback': gain_error(closed, k),
            }
        )
    # Characters of at most `settled_after` strokes have no later strokes: no figure (NaN).
    later = [
        float(np.mean(pooled)) if len(pooled := strokes(scores)) else math.nan
        for scores in (told, open_loop, closed)
    ]
    return {
        'iou_told': glyph(told),
        'iou_open_loop': glyph(open_loop),
        'iou_feedback': glyph(closed),
        'recovery': _recovery(glyph(told), glyph(open_loop), glyph(closed)),
        'stroke_iou_after_first_3': dict(
            zip(('told', 'open_loop', 'feedback'), later, strict=True)
        ),
        'recovery_after_first_3_strokes': _recovery(*later),
        'by_stroke': by_stroke,
    }


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
