"""`calligraphy train`: data from the brush simulator, teacher targets, torch training, ONNX export
and the model card.

Data: each episode is a training character (never a test one) written by a brush drawn from the
simulator's *training* distribution, starting with a random ink load; strokes are taken in order,
the ink carried from one to the next (with a scripted reload when the load runs low, as the cell
dips). The targets come from `teacher.teacher_corrections` (privileged iterative learning control
on the true brush); the inputs are what the cell can know: the stroke and the brush state the
camera would estimate (noisy width gain and ink load).
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from brush_policy_node.backends import N_OUTPUTS, OUTPUT_NAMES, OnnxRuntimeBackend
from brush_policy_node.config import ControllerConfig
from brush_policy_node.features import FEATURE_NAMES, N_FEATURES, stroke_features, stroke_frames
from brush_policy_node.model_card import ModelCard, card_path_for
from brush_policy_node.width_model import nominal_width_model
from brush_policy_training.characters import plan_strokes, test_characters, training_characters
from brush_policy_training.simulator import estimated_state, param_ranges, simulator_info
from brush_policy_training.teacher import teacher_corrections

# The cell dips when the brush runs this low (same rule in training and evaluation).
RELOAD_BELOW = 0.3


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Load from JSON with `TrainConfig.from_file` (unknown keys rejected)."""

    seed: int = 0
    characters: int = 125
    brushes_per_character: int = 8
    char_size_m: tuple[float, float] = (0.05, 0.07)
    initial_ink_load: tuple[float, float] = (0.5, 1.0)
    teacher_iterations: int = 5
    # The teacher aims this much wider than the plan: planned widths (distance transform of the
    # glyph raster) come out about a pixel narrower than the filled glyph the IoU is scored
    # against. Chosen by sweeping 0.2-0.6 mm with the privileged teacher on training characters.
    width_margin_m: float = 0.0003
    hidden: int = 64
    layers: int = 2
    epochs: int = 30
    batch_size: int = 512
    learning_rate: float = 3e-3
    validation_fraction: float = 0.1
    eval_episodes: int = 200
    output_dir: str = 'out/train'
    model_name: str = 'brush_policy'
    torch_threads: int = 1
    controllers: ControllerConfig = field(default_factory=ControllerConfig)

    def __post_init__(self) -> None:
        if self.characters < 1 or self.brushes_per_character < 1:
            raise ValueError('characters and brushes_per_character must be >= 1')
        if self.epochs < 1 or self.batch_size < 1 or self.learning_rate <= 0.0:
            raise ValueError('epochs, batch_size must be >= 1 and learning_rate > 0')
        if not 0.0 <= self.validation_fraction < 0.5:
            raise ValueError('validation_fraction must be in [0, 0.5)')
        if self.characters > len(training_characters()):
            raise ValueError(
                f'characters {self.characters} > {len(training_characters())} in the train list'
            )

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        data = json.loads(Path(path).read_text(encoding='utf-8'))
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f'unknown training config keys: {", ".join(unknown)}')
        for key in ('char_size_m', 'initial_ink_load'):
            if key in data:
                data[key] = tuple(data[key])
        if 'controllers' in data:
            data['controllers'] = ControllerConfig(**data['controllers'])
        return cls(**data)


@dataclass
class Dataset:
    features: np.ndarray
    targets: np.ndarray
    stroke_ids: np.ndarray
    episodes: int
    strokes: int
    characters: str
    ranges: dict

    def sha256(self) -> str:
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(self.features).tobytes())
        digest.update(np.ascontiguousarray(self.targets).tobytes())
        return digest.hexdigest()


