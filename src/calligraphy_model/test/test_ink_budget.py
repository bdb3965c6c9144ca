"""The ink budget (owned by the writer): what a calligrapher expects of reloading."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calligraphy_model.ink_budget import INK_BLEED_M, InkBudget, InkBudgetConfig, stroke_area_m2


def _straight_stroke(length_m: float, width_m: float, step_m: float = 0.0005):
    count = int(round(length_m / step_m)) + 1
    centreline = np.column_stack([np.linspace(0.0, length_m, count), np.zeros(count)])
    return centreline, np.full(count, width_m)


def test_stroke_area_is_length_times_inked_width_plus_round_caps():
    centreline, width = _straight_stroke(0.05, 0.004)
    expected = 0.05 * 0.004 + math.pi * 0.002**2
    assert stroke_area_m2(centreline, width, bleed_m=0.0) == pytest.approx(expected, rel=1e-9)
    inked = 0.004 + INK_BLEED_M
    expected = 0.05 * inked + math.pi * (inked / 2) ** 2
    assert stroke_area_m2(centreline, width) == pytest.approx(expected, rel=1e-9)


def test_budget_dips_before_a_stroke_that_would_end_below_the_floor():
    budget = InkBudget(InkBudgetConfig(capacity_m2=1e-3, floor_load=0.2), load=0.5)
    small, big = 1e-4, 4e-4  # need 0.1 and 0.4 of a load
    assert not budget.dip_decision(small).dip
    decision = budget.dip_decision(big)
    assert decision.dip and 'floor' in decision.reason


def test_budget_never_lets_the_load_fall_below_floor_over_a_long_text():
    config = InkBudgetConfig(capacity_m2=1e-3, floor_load=0.2)
    budget = InkBudget(config)
    rng = np.random.default_rng(3)
    lowest = 1.0
    for area in rng.uniform(0.5e-4, 2.5e-4, size=200):
        if budget.dip_decision(area).dip:
            budget.reloaded(config.wipe_target_load)
        budget.consume(area)
        lowest = min(lowest, budget.load)
    assert lowest >= 0.2 - 1e-12
    assert 20 < budget.dips < 60


def test_every_n_policy_dips_on_the_nth_stroke():
    budget = InkBudget(InkBudgetConfig(policy='every_n', every_n_strokes=3, capacity_m2=1.0))
    dips_at = []
    for index in range(9):
        if budget.dip_decision(1e-6).dip:
            dips_at.append(index)
            budget.reloaded(0.9)
        budget.consume(1e-6)
    assert dips_at == [3, 6]


def test_fading_policy_dips_when_camera_sees_faded_stroke():
    budget = InkBudget(InkBudgetConfig(policy='fading', fading_darkness=0.5, capacity_m2=1.0))
    assert not budget.dip_decision(1e-6, last_darkness=0.8).dip
    assert budget.dip_decision(1e-6, last_darkness=0.3).dip


@pytest.mark.parametrize(
    'kwargs',
    [{'capacity_m2': 0.0}, {'floor_load': 0.95}, {'policy': 'sometimes'}, {'every_n_strokes': 0}],
)
def test_invalid_budget_config_is_rejected(kwargs):
    with pytest.raises(ValueError):
        InkBudgetConfig(**kwargs)
