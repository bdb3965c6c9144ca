"""`calligraphy bench policy`: policy inference per stroke, onnxruntime against torch eager."""

from __future__ import annotations

import time

import numpy as np

from brush_policy_node.config import ControllerConfig
from brush_policy_node.controllers import LearnedController
from brush_policy_node.features import stroke_features
from brush_policy_node.runtime import SHIPPED_MODEL, load_policy
from brush_policy_node.types import BrushState
from brush_policy_node.width_model import nominal_width_model
from brush_policy_training.characters import plan_strokes, test_characters


def _p99_ms(fn, inputs: list, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        for x in inputs:
            start = time.perf_counter()
            fn(x)
            times.append(time.perf_counter() - start)
    return float(np.percentile(times, 99) * 1e3)


def measure_inference_latency(quick: bool) -> dict:
    """p99 latency per stroke of the policy in onnxruntime and in torch eager, their largest
    output difference, and the learned controller's whole per-stroke time."""
    import torch

    from brush_policy_training.policy_model import TorchBackend, load_torch_policy

    torch.set_num_threads(1)
    onnx_backend, card = load_policy()
    module = load_torch_policy(SHIPPED_MODEL, card)
    torch_backend = TorchBackend(module)
    nominal = nominal_width_model(ControllerConfig().max_depth_m)
    inputs = []
    strokes = []
    for ch in test_characters()[: 4 if quick else 12]:
        for stroke in plan_strokes(ch)[1]:
            strokes.append(stroke)
            inputs.append(
                stroke_features(
                    stroke.centreline_m,
                    stroke.width_m,
                    nominal.depth_for_width(stroke.width_m),
                    0.8,
                    1.0,
                )
            )
    repeats = 5 if quick else 30
    for backend in (onnx_backend, torch_backend):
        _p99_ms(backend.infer, inputs[:5], 3)
    onnx_p99 = _p99_ms(onnx_backend.infer, inputs, repeats)
    torch_p99 = _p99_ms(torch_backend.infer, inputs, repeats)
    diff = max(
        float(np.max(np.abs(onnx_backend.infer(x) - torch_backend.infer(x)))) for x in inputs
    )
    controller = LearnedController(nominal, ControllerConfig(), onnx_backend, card)
    state = BrushState(ink_load=0.8)
    full_p99 = _p99_ms(lambda s: controller.compute(s, state), strokes, max(1, repeats // 3))
    return {
        'strokes': len(inputs),
        'points_per_stroke_mean': float(np.mean([len(x) for x in inputs])),
        'onnx_p99_ms_per_stroke': round(onnx_p99, 4),
        'torch_p99_ms_per_stroke': round(torch_p99, 4),
        'torch_over_onnx_p99_ratio': round(torch_p99 / onnx_p99, 2),
        'onnx_vs_torch_max_abs_diff': diff,
        'learned_controller_p99_ms_per_stroke': round(full_p99, 4),
    }