def generate_dataset(config: TrainConfig, log=print, sample_brush=None) -> Dataset:
    """Simulated episodes of training characters under randomised brushes, with teacher targets.
    `sample_brush(rng) -> BrushParams` draws each episode's brush (default: the training
    distribution, BrushParams.sample(rng, 'train'))."""
    from calligraphy_model.brush import BrushParams

    if sample_brush is None:

        def sample_brush(rng):
            return BrushParams.sample(rng, 'train')

    rng = np.random.default_rng(config.seed)
    nominal = nominal_width_model(config.controllers.max_depth_m)
    chars = training_characters()[: config.characters]
    assert not set(chars) & set(test_characters()), 'a test character leaked into training'
    episodes = []
    for ch in chars:
        size = float(rng.uniform(*config.char_size_m))
        _, strokes = plan_strokes(ch, size_m=size)
        for _ in range(config.brushes_per_character):
            episodes.append(
                {
                    'strokes': strokes,
                    'params': sample_brush(rng),
                    'load': float(rng.uniform(*config.initial_ink_load)),
                }
            )
    log(f'dataset: {len(chars)} characters, {len(episodes)} episodes')
    features, targets, stroke_ids = [], [], []
    observed = {k: [np.inf, -np.inf] for k in ('width_gain', 'ink_load', 'width_m')}
    observed.update({k: [np.inf, -np.inf] for k in ('resample_step_m', 'length_m')})
    observed['abs_curvature_per_m'] = [0.0, 0.0]
    n_strokes = 0
    longest = max(len(e['strokes']) for e in episodes)
    for k in range(longest):
        batch = [e for e in episodes if len(e['strokes']) > k]
        for e in batch:
            if e['load'] < RELOAD_BELOW:
                e['load'] = 1.0
        strokes = [e['strokes'][k] for e in batch]
        loads = np.array([e['load'] for e in batch])
        raw, after = teacher_corrections(
            strokes,
            [e['params'] for e in batch],
            loads,
            nominal,
            config.controllers,
            config.teacher_iterations,
            config.width_margin_m,
        )
        for e, stroke, target, load_after in zip(batch, strokes, raw, after, strict=True):
            state = estimated_state(e['params'], e['load'], rng)
            feats = stroke_features(
                stroke.centreline_m,
                stroke.width_m,
                nominal.depth_for_width(stroke.width_m),
                state.ink_load,
                state.width_gain,
            )
            features.append(feats)
            targets.append(target)
            stroke_ids.append(np.full(len(target), n_strokes))
            n_strokes += 1
            e['load'] = float(load_after)
            seg = np.linalg.norm(np.diff(stroke.centreline_m, axis=0), axis=1)
            curvature = np.percentile(np.abs(stroke_frames(stroke.centreline_m)[2]), 95)
            for name, lo, hi in (
                ('width_gain', state.width_gain, state.width_gain),
                ('ink_load', state.ink_load, state.ink_load),
                ('width_m', stroke.width_m.min(), stroke.width_m.max()),
                ('resample_step_m', np.median(seg), np.median(seg)),
                ('length_m', seg.sum(), seg.sum()),
                ('abs_curvature_per_m', 0.0, curvature),
            ):
                observed[name] = [min(observed[name][0], lo), max(observed[name][1], hi)]
    return Dataset(
        features=np.concatenate(features),
        targets=np.concatenate(targets),
        stroke_ids=np.concatenate(stroke_ids),
        episodes=len(episodes),
        strokes=n_strokes,
        characters=chars,
        ranges={k: [float(v[0]), float(v[1])] for k, v in observed.items()},
    )


@dataclass
class TrainResult:
    model_path: Path
    card_path: Path
    card: ModelCard
    module: object


