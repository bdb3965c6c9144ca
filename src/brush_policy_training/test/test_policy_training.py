"""Training pipeline, shipped model and the learned controller's behaviour in the simulator."""

from __future__ import annotations

import json

import numpy as np
import pytest

from brush_policy_node.backends import N_OUTPUTS, OnnxRuntimeBackend
from brush_policy_node.config import ControllerConfig
from brush_policy_node.features import N_FEATURES
from brush_policy_node.model_card import ModelCard, card_path_for
from brush_policy_node.runtime import SHIPPED_MODEL, build_controllers, load_policy
from brush_policy_node.types import BrushState
from brush_policy_training import characters
from brush_policy_training.evaluation import make_episodes, write_episodes
from brush_policy_training.training import TrainConfig, tiny_config, train


def test_tiny_training_reduces_loss_and_exports_a_loadable_model(tmp_path):
    result = train(tiny_config(str(tmp_path)), log=lambda *_: None)
    curve = result.card.training_curve
    assert curve[-1]['train_mse'] < 0.5 * curve[0]['train_mse'], curve
    backend = OnnxRuntimeBackend(result.model_path)
    out = backend.infer(np.zeros((7, N_FEATURES), np.float32))
    assert out.shape == (7, N_OUTPUTS)
    card = ModelCard.load(card_path_for(result.model_path))
    assert card.training['onnx_vs_torch_max_abs_diff'] < 1e-4
    assert len(card.dataset['sha256']) == 64 and card.dataset['points'] > 1000


def test_training_config_file_rejects_unknown_keys(tmp_path):
    path = tmp_path / 'c.json'
    path.write_text(json.dumps({'epochs': 3, 'learning_rte': 0.1}))
    with pytest.raises(ValueError, match='learning_rte'):
        TrainConfig.from_file(path)
    path.write_text(json.dumps({'epochs': 3, 'char_size_m': [0.04, 0.05]}))
    assert TrainConfig.from_file(path).char_size_m == (0.04, 0.05)


def test_test_characters_never_appear_in_training():
    assert len(characters.test_characters()) >= 20
    assert not set(characters.test_characters()) & set(characters.training_characters())


def test_shipped_model_loads_with_declared_shapes_and_card():
    backend, card = load_policy()
    assert SHIPPED_MODEL.stat().st_size < 4_000_000
    assert card.input_shape[-1] == N_FEATURES and card.output_shape[-1] == N_OUTPUTS
    assert backend.infer(np.zeros((3, N_FEATURES), np.float32)).shape == (3, N_OUTPUTS)
    for key in ('version', 'package'):
        assert key in card.simulator
    assert card.dataset['sha256'] and card.dataset['episodes'] > 0
    assert len(card.training_curve) >= 2 and card.evaluation['learned']['episodes'] >= 200
    assert not set(card.dataset['characters']) & set(characters.test_characters())


def test_shipped_policy_falls_back_for_a_brush_outside_its_training_data():
    controllers = build_controllers(ControllerConfig())
    episode = make_episodes(characters.test_characters()[:1], 1, seed=3)[0]
    stroke = episode.strokes[0]
    ok = controllers.compute_paths([stroke], [], BrushState(width_gain=1.0), 'learned')[0]
    assert not ok.fell_back and ok.controller == 'learned'
    odd = controllers.compute_paths([stroke], [], BrushState(width_gain=3.0), 'learned')[0]
    assert odd.fell_back and odd.controller == 'analytic' and 'width_gain' in odd.warnings[0]


def test_learned_strokes_have_lower_width_error_than_constant_on_fixed_seeds():
    controllers = build_controllers(ControllerConfig())
    episodes = make_episodes(characters.test_characters()[:4], 4, seed=11)
    constant = write_episodes(controllers, 'constant', episodes)
    learned = write_episodes(controllers, 'learned', episodes)
    constant_err = np.mean([s.width_error_m for s in constant])
    learned_err = np.mean([s.width_error_m for s in learned])
    assert learned_err < 0.8 * constant_err, (learned_err, constant_err)
    assert np.mean([s.iou for s in learned]) > np.mean([s.iou for s in constant]) + 0.03
