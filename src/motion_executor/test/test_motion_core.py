"""motion_executor core: kinematics, validation codes, plans, and a square written in MuJoCo."""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_bringup.graph import config_path, load_parameters
from calligraphy_bringup.motion_bench import execute_in_simulation
from calligraphy_model.kinematics import ArmKinematics
from motion_executor.brush_motion import (
    PHASE_APPROACH,
    PHASE_RETREAT,
    PHASE_WRITING,
    BrushMotionConfig,
    BrushPathSpec,
    validate_path,
)
from motion_executor.brush_motion_planner import BrushMotionPlanner
from motion_executor.config import ExecutorConfig
from motion_executor.errors import MotionError, MotionErrorCode
from motion_executor.sample_paths import circle_path, square_path

HOME = np.array([-0.3354, -1.7367, 2.1880, -2.0221, -1.5708, -0.3354])


@pytest.fixture(scope='module')
def kinematics() -> ArmKinematics:
    return ArmKinematics()


@pytest.fixture(scope='module')
def planner(kinematics) -> BrushMotionPlanner:
    return BrushMotionPlanner(kinematics)


def _line(n=50, depth=0.002, x0=0.10, y0=0.10, length=0.03, speed=0.05) -> BrushPathSpec:
    x = x0 + np.linspace(0.0, length, n)
    return BrushPathSpec(x, np.full(n, y0), np.full(n, depth), np.linspace(0.0, length / speed, n))


def test_ik_round_trips_300_random_brush_poses_over_the_sheet(planner, kinematics):
    rng = np.random.default_rng(11)
    for _ in range(300):
        point = rng.uniform([0.0, 0.0, -0.008], [0.297, 0.210, 0.08])
        tilt = rng.uniform(-0.35, 0.35, 2)
        target = planner.tip_target(point, *tilt)
        solution = kinematics.inverse(target, HOME)
        assert solution.success, point
        reached = kinematics.forward(solution.positions)
        assert np.linalg.norm(reached[:3, 3] - target[:3, 3]) < 1e-6
        assert np.allclose(reached[:3, :3], target[:3, :3], atol=1e-5)
        assert np.all(solution.positions >= kinematics.lower_limits)
        assert np.all(solution.positions <= kinematics.upper_limits)


def test_ik_from_a_nearby_seed_returns_the_same_branch(kinematics):
    rng = np.random.default_rng(12)
    for _ in range(200):
        q = HOME + rng.uniform(-0.6, 0.6, 6)
        solution = kinematics.inverse(kinematics.forward(q), q + rng.uniform(-0.05, 0.05, 6))
        assert solution.success
        np.testing.assert_allclose(solution.positions, q, atol=1e-5)


def test_ik_keeps_joints_inside_tightened_limits(kinematics):
    limited = ArmKinematics()
    limited.upper_limits = HOME + 0.05
    limited.lower_limits = HOME - 0.05
    far = kinematics.forward(HOME + 0.3)
    solution = limited.inverse(far, HOME)
    assert not solution.success
    assert np.all(np.abs(solution.positions - HOME) <= 0.05 + 1e-12)


