"""Where the policy network runs: onnxruntime (the node) or a fake (tests); the torch backend of
training and the benchmark is brush_policy_training.policy_model.TorchBackend.

Every backend maps features (N, N_FEATURES) float32 to raw outputs (N, N_OUTPUTS) float32; the
controller turns raw outputs into metres and m/s (see `controllers.LearnedController`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from brush_policy_node.features import N_FEATURES

OUTPUT_NAMES = ('depth_correction', 'along_offset', 'lateral_offset', 'log_speed_factor')
N_OUTPUTS = len(OUTPUT_NAMES)
INPUT_NAME = 'features'
OUTPUT_NAME = 'corrections'


class PolicyBackend(ABC):
    """Runs the policy network on one stroke's features."""

    name = 'abstract'

    @abstractmethod
    def infer(self, features: np.ndarray) -> np.ndarray:
        """Raw outputs (N, N_OUTPUTS) float32 for features (N, N_FEATURES) float32."""


def check_features(features: np.ndarray) -> np.ndarray:
    features = np.ascontiguousarray(features, dtype=np.float32)
    if features.ndim != 2 or features.shape[1] != N_FEATURES:
        raise ValueError(f'features must be (N, {N_FEATURES}), got {features.shape}')
    return features


class OnnxRuntimeBackend(PolicyBackend):
    """An onnxruntime session, created once per model file."""

    name = 'onnxruntime'

    def __init__(self, model_path: str | Path, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # One stroke is a few hundred rows through a small MLP: thread hand-offs cost more than
        # they save, and the node must not compete with the arm for cores.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=['CPUExecutionProvider']
        )
        inputs = self.session.get_inputs()
        outputs = self.session.get_outputs()
        if len(inputs) != 1 or inputs[0].shape[-1] != N_FEATURES:
            raise ValueError(
                f'{model_path}: expected one input (N, {N_FEATURES}), got '
                f'{[(i.name, i.shape) for i in inputs]}'
            )
        if outputs[0].shape[-1] != N_OUTPUTS:
            raise ValueError(
                f'{model_path}: expected output (N, {N_OUTPUTS}), got {outputs[0].shape}'
            )
        self.input_name = inputs[0].name
        self.output_name = outputs[0].name

    def infer(self, features: np.ndarray) -> np.ndarray:
        feeds = {self.input_name: check_features(features)}
        return self.session.run([self.output_name], feeds)[0]


class FakeBackend(PolicyBackend):
    """Returns the same raw output row for every point (tests of the controller plumbing)."""

    name = 'fake'

    def __init__(self, row: tuple[float, ...] = (0.0,) * N_OUTPUTS) -> None:
        if len(row) != N_OUTPUTS:
            raise ValueError(f'row must have {N_OUTPUTS} values')
        self.row = np.asarray(row, dtype=np.float32)
        self.calls = 0

    def infer(self, features: np.ndarray) -> np.ndarray:
        features = check_features(features)
        self.calls += 1
        return np.tile(self.row, (features.shape[0], 1))
