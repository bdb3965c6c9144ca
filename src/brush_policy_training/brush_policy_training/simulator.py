"""The brush simulator as training and evaluation use it (calligraphy_sim): sampled brushes and
the brush state a camera could estimate from what a brush writes (the nominal width model the
controllers invert is brush_policy_node.width_model's).

The policy never sees a brush's hidden parameters, only `width_gain` and `ink_load` as a camera
would estimate them (with estimation noise).
"""

from __future__ import annotations

import numpy as np

from brush_policy_node.types import BrushState
from calligraphy_model.brush import PARAM_RANGES, BrushParams

# Nominal widths over which a camera would compare a brush with the nominal one (the range most
# strokes of a 6 cm character are planned in).
GAIN_REFERENCE_WIDTHS_M = np.linspace(0.002, 0.005, 7)


def true_width_gain(params: BrushParams) -> float:
    """Measured-over-nominal width at the depths that give the reference nominal widths."""
    nominal = BrushParams()
    depths = nominal.depth_for_width(GAIN_REFERENCE_WIDTHS_M)
    return float(np.mean(params.width_at_depth(depths) / nominal.width_at_depth(depths)))


def estimated_state(
    params: BrushParams,
    ink_load: float,
    rng: np.random.Generator | None = None,
    gain_noise: float = 0.03,
    load_noise: float = 0.03,
) -> BrushState:
    """The brush state a camera would report: true gain and load plus estimation noise."""
    gain = true_width_gain(params)
    load = float(ink_load)
    if rng is not None:
        gain *= float(np.exp(rng.normal(0.0, gain_noise)))
        load = float(np.clip(load + rng.normal(0.0, load_noise), 0.0, 1.0))
    return BrushState(ink_load=load, width_gain=gain, confidence=1.0)


def param_ranges(distribution: str) -> dict[str, list[float]]:
    offset = 0 if distribution == 'train' else 2
    return {name: [b[offset], b[offset + 1]] for name, b in PARAM_RANGES.items()}


def simulator_info() -> dict:
    """What a model card records of the simulator that produced its data."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        sim_version = version('calligraphy_sim')
    except PackageNotFoundError:
        sim_version = 'unknown'
    return {
        'package': 'calligraphy_sim',
        'version': sim_version,
        'brush_model': 'calligraphy_sim.brush_model.simulate (footprint, tip lag, ink load)',
        'nominal_params': {
            k: v for k, v in BrushParams().__dict__.items() if isinstance(v, int | float)
        },
    }
