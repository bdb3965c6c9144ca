"""Assembling the controllers a process serves: shipped model, card, nominal width model."""

from __future__ import annotations

from pathlib import Path

from brush_policy_node.backends import OnnxRuntimeBackend, PolicyBackend
from brush_policy_node.config import ControllerConfig
from brush_policy_node.controllers import (
    AnalyticController,
    ConstantController,
    ControllerSet,
    LearnedController,
)
from brush_policy_node.model_card import ModelCard, card_path_for
from brush_policy_node.width_model import nominal_width_model

MODELS_DIR = Path(__file__).resolve().parent / 'models'
SHIPPED_MODEL = MODELS_DIR / 'brush_policy.onnx'


def load_policy(model_path: str | Path = '') -> tuple[OnnxRuntimeBackend, ModelCard]:
    """The onnxruntime backend and the model card of `model_path` (empty = the shipped model)."""
    path = Path(model_path) if model_path else SHIPPED_MODEL
    if not path.is_file():
        raise FileNotFoundError(f'policy model {path} does not exist')
    card_path = card_path_for(path)
    if not card_path.is_file():
        raise FileNotFoundError(f'model card {card_path} missing beside {path.name}')
    return OnnxRuntimeBackend(path), ModelCard.load(card_path)


def build_controllers(
    config: ControllerConfig,
    default: str = 'learned',
    model_path: str | Path = '',
    backend: PolicyBackend | None = None,
    card: ModelCard | None = None,
) -> ControllerSet:
    """All three controllers; the learned one runs `backend` (default: onnxruntime)."""
    width_model = nominal_width_model(config.max_depth_m)
    if backend is None:
        backend, card = load_policy(model_path)
    return ControllerSet(
        {
            'constant': ConstantController(width_model, config),
            'analytic': AnalyticController(width_model, config),
            'learned': LearnedController(width_model, config, backend, card),
        },
        default,
    )
