"""The policy network (torch) and its ONNX export.

A per-point MLP over the window features of `features.py`: the window already carries the
neighbourhood (a 1-D convolution's receptive field), so a plain MLP exports to a handful of ONNX
nodes, runs in microseconds and needs no sequence padding. Input normalisation lives inside the
module, so the ONNX file is self-contained.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from brush_policy_node.backends import (
    INPUT_NAME,
    N_OUTPUTS,
    OUTPUT_NAME,
    PolicyBackend,
    check_features,
)
from brush_policy_node.features import N_FEATURES
from brush_policy_node.model_card import ModelCard

ONNX_OPSET = 18


class PolicyNet(nn.Module):
    """features (N, N_FEATURES) → raw corrections (N, N_OUTPUTS)."""

    def __init__(self, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.register_buffer('feature_mean', torch.zeros(N_FEATURES))
        self.register_buffer('feature_scale', torch.ones(N_FEATURES))
        blocks: list[nn.Module] = []
        width = N_FEATURES
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.GELU(approximate='tanh')]
            width = hidden
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, N_OUTPUTS)
        # Start at "no correction" so an untrained policy behaves like `analytic`.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def set_normalisation(self, features: np.ndarray) -> None:
        mean = features.mean(axis=0)
        scale = features.std(axis=0)
        # Constant features (e.g. a fixed brush state in a tiny run) must not divide by zero.
        scale = np.where(scale < 1e-6, 1.0, scale)
        self.feature_mean.copy_(torch.from_numpy(mean.astype(np.float32)))
        self.feature_scale.copy_(torch.from_numpy(scale.astype(np.float32)))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.body((features - self.feature_mean) / self.feature_scale))


def export_onnx(module: PolicyNet, path: str | Path) -> Path:
    """Write the module as ONNX with a dynamic number of points; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module = module.eval()
    example = torch.zeros(16, N_FEATURES)
    torch.onnx.export(
        module,
        (example,),
        str(path),
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        opset_version=ONNX_OPSET,
        dynamic_axes={INPUT_NAME: {0: 'points'}, OUTPUT_NAME: {0: 'points'}},
        dynamo=False,
    )
    return path


def count_parameters(module: nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


class TorchBackend(PolicyBackend):
    """The torch module itself, eager, inference mode."""

    name = 'torch'

    def __init__(self, module: nn.Module) -> None:
        self.module = module.eval()

    def infer(self, features: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.module(torch.from_numpy(check_features(features))).numpy()


def load_torch_policy(model_path: str | Path, card: ModelCard) -> object:
    """The torch module saved beside an ONNX model (`<stem>.pt`), for eager comparisons."""
    config = card.training['config']
    module = PolicyNet(config['hidden'], config['layers'])
    weights = Path(model_path).with_suffix('.pt')
    module.load_state_dict(torch.load(weights, weights_only=True))
    return module.eval()
