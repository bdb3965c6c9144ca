"""The model card written beside every exported policy, and the training distribution it declares.

The node reads the card to know what inputs the policy has seen: a request outside those ranges
is answered with `analytic` for that stroke and a warning, instead of an extrapolating network.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from brush_policy_node.features import stroke_frames
from brush_policy_node.types import BrushState, StrokeSpec

CARD_SUFFIX = '.card.json'
# Inputs up to this fraction of a range beyond the training range still count as seen.
RANGE_MARGIN = 0.05


def card_path_for(model_path: str | Path) -> Path:
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + CARD_SUFFIX)


@dataclass
class ModelCard:
    """What produced a policy and what it may be trusted on.

    `input_ranges` maps 'width_gain', 'ink_load', 'width_m', 'resample_step_m',
    'abs_curvature_per_m', 'length_m' to [low, high] over the training data.
    """

    model_file: str
    input_shape: list
    output_shape: list
    feature_names: list
    output_names: list
    simulator: dict
    brush_param_ranges: dict
    input_ranges: dict
    dataset: dict
    seed: int
    training: dict
    training_curve: list = field(default_factory=list)
    evaluation: dict = field(default_factory=dict)
    created_utc: str = ''
    # For a model fine-tuned by `calligraphy learn`: the brush identified from the sessions'
    # camera measurements, with the fit's residuals and uncertainties (empty otherwise).
    identified_brush: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + '\n'

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json(), encoding='utf-8')
        return path

    @classmethod
    def load(cls, path: str | Path) -> ModelCard:
        data = json.loads(Path(path).read_text(encoding='utf-8'))
        return cls(**data)

    def out_of_distribution(self, stroke: StrokeSpec, state: BrushState) -> list[str]:
        """Reasons why this stroke and brush state lie outside the training data ([] = inside)."""
        seg = np.linalg.norm(np.diff(stroke.centreline_m, axis=0), axis=1)
        _, _, curvature = stroke_frames(stroke.centreline_m)
        observed = {
            'width_gain': (state.width_gain, state.width_gain),
            'ink_load': (state.ink_load, state.ink_load),
            'width_m': (float(stroke.width_m.min()), float(stroke.width_m.max())),
            'resample_step_m': (float(np.median(seg)), float(np.median(seg))),
            'abs_curvature_per_m': (0.0, float(np.percentile(np.abs(curvature), 95))),
            'length_m': (float(seg.sum()), float(seg.sum())),
        }
        reasons = []
        for name, (low, high) in observed.items():
            if name not in self.input_ranges:
                continue
            seen_low, seen_high = self.input_ranges[name]
            margin = RANGE_MARGIN * (seen_high - seen_low)
            if low < seen_low - margin or high > seen_high + margin:
                reasons.append(
                    f'{name} {low:.4g}..{high:.4g} outside the training range '
                    f'{seen_low:.4g}..{seen_high:.4g}'
                )
        return reasons

    def speed_difference(self, speeds: object) -> str | None:
        """How the writing speeds `speeds` (a ControllerConfig) differ from those the policy was
        trained with, in one line, or None: the policy's speed output is a factor on the nominal
        speed, and its corrections were learned at the training speeds."""
        trained = self.training.get('config', {}).get('controllers', {})
        names = ('speed_nominal_mps', 'speed_min_mps', 'speed_max_mps')
        differ = [
            f'{name} {getattr(speeds, name):g} (trained {trained[name]:g})'
            for name in names
            if name in trained and abs(getattr(speeds, name) - trained[name]) > 1e-9
        ]
        return ', '.join(differ) or None