def train(config: TrainConfig, log=print, evaluate=None, sample_brush=None) -> TrainResult:
    """The whole pipeline; `evaluate(model_path, card) -> dict` adds evaluation figures;
    `sample_brush(rng)` draws the training brushes (see generate_dataset)."""
    import torch

    from brush_policy_training.policy_model import (
        PolicyNet,
        TorchBackend,
        count_parameters,
        export_onnx,
    )

    started = time.perf_counter()
    torch.set_num_threads(config.torch_threads)
    torch.manual_seed(config.seed)
    data = generate_dataset(config, log, sample_brush)
    generated_s = time.perf_counter() - started
    log(f'dataset: {data.strokes} strokes, {len(data.features)} points in {generated_s:.1f} s')

    rng = np.random.default_rng(config.seed + 1)
    # Split by stroke, so validation points never share a stroke with training points.
    val_strokes = rng.random(data.strokes) < config.validation_fraction
    is_val = val_strokes[data.stroke_ids]
    x_train = torch.from_numpy(data.features[~is_val])
    y_train = torch.from_numpy(data.targets[~is_val])
    x_val = torch.from_numpy(data.features[is_val])
    y_val = torch.from_numpy(data.targets[is_val])

    module = PolicyNet(config.hidden, config.layers)
    module.set_normalisation(data.features[~is_val])
    optimiser = torch.optim.Adam(module.parameters(), lr=config.learning_rate)
    steps_per_epoch = max(1, int(np.ceil(len(x_train) / config.batch_size)))
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, config.learning_rate, total_steps=config.epochs * steps_per_epoch
    )
    curve = []
    # The teacher's targets carry brush-specific detail the policy cannot see; past a few epochs
    # the network starts fitting it, so the epoch with the lowest validation error is kept.
    best = (np.inf, 0, copy.deepcopy(module.state_dict()))
    for epoch in range(config.epochs):
        module.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for i in range(steps_per_epoch):
            idx = order[i * config.batch_size : (i + 1) * config.batch_size]
            loss = torch.nn.functional.mse_loss(module(x_train[idx]), y_train[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
        module.eval()
        with torch.no_grad():
            val = float(torch.nn.functional.mse_loss(module(x_val), y_val)) if len(x_val) else 0.0
        curve.append(
            {'epoch': epoch + 1, 'train_mse': total / len(x_train), 'validation_mse': val}
        )
        if len(x_val) and val < best[0]:
            best = (val, epoch + 1, copy.deepcopy(module.state_dict()))
        if epoch == 0 or (epoch + 1) % max(1, config.epochs // 8) == 0:
            log(f'epoch {epoch + 1:3d}  train {curve[-1]["train_mse"]:.4f}  val {val:.4f}')
    if len(x_val):
        module.load_state_dict(best[2])
        log(f'kept epoch {best[1]} (validation mse {best[0]:.4f})')
    module.eval()
    trained_s = time.perf_counter() - started - generated_s

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_path = export_onnx(module, out / f'{config.model_name}.onnx')
    torch.save(module.state_dict(), model_path.with_suffix('.pt'))
    probe = data.features[is_val][:2048] if is_val.any() else data.features[:2048]
    onnx_out = OnnxRuntimeBackend(model_path).infer(probe)
    torch_out = TorchBackend(module).infer(probe)
    max_diff = float(np.max(np.abs(onnx_out - torch_out)))
    log(f'exported {model_path} (ONNX vs torch max abs diff {max_diff:.2e})')

    baseline_val = float(np.mean(data.targets[is_val] ** 2)) if is_val.any() else float('nan')
    card = ModelCard(
        model_file=model_path.name,
        input_shape=['points', N_FEATURES],
        output_shape=['points', N_OUTPUTS],
        feature_names=list(FEATURE_NAMES),
        output_names=list(OUTPUT_NAMES),
        simulator=simulator_info(),
        brush_param_ranges={'train': param_ranges('train'), 'eval': param_ranges('eval')},
        input_ranges=data.ranges,
        dataset={
            'characters': data.characters,
            'episodes': data.episodes,
            'strokes': data.strokes,
            'points': len(data.features),
            'validation_points': int(is_val.sum()),
            'sha256': data.sha256(),
            'reload_below_ink_load': RELOAD_BELOW,
            'targets': 'privileged iterative learning control on the true brush (teacher.py), '
            f'aiming {config.width_margin_m * 1e3:.2f} mm wider than planned',
        },
        seed=config.seed,
        training={
            'config': _jsonable(asdict(config)),
            'parameters': count_parameters(module),
            'generate_s': round(generated_s, 1),
            'train_s': round(trained_s, 1),
            'kept_epoch': best[1],
            'zero_correction_validation_mse': baseline_val,
            'onnx_vs_torch_max_abs_diff': max_diff,
            'torch_version': torch.__version__,
        },
        training_curve=curve,
        created_utc=datetime.now(UTC).isoformat(timespec='seconds'),
    )
    card_path = card.save(card_path_for(model_path))
    if evaluate is not None:
        card.evaluation = evaluate(model_path, card)
        card.save(card_path)
    log(f'model card {card_path} ({time.perf_counter() - started:.1f} s in all)')
    return TrainResult(model_path, card_path, card, module)


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def tiny_config(output_dir: str, seed: int = 0) -> TrainConfig:
    """A few-second run (tests, smoke checks)."""
    return replace(
        TrainConfig(),
        seed=seed,
        characters=3,
        brushes_per_character=2,
        teacher_iterations=3,
        epochs=8,
        batch_size=256,
        eval_episodes=0,
        output_dir=output_dir,
    )
