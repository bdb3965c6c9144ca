"""Motion supervision: one brush path from goal to arrival, and the brush's safe state (no ROS).

`MotionSupervisor` decides everything the executor does with a goal: it bounds and plans it, hands
the trajectory to the arm (motion_executor.handoff), follows the arm's joint samples against the
plan, and aborts with a lift when the tip leaves the plan (TRACKING_ERROR), the joint states go
silent (JOINT_STATES_STALE), the arm does not settle on the final point in time, or the goal is
cancelled (CANCELED). Between goals it lifts the brush on request (`lift_brush`) and when a goal
left it below the safe height for too long (`idle_tick`).

It gets everything from plain calls: joint samples (`on_joint_state`, `on_controller_sample`),
acknowledgements (`on_ack`), the wall clock and sleep (callables, real by default), the arm
(an ArmLink) and, per goal, a GoalLink for feedback and cancel. The node only translates ROS
messages and actions into these calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from motion_executor.backends import MotionBackend
from motion_executor.brush_motion import PHASE_APPROACH, PHASE_WRITING, BrushPathSpec, MotionPlan
from motion_executor.config import ExecutorConfig
from motion_executor.errors import MotionError, MotionErrorCode
from motion_executor.goal_bounds import check_goal_bounds, check_path_duration
from motion_executor.handoff import Acknowledgement, ArmLink, TrajectoryHandoff
from motion_executor.safe_lift import SafeLift
from motion_executor.tracking import TrackingMonitor


@dataclass(frozen=True)
class JointSample:
    """Where the arm was (`positions`) at robot time `stamp_s`, heard at wall time
    `received_wall_s`."""

    stamp_s: float
    positions: np.ndarray
    received_wall_s: float


@dataclass(frozen=True)
class MotionRequest:
    """A goal: the path (loaded on demand: its conversion may fail), its point count, fields."""

    point_count: int
    load_path: Callable[[], BrushPathSpec]
    # The goal's then_paths, written after the path in the same motion.
    load_then_paths: Callable[[], tuple[BrushPathSpec, ...]] = tuple
    time_scale: float = 1.0
    skip_approach: bool = False
    skip_retreat: bool = False
    approach_height_m: float = 0.0
    retreat_height_m: float = 0.0


@dataclass(frozen=True)
class MotionOutcome:
    """How a goal ended: SUCCESS with the tracking figures, or the code and why."""

    code: MotionErrorCode
    message: str = ''
    tip_rms_error_m: float = 0.0
    tip_max_error_m: float = 0.0
    duration_s: float = 0.0
    # Robot time of the newest joint state heard when the arm was judged arrived (SUCCESS only).
    arrived_at_s: float = 0.0

    @property
    def success(self) -> bool:
        return self.code == MotionErrorCode.SUCCESS


class GoalLink(Protocol):
    """One goal's feedback and cancel; the node implements it over the action."""

    def feedback(self, phase: str, index: int, count: int, error_m: float) -> None: ...

    def cancel_requested(self) -> bool: ...


class Log(Protocol):
    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def error(self, message: str) -> None: ...