@pytest.mark.parametrize(
    ('path', 'code'),
    [
        (
            BrushPathSpec(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)),
            MotionErrorCode.EMPTY_PATH,
        ),
        (
            BrushPathSpec(np.full(3, 0.1), np.full(2, 0.1), np.zeros(3), np.arange(3.0)),
            MotionErrorCode.INVALID_PATH,
        ),
        (
            BrushPathSpec(
                np.full(3, 0.1), np.full(3, 0.1), np.zeros(3), np.array([0.0, 1.0, 1.0])
            ),
            MotionErrorCode.INVALID_PATH,
        ),
        (
            BrushPathSpec(np.array([0.1, np.nan]), np.full(2, 0.1), np.zeros(2), np.arange(2.0)),
            MotionErrorCode.INVALID_PATH,
        ),
        (_line(x0=0.28), MotionErrorCode.OUTSIDE_PAPER),
        (
            BrushPathSpec(np.full(2, 0.1), np.array([0.1, -0.001]), np.zeros(2), np.arange(2.0)),
            MotionErrorCode.OUTSIDE_PAPER,
        ),
        (_line(depth=0.009), MotionErrorCode.TOO_DEEP),
        (_line(depth=-0.9), MotionErrorCode.UNREACHABLE),
        (_line(x0=0.02, speed=5.0, length=0.2), MotionErrorCode.INVALID_PATH),
    ],
    ids=[
        'empty',
        'lengths',
        'time',
        'nan',
        'right-edge',
        'below-edge',
        'too-deep',
        'unreachable-height',
        'too-fast',
    ],
)
def test_bad_paths_are_rejected_with_their_code(planner, path, code):
    with pytest.raises(MotionError) as caught:
        planner.plan(path, HOME)
    assert caught.value.code == code
    assert caught.value.message


def test_sheet_moved_out_of_reach_makes_paths_unreachable(kinematics):
    far_paper = kinematics.paper_in_base.copy()
    far_paper[0, 3] += 0.8
    with pytest.raises(MotionError) as caught:
        BrushMotionPlanner(kinematics, paper_in_base=far_paper).plan(_line(), HOME)
    assert caught.value.code == MotionErrorCode.UNREACHABLE


def test_plan_approaches_writes_on_the_paths_timing_and_retreats_to_the_safe_height(planner):
    path = _line(n=61, length=0.03, speed=0.05)
    plan = planner.plan(path, HOME, time_scale=2.0)
    names = [p[0] for p in plan.phases]
    assert names == [PHASE_APPROACH, PHASE_WRITING, PHASE_RETREAT]
    np.testing.assert_allclose(plan.positions[0], HOME)
    start, end = plan.writing_window()
    assert end - start == pytest.approx(2.0 * 0.6)  # 30 mm at 50 mm/s, time_scale 2
    np.testing.assert_allclose(plan.path_time_s - start, 2.0 * path.time_from_start_s)
    for t, x in zip(plan.path_time_s, path.x_m, strict=True):
        np.testing.assert_allclose(plan.tip_reference(t), [x, 0.10, -0.002], atol=1e-6)
    assert plan.tip_in_paper[-1, 2] == pytest.approx(0.03, abs=1e-6)
    above_start = plan.tip_reference(start - 1e-9)
    assert np.all(np.diff(plan.time_s) > 0.0)
    assert above_start[2] == pytest.approx(-0.002, abs=1e-5)
    travel = plan.time_s < start
    assert np.max(np.abs(plan.velocities[travel])) <= 1.0 + 1e-6  # configured travel speed


def test_skip_approach_and_retreat_start_and_end_on_the_path(planner, kinematics):
    path = _line()
    first = planner.plan(path, HOME)
    on_start = first.positions[np.searchsorted(first.time_s, first.writing_window()[0])]
    plan = planner.plan(_line(x0=0.13), on_start, skip_approach=True, skip_retreat=True)
    assert plan.tip_in_paper[-1] == pytest.approx([0.16, 0.10, -0.002], abs=1e-6)
    assert plan.tip_in_paper[:, 2].max() < 0.0  # never lifted


