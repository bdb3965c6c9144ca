"""Fine-tuning, the evaluation gate and promotion for `calligraphy learn`.

- Fine-tuning: `training.train` on episodes of which half have brushes drawn around the
  identified brush (the fitted width-curve fields uniform within ±`spread` of their values,
  widened to 3 standard errors where the fit is less sure; the fields not identified, such as tip
  lag and ink, over the whole training ranges), so the policy does not learn one point of a brush
  it only knows within errors, and half from the whole training distribution (see
  `brushes_around`). The network is trained anew (training.train has no warm start). The
  card's `dataset` gets `sessions` (provenance) and `brush_randomisation`; its `identified_brush`
  the fit.
- Gate: the new and the current model write the same held-out episodes with the identified brush
  as `learned+feedback` under mismatch (not told the brush: as in the cell); the new one is
  better only when its IoU CI lies wholly above the current one's.
- Promotion: into the user model directory ($CALLIGRAPHY_MODEL_DIR, default
  ~/.local/share/calligraphy/models/), never over the shipped model; the model it replaces is
  kept in `previous/` for rollback.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from calligraphy_model.brush import PARAM_RANGES, BrushParams

MODEL_NAME = 'brush_policy'
# Share of the fine-tuning episodes whose brush comes from the whole training distribution.
GENERAL_SHARE = 0.5


def brushes_around(
    identified: BrushParams,
    stderr: dict,
    spread: float = 0.15,
    general_share: float = GENERAL_SHARE,
):
    """A sampler of training brushes around `identified` (for training.train's `sample_brush`),
    drawing from the whole training distribution with probability `general_share`, and the
    ranges it draws the identified fields from.

    The general share keeps the width gains the cell starts from in the training data: the
    writer's brush-state estimate starts at the nominal brush (gain 1) and only reaches the
    identified gain after a few strokes, and a model card whose gains stop short of 1 would hand
    those first strokes to the analytic fallback."""
    ranges = {}
    for name, (lo, hi, _, _) in PARAM_RANGES.items():
        if name in stderr:
            value = getattr(identified, name)
            half = max(spread * value, 3.0 * float(stderr[name]))
            ranges[name] = [max(value - half, 1e-6), value + half]
        else:
            ranges[name] = [lo, hi]

    def sample(rng: np.random.Generator) -> BrushParams:
        if rng.random() < general_share:
            return BrushParams.sample(rng, 'train')
        while True:
            values = {k: float(rng.uniform(*r)) for k, r in ranges.items()}
            if values['touch_width_m'] < 0.9 * values['belly_diameter_m']:
                return BrushParams(**values)

    return sample, ranges


def finetune(config, identified: BrushParams, identification: dict, sessions: list, log):
    """Train on data around the identified brush; returns training.TrainResult (card updated)."""
    from brush_policy_training.learn_identify import prior_width_gain
    from brush_policy_training.training import train

    stderr = dict(identification['width_curve']['standard_errors'])
    ink = identification['ink_use']
    if ink.get('identified'):
        stderr['ink_capacity_m2'] = ink['ink_capacity_standard_error_m2']
    sample_brush, ranges = brushes_around(identified, stderr)
    result = train(config, log=log, sample_brush=sample_brush)
    card = result.card
    card.dataset['sessions'] = sessions
    card.identified_brush = {
        'parameters': identification['identified_brush'],
        'residual_rms_m': identification['width_curve']['residual_rms_m'],
        # What `calligraphy write --model` starts the writer's width-gain estimate from.
        'prior_width_gain': prior_width_gain(identification),
        'standard_errors': stderr,
        'tip_lag': identification['tip_lag'],
        'ink_use': identification['ink_use'],
    }
    card.dataset['brush_randomisation'] = {
        'around_identified': ranges,
        'share_from_the_training_distribution': GENERAL_SHARE,
    }
    card.brush_param_ranges = {**card.brush_param_ranges, 'around_identified': ranges}
    card.save(result.card_path)
    return result


def evaluate_pair(
    new_model: Path,
    current_model: Path,
    brush: BrushParams,
    chars: str,
    episodes: int,
    seed: int,
    new_prior_width_gain: float = 1.0,
) -> dict:
    """Both models, learned+feedback not told the brush, on the same episodes written by the
    identified brush; IoU mean and 95 % CI of each, and whether the new one is better. Each
    starts as the cell would run it: the new model from `new_prior_width_gain` (the identified
    brush's, which `calligraphy write --model` applies from its card), the current one from the
    nominal brush."""
    from brush_policy_node.config import FEEDBACK, ControllerConfig
    from brush_policy_node.runtime import build_controllers
    from brush_policy_training.evaluation import make_episodes, write_episodes
    from calligraphy_model.scoring import mean_ci95

    eps = [dataclasses.replace(e, params=brush) for e in make_episodes(chars, episodes, seed)]
    figures, ious = {}, {}
    runs = [('new', new_model, new_prior_width_gain), ('current', current_model, 1.0)]
    if new_prior_width_gain != 1.0:
        # For information (not the verdict): how much of the difference the prior alone makes.
        runs.append(('current_with_identified_prior', current_model, new_prior_width_gain))
    for label, path, prior in runs:
        controllers = build_controllers(ControllerConfig(), 'learned', path)
        scores = write_episodes(controllers, FEEDBACK, eps, mismatch=True, prior_width_gain=prior)
        ious[label] = np.array([s.iou for s in scores])
        mean, lo, hi = mean_ci95(ious[label])
        figures[label] = {
            'model': str(path),
            'iou_mean': mean,
            'iou_ci95': [lo, hi],
            'width_err_mm_mean': 1e3 * float(np.mean([s.width_error_m for s in scores])),
            'strokes_fell_back': int(sum(s.fell_back for s in scores)),
            'prior_width_gain': prior,
        }
    mean, lo, hi = mean_ci95(ious['new'] - ious['current'])
    figures['paired_difference'] = {
        'iou_mean': mean,
        'iou_ci95': [lo, hi],
        'note': 'new minus current, episode by episode (same brush, character, streak seeds); '
        'for information: the gate asks for the two CIs to be apart',
    }
    figures.update(
        {
            'protocol': 'learned+feedback, brush unknown to the controller (mismatch), every '
            'episode written by the identified brush; held-out test characters; each model '
            "starts from the width gain the cell gives it (prior_width_gain: the new model's "
            'card holds the identified one), and the camera measures every stroke',
            'characters': chars,
            'episodes': episodes,
            'seed': seed,
        }
    )
    figures['verdict'] = verdict(figures['new']['iou_ci95'], figures['current']['iou_ci95'])
    return figures


def verdict(new_ci: list[float], current_ci: list[float]) -> dict:
    """Better only when the CIs are apart with the new one above."""
    better = bool(new_ci[0] > current_ci[1])
    worse = bool(new_ci[1] < current_ci[0])
    if better:
        text = "better: the new model's IoU CI lies above the current one's"
    elif worse:
        text = "worse: the new model's IoU CI lies below the current one's"
    else:
        text = 'not shown better: the IoU CIs overlap'
    return {'better': better, 'worse': worse, 'text': text}


def model_dir() -> Path:
    """The user model directory ($CALLIGRAPHY_MODEL_DIR or ~/.local/share/calligraphy/models)."""
    env = os.environ.get('CALLIGRAPHY_MODEL_DIR')
    return Path(env) if env else Path.home() / '.local' / 'share' / 'calligraphy' / 'models'


def current_model() -> Path:
    """The cell's current model: the promoted one in the user model directory, else shipped."""
    from brush_policy_node.runtime import SHIPPED_MODEL

    installed = model_dir() / f'{MODEL_NAME}.onnx'
    return installed if installed.is_file() else SHIPPED_MODEL


class PromotionRefusedError(RuntimeError):
    pass


def promote(model_path: Path, evaluation: dict) -> dict:
    """Install the model (and its card) as the cell's model when the evaluation says better;
    the one it replaces goes to previous/ with a timestamp. PromotionRefusedError otherwise."""
    from brush_policy_node.model_card import card_path_for

    if not evaluation.get('verdict', {}).get('better'):
        raise PromotionRefusedError(
            'not promoted: ' + evaluation.get('verdict', {}).get('text', 'no evaluation')
        )
    target_dir = model_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f'{MODEL_NAME}.onnx'
    kept = None
    if target.is_file():
        stamp = datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')
        previous = target_dir / 'previous'
        previous.mkdir(exist_ok=True)
        kept = previous / f'{MODEL_NAME}-{stamp}.onnx'
        shutil.move(target, kept)
        if card_path_for(target).is_file():
            shutil.move(card_path_for(target), card_path_for(kept))
    shutil.copy2(model_path, target)
    shutil.copy2(card_path_for(model_path), card_path_for(target))
    return {'installed': str(target), 'previous': str(kept) if kept else None}