class AbortError(Exception):
    """A motion under way ends: `code`, why, and where to lift from (None: no lift)."""

    def __init__(self, code: MotionErrorCode, message: str, lift_from: np.ndarray | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.lift_from = lift_from


class MotionSupervisor:
    """Executes one goal at a time and keeps the brush safe between goals (thread-safe)."""

    def __init__(
        self,
        config: ExecutorConfig,
        backend: MotionBackend,
        link: ArmLink,
        log: Log,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.backend = backend
        self.link = link
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.handoff = TrajectoryHandoff(
            link, config.trajectory_start_lead_s, config.trajectory_ack,
            config.trajectory_ack_timeout_s,
        )  # fmt: skip
        self.lock = threading.Lock()
        self.latest: JointSample | None = None
        # The arm's speed scaling (0-1; a UR pendant's slider), where the node reads it: waits in
        # wall time for a motion stretch by it. Tracking needs none: a controller's feedback
        # already tells where along the trajectory the arm is.
        self.speed_fraction = 1.0
        self._recent: list[JointSample] = []
        self.busy = False
        # A lift outside any goal (the lift_brush service or the idle watchdog) is under way.
        self.lifting = False
        # Wall time the last goal ended (None: no goal since the last lift, or one is running).
        self.idle_since: float | None = None
        self.safe_lift = SafeLift(self)

    # ---------------------------------------------------------------- inputs
    def on_joint_state(self, stamp_s: float, positions: np.ndarray) -> None:
        """A joint state with every arm joint, stamped `stamp_s` (robot time)."""
        sample = JointSample(stamp_s, np.asarray(positions, dtype=float), self.clock())
        with self.lock:
            self.latest = sample
            # With a ros2_control controller, its feedback says where along the trajectory the
            # arm is; the joint states then only tell that the arm is alive.
            if self.busy and not self.link.uses_controller:
                self._recent.append(sample)

    def on_controller_sample(self, stamp_s: float, positions: np.ndarray) -> None:
        """Where the controller's feedback says the arm is, at plan-clock time `stamp_s`."""
        with self.lock:
            if self.busy:
                self._recent.append(JointSample(stamp_s, positions, self.clock()))

    def on_ack(self, ack: Acknowledgement) -> None:
        self.handoff.tracker.record(ack)

    def try_accept(self) -> bool:
        """Take a new goal (False while another one runs)."""
        with self.lock:
            if self.busy:
                self.log.warning('rejected a brush path: another one is executing')
                return False
            self.busy = True
            self._recent = []
        return True

    # ---------------------------------------------------------------- the goal
    def execute(self, request: MotionRequest, goal: GoalLink) -> MotionOutcome:
        """Run an accepted goal to its outcome; never raises."""
        try:
            goal.feedback('planning', -1, request.point_count, 0.0)
            check_goal_bounds(request, self.config)
            path = request.load_path()
            then_paths = request.load_then_paths()
            for each in (path, *then_paths):
                check_path_duration(each.time_from_start_s, request.time_scale, self.config)
            self.safe_lift.wait_for_idle_lift()
            state = self.fresh_state()
            # The controller may be discovered a moment after its states.
            if not self.link.uses_controller and not self.wait_for_arm(
                self.link.trajectory_listened
            ):
                raise MotionError(
                    MotionErrorCode.CONTROLLER_UNAVAILABLE,
                    'nothing subscribes to /arm_controller/joint_trajectory',
                )
            if self.handoff.uses_ack and not self.wait_for_arm(self.link.ack_published):
                raise MotionError(
                    MotionErrorCode.CONTROLLER_UNAVAILABLE,
                    'nothing publishes /arm_controller/trajectory_ack',
                )
            plan = self.backend.plan(
                path,
                state.positions,
                request.time_scale,
                request.skip_approach,
                request.skip_retreat,
                request.approach_height_m,
                request.retreat_height_m,
                then_paths,
            )
            started = self.send(plan, state)
            monitor = TrackingMonitor(plan, self.backend.planner)
            arrived_at_s = self.follow(goal, plan, started, monitor, request.point_count)
            return MotionOutcome(
                MotionErrorCode.SUCCESS,
                tip_rms_error_m=monitor.writing_rms_error_m,
                tip_max_error_m=monitor.writing_max_error_m,
                duration_s=plan.duration_s,
                arrived_at_s=arrived_at_s,
            )
        except MotionError as error:
            # Rejected before any motion.
            self.log.warning(f'brush path rejected: {error}')
            return MotionOutcome(error.code, error.message)
        except AbortError as abort:
            self.safe_lift.lift(abort.lift_from, wait=abort.code == MotionErrorCode.CANCELED)
            if abort.code != MotionErrorCode.CANCELED:
                self.log.error(f'brush path aborted: {abort.message}')
            return MotionOutcome(abort.code, abort.message)
        except Exception as error:  # noqa: BLE001 - a bad goal must never take the node down
            self.log.error(f'brush path failed: {error!r}')
            return MotionOutcome(MotionErrorCode.INTERNAL_ERROR, f'internal error: {error}')
        finally:
            with self.lock:
                self.busy = False
                self.idle_since = self.clock()

    def send(
        self,
        plan: MotionPlan,
        fallback: JointSample | None = None,
        is_lift: bool = False,
        wait_ack: bool = True,
    ) -> float:
        """Hand `plan` to the arm, timed from the newest joint state (not the one planned from:
        planning takes wall time); the robot time it starts at."""
        with self.lock:
            newest = self.latest or fallback
        return self.handoff.send(plan, newest.stamp_s if newest else None, is_lift, wait_ack)

    def follow(
        self, goal: GoalLink, plan: MotionPlan, start: float, monitor: TrackingMonitor, count: int
    ) -> float:
        """Judge the arm's samples against `plan` (started at robot time `start`) until it
        arrives; the robot time of the newest joint state heard then. AbortError on a tracking
        error, cancel, silence or no settling."""
        c = self.config
        period = 1.0 / c.feedback_rate_hz
        plan_time = -c.trajectory_start_lead_s
        last_positions = plan.positions[0]
        while True:
            self.sleep(period)
            with self.lock:
                samples, self._recent = self._recent, []
            for sample in samples:
                previous_time, plan_time = plan_time, sample.stamp_s - start
                last_positions = sample.positions
                error = monitor.update(plan_time, sample.positions)
                limit = (
                    c.max_tracking_error_m
                    if plan.phase_at(max(plan_time, 0.0)) == PHASE_WRITING
                    else c.max_travel_tracking_error_m
                )
                if error > limit:
                    raise AbortError(
                        MotionErrorCode.TRACKING_ERROR,
                        f'brush tip {error * 1e3:.1f} mm off the plan at {plan_time:.2f} s',
                        sample.positions,
                    )
                # Only the newest joint state is kept, and on a loaded machine a whole phase can
                # pass between two of them: every phase begun since the last one is reported.
                for name, begin, _ in plan.phases:
                    if previous_time < begin <= plan_time:
                        goal.feedback(name, plan.point_index_at(begin), count, error)
            if goal.cancel_requested():
                raise AbortError(
                    MotionErrorCode.CANCELED, 'canceled; brush lifted', last_positions
                )
            with self.lock:
                latest = self.latest
            if self.clock() - latest.received_wall_s > c.joint_state_timeout_s:
                # The arm's state is unknown: lift from where it was commanded to be.
                raise AbortError(
                    MotionErrorCode.JOINT_STATES_STALE,
                    f'/joint_states silent for more than {c.joint_state_timeout_s} s '
                    'during the motion; brush lifted',
                    plan.positions_at(max(plan_time, 0.0) + period),
                )
            if monitor.arrived(plan_time, last_positions, c.goal_tolerance_rad):
                return latest.stamp_s
            outcome = self.link.controller_outcome()
            if outcome is not None:
                # The controller has ended its goal: it reached the end within its own
                # tolerances, or it aborted and says why (no feedback follows either way).
                succeeded, said = outcome
                if succeeded:
                    return latest.stamp_s
                raise AbortError(
                    MotionErrorCode.TRACKING_ERROR,
                    f'{c.controller_action} aborted the trajectory: {said}',
                    last_positions,
                )
            if plan_time > plan.duration_s + c.settle_timeout_s:
                raise AbortError(
                    MotionErrorCode.TRACKING_ERROR,
                    f'the arm did not reach the final point within '
                    f'{c.settle_timeout_s} s of the trajectory end',
                    last_positions,
                )
            goal.feedback(
                plan.phase_at(plan_time) if plan_time >= 0.0 else PHASE_APPROACH,
                plan.point_index_at(plan_time),
                count,
                monitor.last_error_m,
            )

    # ---------------------------------------------------------------- the arm's state
    def wait_for_arm(self, ready: Callable[[], object]) -> bool:
        """Poll `ready()` for up to arm_startup_wait_s: an arm (or its controller) that is still
        starting is waited for, not refused."""
        deadline = self.clock() + self.config.arm_startup_wait_s
        while not ready() and self.clock() < deadline:
            self.sleep(0.05)
        return bool(ready())

    def fresh_state(self) -> JointSample:
        """The newest joint state; MotionError JOINT_STATES_STALE when none is fresh."""
        # The arm has never reported: it may still be starting.
        self.wait_for_arm(lambda: self.latest is not None)
        latest = self.fresh_latest()
        if latest is None:
            raise MotionError(
                MotionErrorCode.JOINT_STATES_STALE,
                f'no /joint_states with all arm joints within the last '
                f'{self.config.joint_state_timeout_s} s',
            )
        return latest

    def fresh_latest(self) -> JointSample | None:
        """The newest joint state if heard within joint_state_timeout_s, else None."""
        with self.lock:
            latest = self.latest
        if latest is None or self.clock() - latest.received_wall_s > (
            self.config.joint_state_timeout_s
        ):
            return None
        return latest

    # ---------------------------------------------------------------- between goals
    def lift_brush(self) -> tuple[bool, str]:
        """The lift_brush service: (lifted or already safe, what happened)."""
        return self.safe_lift.on_request()

    def idle_tick(self) -> None:
        """The idle watchdog's periodic check."""
        self.safe_lift.on_idle_tick()