def test_a_low_hop_between_strokes_is_faster_and_stays_above_the_sheet(planner):
    first = planner.plan(_line(), HOME, retreat_height_m=0.01)
    assert first.tip_in_paper[-1, 2] == pytest.approx(0.01, abs=1e-6)
    # The next stroke 20 mm further up: travel at 10 mm instead of the 30 mm safe height.
    after = first.positions[-1]
    low = planner.plan(_line(y0=0.12), after, approach_height_m=0.01, retreat_height_m=0.01)
    high = planner.plan(_line(y0=0.12), after)
    assert low.duration_s < high.duration_s - 0.3
    # Until it is above the first point, the tip stays near the hop height (a joint-space move
    # bows a little): over 5 mm, under 11 mm.
    before = low.tip_in_paper[low.time_s < low.writing_window()[0]]
    away = np.hypot(before[:, 0] - 0.10, before[:, 1] - 0.12) > 5e-4
    assert away.sum() > 10
    assert before[away, 2].min() > 0.005 and before[away, 2].max() < 0.011
    # From the safe height (after a dip) the approach keeps the height it starts at until it is
    # nearly over the start, where the descent overlaps the travel's end; below the 5 mm
    # clearance only over the start.
    from_safe = planner.plan(_line(y0=0.12), first.positions[0], approach_height_m=0.01)
    before = from_safe.tip_in_paper[from_safe.time_s < from_safe.writing_window()[0]]
    from_start = np.hypot(before[:, 0] - 0.10, before[:, 1] - 0.12)
    assert before[from_start > 0.01, 2].min() > 0.029
    assert from_start[before[:, 2] < 0.005 - 1e-6].max() < 1e-4


def _sim_limits() -> BrushMotionConfig:
    """The planner configuration with the simulated cell's limits (config/sim.yaml)."""
    params = load_parameters(config_path('sim'))['motion_executor_node']
    limits = {k.split('.', 1)[1]: v for k, v in params.items() if k.startswith('limits.')}
    return BrushMotionConfig(**limits)


class _HopsCollide:
    """A cell in which every one-move approach hits something (the whole plan does not)."""

    def check_plan(self, plan, what):
        if what == 'the approach':
            raise MotionError(MotionErrorCode.COLLISION, 'the hop hits the rim')


@pytest.fixture(scope='module')
def cell_planner(kinematics) -> BrushMotionPlanner:
    """The planner with the simulated cell's limits (config/sim.yaml)."""
    return BrushMotionPlanner(kinematics, _sim_limits())


@pytest.fixture(scope='module')
def blocked_planner(kinematics) -> BrushMotionPlanner:
    """The same in a cell where every one-move approach collides."""
    return BrushMotionPlanner(kinematics, _sim_limits(), collision=_HopsCollide())


def test_a_low_hop_descends_while_it_arrives_and_only_over_the_start(cell_planner):
    planner = cell_planner
    first = planner.plan(_line(), HOME, retreat_height_m=0.01)
    low = planner.plan(_line(y0=0.12), first.positions[-1], approach_height_m=0.01)
    start = low.writing_window()[0]
    before = low.tip_in_paper[low.time_s <= start]
    from_start = np.hypot(before[:, 0] - 0.10, before[:, 1] - 0.12)
    # Below the 5 mm clearance only once over the stroke's start (within 0.1 mm of it).
    assert from_start[before[:, 2] < 0.005 - 1e-6].max() < 1e-4
    assert before[-1] == pytest.approx([0.10, 0.12, -0.002], abs=1e-6)
    # Travel and descent overlap: the tip is already on its way down from the hop height while
    # it still travels (more than 0.2 mm from the start), where a stop above the start would
    # keep it at 10 mm.
    assert before[from_start > 2e-4, 2].min() < 0.0099


def test_from_the_safe_height_the_descent_begins_as_the_travel_comes_to_rest(cell_planner):
    planner = cell_planner
    # The next character's first stroke, from the camera's clear view 45 mm up (the sim cell).
    first = planner.plan(_line(), HOME, retreat_height_m=0.01)
    clear = BrushPathSpec(*(np.array([v]) for v in (0.115, 0.04, -0.045, 0.0)))
    at_clear = planner.plan(clear, first.positions[-1], approach_height_m=0.01, skip_retreat=True)
    q = at_clear.positions[-1]
    plan = planner.plan(_line(y0=0.12), q, approach_height_m=0.01)
    start = plan.writing_window()[0]
    before = plan.tip_in_paper[plan.time_s <= start]
    from_start = np.hypot(before[:, 0] - 0.10, before[:, 1] - 0.12)
    # The tip starts down while still travelling (the descent begins in the travel's second
    # half: 40 % of the way it is still at the travel height), and goes below the 5 mm
    # clearance only over the start.
    assert before[from_start > 0.01, 2].min() < 0.03
    assert before[from_start > 0.6 * from_start[0], 2].min() > 0.045 - 1e-4
    assert from_start[before[:, 2] < 0.005 - 1e-6].max() < 1e-4
    # Faster than travelling to above the start, stopping, and descending.
    above = planner._solve(planner.tip_target(np.array([0.10, 0.12, 0.045])), q, 'above')
    descent = planner._vertical('approach', np.array([0.10, 0.12]), 0.045, -0.002, (0, 0), above)
    sequential = planner._travel(q, above).time_s[-1] + descent.time_s[-1]
    assert start < sequential - 0.1


