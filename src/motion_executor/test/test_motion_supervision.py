"""Motion supervision without ROS: the supervisor's decisions against a scripted arm.

The arm here is a few lines of Python: it hears each trajectory the supervisor hands off, answers
with an acknowledgement (or not, or late), and reports joint samples on the plan (or blocked,
silent, short of the final point) on every tick of a fake clock. The planner and kinematics are
the real ones; the numbers are the node's defaults (ExecutorConfig).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from calligraphy_model.cell_description import HOME_POSITIONS_RAD
from calligraphy_model.kinematics import ArmKinematics
from motion_executor.backends import NativeBackend
from motion_executor.brush_motion import BrushPathSpec
from motion_executor.config import ExecutorConfig
from motion_executor.errors import MotionErrorCode
from motion_executor.handoff import Acknowledgement
from motion_executor.supervision import MotionRequest, MotionSupervisor

HOME = np.array(HOME_POSITIONS_RAD)


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, message: str) -> None:
        self.lines.append(('info', message))

    def warning(self, message: str) -> None:
        self.lines.append(('warning', message))

    def error(self, message: str) -> None:
        self.lines.append(('error', message))


class ScriptedArm:
    """An ArmLink and the wall/robot clock (one clock: 1 s of robot time per second)."""

    uses_controller = False

    def __init__(self, ack: str = 'now', late_s: float = 0.0) -> None:
        self.t = 100.0
        self.ack = ack  # 'now', 'never' or 'late' (the arm takes over `late_s` after the stamp)
        self.late_s = late_s
        self.positions = HOME.copy()
        self.trajectories: list[tuple[object, float]] = []
        self.stops: list[tuple[str, ...]] = []
        self.supervisor: MotionSupervisor | None = None
        # Scripted trouble: from this plan time on (of the first trajectory) the arm is blocked
        # where it is / falls silent; `short_rad` is how far short of the final point it stops.
        self.blocked_after_s: float | None = None
        self.silent_after_s: float | None = None
        self.short_rad = 0.0
        self.silent = False  # no joint states at all

    # the clock
    def clock(self) -> float:
        return self.t

    def sleep(self, dt: float) -> None:
        self.t += dt
        self._step()

    def _step(self) -> None:
        if self.silent:
            return
        if self.trajectories:
            plan, start = self.trajectories[-1]
            along = self.t - start
            first = len(self.trajectories) == 1
            if first and self.silent_after_s is not None and along > self.silent_after_s:
                return
            if not (first and self.blocked_after_s is not None and along > self.blocked_after_s):
                self.positions = plan.positions_at(float(np.clip(along, 0.0, plan.duration_s)))
                if along >= plan.duration_s and first:
                    self.positions = self.positions + np.array([0, 0, 0, 0, 0, self.short_rad])
        self.supervisor.on_joint_state(self.t, self.positions)

    # the ArmLink
    def trajectory_listened(self) -> bool:
        return True

    def ack_published(self) -> bool:
        return True

    def publish(self, plan, start_ns: int) -> None:
        start = start_ns * 1e-9
        if self.ack == 'never':
            self.trajectories.append((plan, start))
            return
        if self.ack == 'late':
            start += self.late_s
        self.trajectories.append((plan, start))
        self.supervisor.on_ack(Acknowledgement(start_ns, start, True))

    def publish_stop(self, joint_names) -> None:
        self.stops.append(tuple(joint_names))

    def send_to_controller(self, plan, start_ns, wait):  # pragma: no cover - topic arm
        raise AssertionError('no controller here')

    def controller_outcome(self):
        return None

    def tip_z(self, supervisor: MotionSupervisor) -> float:
        return float(supervisor.backend.planner.tip_in_paper(self.positions)[2])


class Goal:
    def __init__(self, arm: ScriptedArm, cancel_after_s: float | None = None) -> None:
        self.arm = arm
        self.cancel_at = None if cancel_after_s is None else arm.t + cancel_after_s
        self.feedback_seen: list[tuple[str, int, int, float]] = []

    def feedback(self, phase: str, index: int, count: int, error_m: float) -> None:
        self.feedback_seen.append((phase, index, count, error_m))

    def cancel_requested(self) -> bool:
        return self.cancel_at is not None and self.arm.t >= self.cancel_at


@pytest.fixture(scope='module')
def kinematics() -> ArmKinematics:
    return ArmKinematics()


def _supervisor(kinematics, arm: ScriptedArm, **config) -> tuple[MotionSupervisor, Log]:
    config = ExecutorConfig(**{'trajectory_ack': True, **config})
    log = Log()
    supervisor = MotionSupervisor(
        config,
        NativeBackend(kinematics, config.planner_config()),
        arm,
        log,
        clock=arm.clock,
        sleep=arm.sleep,
    )
    arm.supervisor = supervisor
    arm.sleep(0.01)  # the arm's first joint state
    return supervisor, log


def _stroke(length=0.03, x0=0.10, y0=0.10, depth=0.002, speed=0.05, n=61) -> BrushPathSpec:
    x = x0 + np.linspace(0.0, length, n)
    return BrushPathSpec(x, np.full(n, y0), np.full(n, depth), np.linspace(0, length / speed, n))


def _run(supervisor: MotionSupervisor, goal: Goal, path: BrushPathSpec | None = None, **fields):
    path = path if path is not None else _stroke()
    assert supervisor.try_accept()
    request = MotionRequest(path.point_count, lambda: path, **fields)
    return supervisor.execute(request, goal)


def test_an_arm_that_follows_the_plan_succeeds_with_feedback_and_sub_mm_tracking(kinematics):
    arm = ScriptedArm()
    supervisor, _ = _supervisor(kinematics, arm)
    goal = Goal(arm)
    outcome = _run(supervisor, goal)
    assert outcome.success and outcome.code == MotionErrorCode.SUCCESS, outcome.message
    assert outcome.tip_rms_error_m < 0.0005 and outcome.tip_max_error_m < 0.0005
    plan, start = arm.trajectories[0]
    assert outcome.duration_s == pytest.approx(plan.duration_s)
    # The robot time the arm was seen at the end: a camera frame from then on shows the stroke.
    assert start + plan.duration_s <= outcome.arrived_at_s <= start + plan.duration_s + 0.2
    assert outcome.arrived_at_s <= arm.t
    phases = [f[0] for f in goal.feedback_seen]
    assert phases[0] == 'planning' and {'approach', 'writing', 'retreat'} <= set(phases)
    writing = [f[1] for f in goal.feedback_seen if f[0] == 'writing']
    assert writing == sorted(writing) and all(f[2] == 61 for f in goal.feedback_seen)
    assert len(arm.trajectories) == 1 and not arm.stops
    assert arm.tip_z(supervisor) == pytest.approx(0.03, abs=1e-4)  # the safe height
    assert not supervisor.busy and supervisor.try_accept()  # the next goal is taken


def test_a_goal_with_then_paths_writes_them_in_one_trajectory_and_counts_all_their_points(
    kinematics,
):
    arm = ScriptedArm()
    supervisor, _ = _supervisor(kinematics, arm)
    goal = Goal(arm)
    first, second = _stroke(), _stroke(x0=0.11, y0=0.12)
    assert supervisor.try_accept()
    request = MotionRequest(
        122, lambda: first, load_then_paths=lambda: (second,), approach_height_m=0.01
    )
    outcome = supervisor.execute(request, goal)
    assert outcome.success, outcome.message
    assert len(arm.trajectories) == 1 and not arm.stops
    plan, _ = arm.trajectories[0]
    assert len(plan.writing_windows()) == 2
    # The feedback's point index runs over both paths' points, in order, up to the last one.
    writing = [f[1] for f in goal.feedback_seen if f[0] == 'writing']
    assert writing == sorted(writing) and max(writing) > 61 and writing[-1] <= 121
    assert all(f[2] == 122 for f in goal.feedback_seen)
    assert outcome.tip_rms_error_m < 0.0005
    assert arm.tip_z(supervisor) == pytest.approx(0.03, abs=1e-4)


def test_a_then_path_with_a_bad_point_refuses_the_whole_goal_before_anything_moves(kinematics):
    arm = ScriptedArm()
    supervisor, _ = _supervisor(kinematics, arm)
    bad = _stroke(depth=0.02)  # deeper than the executor accepts
    assert supervisor.try_accept()
    outcome = supervisor.execute(
        MotionRequest(122, _stroke, load_then_paths=lambda: (bad,)), Goal(arm)
    )
    assert outcome.code == MotionErrorCode.TOO_DEEP and not arm.trajectories


def test_a_blocked_arm_is_a_tracking_error_and_the_brush_is_lifted_from_where_it_is(kinematics):
    arm = ScriptedArm()
    supervisor, log = _supervisor(kinematics, arm)
    arm.blocked_after_s = 0.0  # the arm never leaves home: the approach leaves it behind
    outcome = _run(supervisor, Goal(arm))
    assert outcome.code == MotionErrorCode.TRACKING_ERROR
    at_s = float(outcome.message.split(' at ')[1].split(' s')[0])
    assert 'off the plan' in outcome.message
    assert at_s < arm.trajectories[0][0].writing_window()[0]  # judged at the 50 mm travel limit
    # The abort handed a lift to the arm, planned from where the blocked arm stood (home).
    lift, _ = arm.trajectories[-1]
    assert len(arm.trajectories) == 2
    np.testing.assert_allclose(lift.positions[0], HOME, atol=1e-9)
    assert ('error', f'brush path aborted: {outcome.message}') in log.lines


def test_the_tip_off_the_plan_while_writing_aborts_at_the_writing_limit(kinematics):
    # Blocked on the sheet in mid-stroke: the plan moves on at 50 mm/s; 10 mm later the tip is
    # off the plan by more than max_tracking_error_m (the travel limit is 50 mm).
    arm = ScriptedArm()
    supervisor, _ = _supervisor(kinematics, arm)
    plan = supervisor.backend.plan(_stroke(), HOME)
    begin, end = plan.writing_window()
    arm.blocked_after_s = begin + 0.2
    outcome = _run(supervisor, Goal(arm))
    assert outcome.code == MotionErrorCode.TRACKING_ERROR, outcome.message
    at_s = float(outcome.message.split(' at ')[1].split(' s')[0])
    assert begin + 0.2 < at_s < end
    error_mm = float(outcome.message.split('brush tip ')[1].split(' mm')[0])
    assert 10.0 <= error_mm < 15.0  # judged against the 10 mm writing limit, not the travel one
    lift, _ = arm.trajectories[-1]
    assert lift.tip_in_paper[-1, 2] == pytest.approx(0.03, abs=1e-6)


def test_silent_joint_states_abort_as_stale_and_lift_from_the_commanded_point(kinematics):
    arm = ScriptedArm()
    supervisor, _ = _supervisor(kinematics, arm)
    plan = supervisor.backend.plan(_stroke(), HOME)
    arm.silent_after_s = plan.writing_window()[0] + 0.1
    outcome = _run(supervisor, Goal(arm))
    assert outcome.code == MotionErrorCode.JOINT_STATES_STALE
    assert 'silent' in outcome.message and '0.5 s' in outcome.message
    lift, _ = arm.trajectories[-1]
    # The lift starts where the plan had the arm just after the silence began, on the sheet.
    assert lift.tip_in_paper[0, 2] < 0.0
    assert lift.tip_in_paper[-1, 2] == pytest.approx(0.03, abs=1e-6)


def test_no_joint_states_at_all_refuses_the_goal_before_anything_moves(kinematics):
    arm = ScriptedArm()
    supervisor, _ = _supervisor(kinematics, arm)
    arm.silent = True
    arm.sleep(1.0)  # the arm's last state is 1 s old (timeout 0.5 s)
    outcome = _run(supervisor, Goal(arm))
    assert outcome.code == MotionErrorCode.JOINT_STATES_STALE
    assert 'no /joint_states' in outcome.message
    assert not arm.trajectories


def test_an_arm_that_never_acknowledges_gets_controller_unavailable_and_a_stop(kinematics):
    arm = ScriptedArm(ack='never')
    supervisor, _ = _supervisor(kinematics, arm, trajectory_ack_timeout_s=0.2)
    outcome = _run(supervisor, Goal(arm))
    assert outcome.code == MotionErrorCode.CONTROLLER_UNAVAILABLE
    assert 'acknowledge' in outcome.message and '0.2 s' in outcome.message
    # The trajectory, then the stop that holds the arm should it still take it; no lift.
    assert len(arm.trajectories) == 1 and len(arm.stops) == 1


def test_a_late_start_is_tracked_from_the_start_the_arm_acknowledged(kinematics):
    # The arm takes over 0.4 s after the stamp: judged from its acknowledged start, on the plan.
    arm = ScriptedArm(ack='late', late_s=0.4)
    supervisor, _ = _supervisor(kinematics, arm)
    outcome = _run(supervisor, Goal(arm))
    assert outcome.success, outcome.message
    assert outcome.tip_rms_error_m < 0.0005


def test_an_arm_short_of_the_final_point_times_out_after_the_settle_time(kinematics):
    arm = ScriptedArm()
    supervisor, _ = _supervisor(kinematics, arm)
    arm.short_rad = 0.05  # the brush's own axis: the tip stays put, the joint does not arrive
    started = arm.t
    outcome = _run(supervisor, Goal(arm))
    plan = arm.trajectories[0][0]
    assert outcome.code == MotionErrorCode.TRACKING_ERROR
    assert 'did not reach the final point within 2.0 s' in outcome.message
    waited = arm.t - started
    assert plan.duration_s + 2.0 < waited < plan.duration_s + 2.0 + 1.5


def test_cancel_lifts_the_brush_and_waits_for_it(kinematics):
    arm = ScriptedArm()
    supervisor, log = _supervisor(kinematics, arm)
    plan = supervisor.backend.plan(_stroke(), HOME)
    goal = Goal(arm, cancel_after_s=plan.writing_window()[0] + 0.4)
    outcome = _run(supervisor, goal)
    assert outcome.code == MotionErrorCode.CANCELED and outcome.message == 'canceled; brush lifted'
    assert len(arm.trajectories) == 2
    # The lift was waited for: the arm is at the safe height when the outcome comes back.
    assert arm.tip_z(supervisor) == pytest.approx(0.03, abs=2e-3)
    assert not [line for line in log.lines if line[0] == 'error']


def test_goal_bounds_are_refused_before_anything_is_planned(kinematics):
    arm = ScriptedArm()
    supervisor, _ = _supervisor(kinematics, arm)
    outcome = _run(supervisor, Goal(arm), time_scale=11.0)
    assert outcome.code == MotionErrorCode.INVALID_ARGUMENT and 'time_scale' in outcome.message
    outcome = _run(supervisor, Goal(arm), retreat_height_m=0.05)
    assert outcome.code == MotionErrorCode.INVALID_ARGUMENT
    long_path = _stroke(speed=0.00005)  # 600 s of writing
    outcome = _run(supervisor, Goal(arm), path=long_path)
    assert outcome.code == MotionErrorCode.INVALID_PATH and 'to write' in outcome.message
    assert not arm.trajectories


def test_one_goal_at_a_time_and_the_idle_watchdog_lifts_a_brush_left_low(kinematics):
    arm = ScriptedArm()
    supervisor, log = _supervisor(kinematics, arm, idle_lift_timeout_s=8.0)
    assert supervisor.try_accept() and not supervisor.try_accept()
    supervisor.busy = False
    outcome = _run(supervisor, Goal(arm), retreat_height_m=0.01)
    assert outcome.success and arm.tip_z(supervisor) == pytest.approx(0.01, abs=1e-3)
    arm.sleep(7.0)
    supervisor.idle_tick()
    assert len(arm.trajectories) == 1, 'lifted before the idle timeout'
    arm.sleep(1.5)
    supervisor.idle_tick()
    assert len(arm.trajectories) == 2
    assert arm.tip_z(supervisor) == pytest.approx(0.03, abs=2e-3)
    assert any('no goal for 8 s' in message for _, message in log.lines)
    # Already safe: the service says so and sends nothing.
    lifted, message = supervisor.lift_brush()
    assert lifted and 'already' in message and len(arm.trajectories) == 2


def test_the_config_numbers_are_the_nodes_defaults():
    config = ExecutorConfig()
    assert dataclasses.asdict(config)['limits']['joint_velocity_rad_s'] == 1.0
    assert (config.max_tracking_error_m, config.max_travel_tracking_error_m) == (0.01, 0.05)
    assert (config.joint_state_timeout_s, config.settle_timeout_s) == (0.5, 2.0)
    assert config.trajectory_ack_timeout_s == 5.0 and config.goal_tolerance_rad == 0.01
