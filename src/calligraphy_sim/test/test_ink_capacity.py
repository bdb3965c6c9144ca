"""The simulated brush's ink capacity against the writer's ink budget default."""

from __future__ import annotations

import pytest

from calligraphy_model.ink_budget import InkBudgetConfig
from calligraphy_sim.ink_capacity import measure_area_per_load


@pytest.mark.parametrize('width_m', [0.002, 0.005])
def test_default_capacity_books_at_least_the_ink_the_simulated_brush_spends(width_m):
    config = InkBudgetConfig()
    measured = measure_area_per_load(width_m, config.wipe_target_load, config.floor_load)
    # Booking less area per load than the brush inks = predicting more need than there is:
    # safe, and within 25 % so the cell does not dip far more often than it must.
    assert 1.0 <= measured.area_per_load_m2 / config.capacity_m2 < 1.25