def test_a_hop_or_overlap_the_cell_would_collide_with_falls_back_to_stop_then_descend(
    cell_planner, blocked_planner
):
    free, blocked = cell_planner, blocked_planner
    first = free.plan(_line(), HOME, retreat_height_m=0.01)
    hop = free.plan(_line(y0=0.12), first.positions[-1], approach_height_m=0.01)
    stop = blocked.plan(_line(y0=0.12), first.positions[-1], approach_height_m=0.01)
    # The planner still plans (no COLLISION for the goal), the slower way: the tip stops 10 mm
    # above the start and descends vertically.
    assert stop.writing_window()[0] > hop.writing_window()[0] + 0.05
    before = stop.tip_in_paper[stop.time_s <= stop.writing_window()[0]]
    descending = before[:, 2] < 0.0099
    assert np.hypot(before[descending, 0] - 0.10, before[descending, 1] - 0.12).max() < 1e-4


def test_a_low_hop_goes_the_faster_way_at_the_executors_default_limits(planner):
    # Tip moves at 0.05 m/s, travel at 1 rad/s: the joint-space travel and descent are faster
    # than the straight hop, and the planner takes them.
    first = planner.plan(_line(), HOME, retreat_height_m=0.01)
    low = planner.plan(_line(y0=0.12), first.positions[-1], approach_height_m=0.01)
    hop = planner._low_hop(first.positions[-1], np.array([0.10, 0.12]), -0.002, (0.0, 0.0))
    assert hop is not None and low.writing_window()[0] < hop.time_s[-1] - 0.1


def test_a_hop_to_a_point_above_the_hop_height_rises_on_the_way(cell_planner):
    planner = cell_planner
    # The writer's move to the camera's clear view: from 10 mm over the last stroke's end to a
    # point 45 mm up, 80 mm away; the tip never sinks on the way.
    first = planner.plan(_line(), HOME, retreat_height_m=0.01)
    hover = BrushPathSpec(*(np.array([v]) for v in (0.115, 0.02, -0.045, 0.0)))
    plan = planner.plan(hover, first.positions[-1], approach_height_m=0.01, skip_retreat=True)
    assert plan.tip_in_paper[:, 2].min() > 0.01 - 1e-4
    assert plan.tip_in_paper[-1] == pytest.approx([0.115, 0.02, 0.045], abs=1e-6)


def test_travel_heights_below_the_minimum_are_refused(planner):
    with pytest.raises(MotionError) as caught:
        planner.plan(_line(), HOME, approach_height_m=0.002)
    assert caught.value.code == MotionErrorCode.INVALID_PATH
    assert 'approach_height_m' in caught.value.message
    with pytest.raises(MotionError, match='retreat_height_m'):
        planner.plan(_line(), HOME, retreat_height_m=float('nan'))


def test_lift_rises_vertically_to_the_safe_height(planner):
    plan = planner.plan(_line(), HOME, skip_retreat=True)
    lift = planner.plan_lift(plan.positions[-1])
    np.testing.assert_allclose(lift.tip_in_paper[:, :2] - lift.tip_in_paper[0, :2], 0.0, atol=1e-6)
    assert lift.tip_in_paper[-1, 2] == pytest.approx(0.03, abs=1e-6)
    assert planner.plan_lift(lift.positions[-1]).duration_s < 0.05  # already safe: hold


