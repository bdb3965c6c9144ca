"""The dip routine and its reach: what a calligrapher expects of reloading."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from calligraphy_model.cell_description import InkWellGeometry, ink_well_in_paper
from ink_dipping.config import DipRoutineConfig
from ink_dipping.reach import InkWellUnreachableError, check_reachable
from ink_dipping.routine import PHASES, dip_routine

# The cell's well (urdf/cell.yaml), in the paper frame.
WELL = ink_well_in_paper()


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


def _rim_crossings(well: InkWellGeometry, segments) -> int:
    wipe = next(s for s in segments if s.phase == 'wipe')
    radius = np.hypot(wipe.x_m - well.x_m, wipe.y_m - well.y_m)
    below_top = -wipe.pressing_depth_m < well.rim_height_m
    return int(
        np.sum((radius[:-1] < well.radius_m) & (radius[1:] >= well.radius_m) & below_top[1:])
    )


def test_each_wipe_crosses_the_rim_below_its_top():
    well = WELL
    assert _rim_crossings(well, dip_routine(well, DipRoutineConfig(wipe_count=3))) == 3


@pytest.mark.parametrize('wipes', [1, 2])
def test_the_brush_leaves_over_the_rim_it_was_wiped_on_and_never_crosses_it_in_the_ink(wipes):
    """Out of the ink the brush goes straight to the first wipe inside the opening; after the
    last wipe it rises outside the rim, on the wiping side, instead of going back over the well
    (0.4 s less robot time per dip at the simulated cell's speeds)."""
    segments = {s.phase: s for s in dip_routine(WELL, DipRoutineConfig(wipe_count=wipes))}

    def radius(segment):
        return np.hypot(segment.x_m - WELL.x_m, segment.y_m - WELL.y_m)

    assert np.all(radius(segments['rise']) < WELL.radius_m)
    assert np.all(-segments['rise'].pressing_depth_m < WELL.rim_height_m)
    retreat = segments['retreat']
    assert np.all(radius(retreat) > WELL.radius_m)
    heading = DipRoutineConfig().wipe_direction_rad
    assert (retreat.x_m[0] - WELL.x_m) * np.cos(heading) > 0.0
    assert -retreat.pressing_depth_m[-1] == pytest.approx(DipRoutineConfig().safe_height_m)
    wipe = segments['wipe']
    assert (wipe.x_m[-1], wipe.y_m[-1]) == (retreat.x_m[0], retreat.y_m[0])
    assert _rim_crossings(WELL, list(segments.values())) == wipes


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
