"""Ink budget and dip routine: what a calligrapher expects of reloading."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import numpy as np
import pytest

from calligraphy_sim.ink_well import ink_well_in_paper
from ink_dipping.budget import INK_BLEED_M, InkBudget, stroke_area_m2
from ink_dipping.capacity import measure_area_per_load
from ink_dipping.config import DipRoutineConfig, InkBudgetConfig, InkWellConfig
from ink_dipping.reach import InkWellUnreachableError, check_reachable
from ink_dipping.routine import PHASES, dip_routine

# The cell's well (urdf/cell.yaml), in the paper frame.
WELL = ink_well_in_paper()


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


def test_full_routine_has_every_phase_in_order_and_soaks_below_the_ink_surface():
    well, config = WELL, DipRoutineConfig(wipe_count=2)
    segments = dip_routine(well, config, 'full')
    assert [s.phase for s in segments] == list(PHASES)
    descend = segments[1]
    tip_height = -descend.pressing_depth_m
    assert tip_height[-1] == pytest.approx(well.ink_surface_height_m - config.dip_depth_m)
    assert tip_height[0] == pytest.approx(config.safe_height_m)
    dwell = segments[2]
    assert dwell.time_from_start_s[-1] == pytest.approx(config.dwell_s)
    for segment in segments:
        assert np.all(np.diff(segment.time_from_start_s) > 0)
        assert np.all(segment.pressing_depth_m < 0), 'the brush never touches the paper'


def _rim_crossings(well: InkWellConfig, segments) -> int:
    wipe = next(s for s in segments if s.phase == 'wipe')
    radius = np.hypot(wipe.x_m - well.x_m, wipe.y_m - well.y_m)
    below_top = -wipe.pressing_depth_m < well.rim_height_m
    return int(
        np.sum((radius[:-1] < well.radius_m) & (radius[1:] >= well.radius_m) & below_top[1:])
    )


def test_each_wipe_crosses_the_rim_below_its_top():
    well = WELL
    assert _rim_crossings(well, dip_routine(well, DipRoutineConfig(wipe_count=3))) == 3


def test_quick_mode_is_shorter_and_wipes_once():
    well, config = WELL, DipRoutineConfig()

    def duration(segments):
        return sum(s.time_from_start_s[-1] for s in segments)

    full, quick = dip_routine(well, config, 'full'), dip_routine(well, config, 'quick')
    assert duration(quick) < 0.8 * duration(full)
    assert _rim_crossings(well, quick) == 1


def test_peak_tip_speed_respects_the_configured_speed():
    config = DipRoutineConfig(travel_speed_m_s=0.05, wipe_speed_m_s=0.03)
    for segment in dip_routine(WELL, config):
        xyz = np.column_stack([segment.x_m, segment.y_m, segment.pressing_depth_m])
        speed = np.linalg.norm(np.diff(xyz, axis=0), axis=1) / np.diff(segment.time_from_start_s)
        assert speed.max() <= config.travel_speed_m_s * 1.02
        if segment.phase == 'wipe':
            # The drag out over the rim (level, just below its top) at the wipe speed, the moves
            # around it faster.
            level = np.abs(-xyz[:, 2] - (WELL.rim_height_m - 0.003)) < 1e-6
            radius = np.hypot(xyz[:, 0] - WELL.x_m, xyz[:, 1] - WELL.y_m)
            squeezing = level[1:] & level[:-1] & (np.diff(radius) > 0)
            assert squeezing.sum() > 10
            assert speed[squeezing].max() <= config.wipe_speed_m_s * 1.02
            assert speed.max() > 1.5 * config.wipe_speed_m_s


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match='mode'):
        dip_routine(WELL, DipRoutineConfig(), 'splash')


def test_core_modules_do_not_import_rclpy():
    code = (
        'import sys, ink_dipping.budget, ink_dipping.config, ink_dipping.routine, '
        'ink_dipping.reach, ink_dipping.capacity; '
        "assert 'rclpy' not in sys.modules"
    )
    subprocess.run([sys.executable, '-c', code], check=True)


def test_routine_refuses_a_travel_height_that_does_not_clear_the_rim():
    with pytest.raises(ValueError, match='clear the rim'):
        dip_routine(WELL, DipRoutineConfig(safe_height_m=WELL.rim_height_m + 0.002))


HOME = np.array([-0.3354, -1.7367, 2.1880, -2.0221, -1.5708, -0.3354])


def test_the_cells_well_is_reachable_and_a_well_out_of_reach_is_named():
    duration = check_reachable(WELL, DipRoutineConfig(), HOME)
    assert 3.0 < duration < 30.0, f'a full dip takes {duration:.1f} s of arm motion'
    far = dataclasses.replace(WELL, x_m=1.5)
    with pytest.raises(InkWellUnreachableError, match=r'\(1\.5000, 0\.0800\).*approach'):
        check_reachable(far, DipRoutineConfig(), HOME)


@pytest.mark.parametrize('width_m', [0.002, 0.005])
def test_default_capacity_books_at_least_the_ink_the_simulated_brush_spends(width_m):
    config = InkBudgetConfig()
    measured = measure_area_per_load(width_m, config.wipe_target_load, config.floor_load)
    # Booking less area per load than the brush inks = predicting more need than there is:
    # safe, and within 25 % so the cell does not dip far more often than it must.
    assert 1.0 <= measured.area_per_load_m2 / config.capacity_m2 < 1.25