def test_executor_config_validates_itself():
    with pytest.raises(ValueError, match='backend'):
        ExecutorConfig(backend='teleport')
    with pytest.raises(ValueError, match='safe_height_m'):
        ExecutorConfig(safe_height_m=0.0)
    with pytest.raises(ValueError, match='paper_pose'):
        ExecutorConfig(paper_xyz_m=(0.3, 0.1, 0.0))
    with pytest.raises(ValueError, match='> 0'):
        BrushMotionConfig(vertical_speed_m_s=-1.0)


def test_moveit_backend_without_moveit_py_fails_with_a_clear_error(kinematics):
    from motion_executor.backends import create_backend
    from motion_executor.errors import BackendUnavailableError

    pytest.importorskip('rclpy')  # the moveit backend needs message packages to even try
    try:
        import moveit  # noqa: F401

        pytest.skip('moveit_py is installed here')
    except ImportError:
        pass
    with pytest.raises(BackendUnavailableError, match="use backend 'native'|Use backend 'native'"):
        create_backend('moveit', kinematics, BrushMotionConfig())


@pytest.mark.parametrize('shape', ['square', 'circle'])
def test_shape_written_in_mujoco_stays_within_half_a_millimetre(planner, shape):
    from calligraphy_sim.arm import ArmSimulation

    path = square_path(0.1) if shape == 'square' else circle_path(0.04)
    simulation = ArmSimulation()
    result = execute_in_simulation(planner.plan(path, simulation.joint_positions), simulation)
    assert result['tip_rms_error_m'] < 0.0003
    assert result['tip_max_error_m'] < 0.0006
    assert result['final_tip_in_paper'][2] == pytest.approx(0.03, abs=2e-4)


def test_a_path_in_the_air_may_leave_the_sheet_but_contact_may_not():
    config = BrushMotionConfig()
    in_air = _line(x0=0.35, depth=-0.01)  # travelling to the ink well beside the sheet
    validate_path(in_air, config)
    with pytest.raises(MotionError) as error:
        validate_path(_line(x0=0.35, depth=0.0), config)
    assert error.value.code == MotionErrorCode.OUTSIDE_PAPER


def test_a_single_point_path_is_planned_with_its_approach_and_retreat(planner):
    # A dab: one point, as the ink well's holds are. Joining its phases once failed with an
    # IndexError (the writing phase adds no sample of its own after the descent to the point).
    dab = BrushPathSpec(np.array([0.10]), np.array([0.10]), np.array([0.002]), np.array([0.0]))
    plan = planner.plan(dab, HOME, retreat_height_m=0.01)
    assert [name for name, _, _ in plan.phases] == ['approach', 'writing', 'retreat']
    assert plan.tip_reference(plan.writing_window()[0]) == pytest.approx(
        [0.10, 0.10, -0.002], abs=1e-5
    )
    assert plan.tip_in_paper[-1] == pytest.approx([0.10, 0.10, 0.01], abs=1e-5)
    assert np.all(np.diff(plan.time_s) > 0.0)


def test_chained_strokes_hop_without_a_stop_in_the_air_and_sooner_than_two_goals(cell_planner):
    """A goal's then_paths: the brush leaves each stroke's end upward, travels on to the next
    stroke's start only above the 5 mm clearance and does not stop in the air; the plan is the
    two strokes' own timing plus a hop shorter than the retreat and approach of two goals."""
    planner = cell_planner
    first, second = _line(), _line(x0=0.11, y0=0.125)
    chained = planner.plan(
        first, HOME, approach_height_m=0.01, retreat_height_m=0.01, then_paths=(second,)
    )
    alone = planner.plan(first, HOME, approach_height_m=0.01, retreat_height_m=0.01)
    next_goal = planner.plan(
        second, alone.positions[-1], approach_height_m=0.01, retreat_height_m=0.01
    )
    assert chained.duration_s < alone.duration_s + next_goal.duration_s - 0.04
    windows = chained.writing_windows()
    assert len(windows) == 2
    assert windows[0][1] - windows[0][0] == pytest.approx(0.6, abs=1e-6)
    assert windows[1][1] - windows[1][0] == pytest.approx(0.6, abs=1e-6)
    between = (chained.time_s > windows[0][1]) & (chained.time_s < windows[1][0])
    tip = chained.tip_in_paper[between]
    from_end = np.hypot(tip[:, 0] - 0.13, tip[:, 1] - 0.10)
    from_start = np.hypot(tip[:, 0] - 0.11, tip[:, 1] - 0.125)
    travelling = (from_end > 1e-4) & (from_start > 1e-4)
    assert travelling.sum() > 10
    assert tip[travelling, 2].min() > 0.005 - 1e-6
    assert tip[:, 2].max() == pytest.approx(0.01, abs=2e-4)
    # No stop in the air: once off the sheet the tip moves at every sample until it is back on it.
    speed = np.linalg.norm(np.diff(tip, axis=0), axis=1) / np.diff(chained.time_s[between])
    in_air = tip[1:, 2] > 0.0
    assert speed[in_air].min() > 1e-3
    # Every point of both paths has its time, in order; the retreat ends at the hop height.
    assert len(chained.path_time_s) == 100
    assert chained.point_index_at(windows[1][0] - 1e-3) == 49
    assert chained.tip_in_paper[-1] == pytest.approx([0.14, 0.125, 0.01], abs=1e-5)
    # The hops go at the goal's travel (approach) height also where it retreats to the safe one.
    to_safe = planner.plan(first, HOME, approach_height_m=0.01, then_paths=(second,))
    start, end = to_safe.writing_windows()[0][1], to_safe.writing_windows()[1][0]
    between = (to_safe.time_s > start) & (to_safe.time_s < end)
    assert to_safe.tip_in_paper[between, 2].max() == pytest.approx(0.01, abs=2e-4)
    assert to_safe.tip_in_paper[-1, 2] == pytest.approx(0.03, abs=1e-5)


def test_lift_hop_profile_travels_only_above_the_clearance():
    from motion_executor.timing import lift_hop_profile

    times, fraction, height = lift_hop_profile(0.02, -0.003, 0.01, -0.002, (0.3, 5.0, 200.0),
                                               0.005, 0.002)  # fmt: skip
    moving = (fraction > 1e-6) & (fraction < 1.0 - 1e-6)
    assert height[moving].min() >= 0.005 - 1e-9
    assert (fraction[0], height[0]) == pytest.approx((0.0, -0.003))
    assert (fraction[-1], height[-1]) == pytest.approx((1.0, -0.002))
    assert np.all(np.diff(fraction) >= -1e-12)


def test_a_chained_hop_the_cell_would_collide_with_rises_and_approaches_in_the_same_plan(
    cell_planner, blocked_planner
):
    free, blocked = cell_planner, blocked_planner
    first, second = _line(), _line(x0=0.11, y0=0.125)
    fields = dict(approach_height_m=0.01, retreat_height_m=0.01, then_paths=(second,))
    merged, fallback = free.plan(first, HOME, **fields), blocked.plan(first, HOME, **fields)
    # Still one plan with both strokes: the brush rises vertically to the hop height, then
    # approaches as for a goal of its own; slower than the one-move hop.
    assert len(fallback.writing_windows()) == 2
    gap = [w[1][0] - w[0][1] for w in (merged.writing_windows(), fallback.writing_windows())]
    assert gap[1] > gap[0] + 0.02
    between = (fallback.time_s > fallback.writing_windows()[0][1]) & (
        fallback.time_s < fallback.writing_windows()[1][0]
    )
    tip = fallback.tip_in_paper[between]
    lateral = np.hypot(tip[:, 0] - 0.13, tip[:, 1] - 0.10)
    assert lateral[tip[:, 2] < 0.0099].min() < 1e-4  # it left the stroke's end vertically
