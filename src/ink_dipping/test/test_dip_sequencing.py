"""Dip sequencing without ROS: the sequencer's decisions against a scripted motion executor."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from calligraphy_model.cell_description import ink_well_in_paper
from ink_dipping.config import DipRoutineConfig
from ink_dipping.errors import DipError, DipErrorCode
from ink_dipping.routine import PHASES, dip_routine, join_routine
from ink_dipping.sequencing import LOAD_SETTLE_TIMEOUT_S, DipSequencer, MotionResult

WELL = ink_well_in_paper()


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def warning(self, message: str) -> None:
        self.lines.append(('warning', message))

    def error(self, message: str) -> None:
        self.lines.append(('error', message))


class Clock:
    def __init__(self) -> None:
        self.t = 0.0
        self.on_tick = None

    def __call__(self) -> float:
        return self.t

    def sleep(self, dt: float) -> None:
        self.t += dt
        if self.on_tick:
            self.on_tick()


# The scripted executor's approach (no path point reached yet) takes this share of a motion.
APPROACH_SHARE = 0.1


class Motion:
    """A scripted executor motion: done after `takes_s`, with `result`. It approaches for the
    first APPROACH_SHARE of the time, then reaches the path's points at an even pace; with
    `ends_at` (a point index) it ends there with its result instead (a tracking error)."""

    def __init__(
        self, port, segment, takes_s: float, result: MotionResult | None, ends_at=None
    ) -> None:
        self.port, self.segment = port, segment
        self.accepted = result is not None or port.accept
        self._started, self._takes_s = port.clock.t, takes_s
        self._ends_at = ends_at
        self._done_at = port.clock.t + takes_s
        if ends_at is not None:
            self._done_at = self._time_of(ends_at)
        self._frozen: int | None = None  # the point reached when canceled
        self._result = result or MotionResult(True)
        self.canceled = False

    def _time_of(self, index: int) -> float:
        share = APPROACH_SHARE + (1 - APPROACH_SHARE) * (index + 0.5) / len(self.segment.x_m)
        return self._started + share * self._takes_s

    @property
    def point_index(self) -> int:
        if self._frozen is not None:
            return self._frozen
        if self._ends_at is not None and self.done():
            return self._ends_at
        share = (self.port.clock.t - self._started) / self._takes_s
        if share < APPROACH_SHARE:
            return -1
        count = len(self.segment.x_m)
        return min(count - 1, int((share - APPROACH_SHARE) / (1 - APPROACH_SHARE) * count))

    def done(self) -> bool:
        return self.port.clock.t >= self._done_at

    def result(self) -> MotionResult:
        return self._result

    def wait_result(self, timeout_s: float, what: str) -> MotionResult:
        if self._done_at - self.port.clock.t > timeout_s:
            raise DipError(DipErrorCode.EXECUTION_FAILED, f'{what}: no answer')
        self.port.clock.t = max(self.port.clock.t, self._done_at)
        return self._result

    def cancel(self, timeout_s: float | None, what: str) -> None:
        self._frozen = self.point_index
        self.canceled = True
        self._done_at = self.port.clock.t + 0.5  # the executor lifts, then answers
        self._result = MotionResult(False, 'canceled; brush lifted')


class Port:
    """A MotionPort: every motion takes `takes_s` and succeeds unless scripted otherwise."""

    def __init__(self, clock: Clock, takes_s: float = 1.0) -> None:
        self.clock = clock
        self.takes_s = takes_s
        self.server = True
        self.accept = True
        self.results: dict[str, MotionResult] = {}
        self.ends_at: int | None = None  # a scripted motion that ends early, at this point
        self.sent: list[tuple[str, bool, bool, int]] = []
        self.motions: list[Motion] = []

    def wait_for_server(self, timeout_s: float) -> bool:
        return self.server

    def send(self, segment, skip_approach, skip_retreat, what):
        self.sent.append((segment.phase, skip_approach, skip_retreat, len(segment.x_m)))
        motion = Motion(self, segment, self.takes_s, self.results.get(segment.phase), self.ends_at)
        motion.accepted = self.accept
        self.motions.append(motion)
        return motion


class Goal:
    def __init__(self, clock: Clock, cancel_at_s: float | None = None) -> None:
        self.clock, self.cancel_at_s = clock, cancel_at_s
        self.feedback_seen: list[tuple[str, float]] = []

    def feedback(self, phase: str, progress: float) -> None:
        self.feedback_seen.append((phase, progress))

    def cancel_requested(self) -> bool:
        return self.cancel_at_s is not None and self.clock.t >= self.cancel_at_s


def _sequencer(takes_s: float = 1.0, **kwargs):
    clock = Clock()
    port = Port(clock, takes_s)
    log = Log()
    sequencer = DipSequencer(
        WELL, DipRoutineConfig(), port, log, clock=clock, sleep=clock.sleep, **kwargs
    )
    return sequencer, port, clock, log


def _path(mode: str = 'full'):
    return join_routine(dip_routine(WELL, DipRoutineConfig(), mode))


def _phase_now(port) -> str | None:
    """The phase of the routine the scripted executor has reached (None before the path)."""
    if not port.motions or port.motions[0].point_index < 0:
        return None
    return PHASES[_path().phase_index(port.motions[0].point_index)]


def test_a_full_dip_runs_as_one_motion_reporting_every_phase_and_the_measured_load():
    sequencer, port, clock, _ = _sequencer(takes_s=3.0)
    # The load measured as the brush goes: full once it has soaked, 0.88 once it has wiped.
    seen: list[str | None] = []

    def tick():
        seen.append(_phase_now(port))
        sequencer.on_ink_load(0.88 if 'retreat' in seen else 1.0 if 'rise' in seen else 0.1)

    clock.on_tick = tick
    goal = Goal(clock)
    outcome = sequencer.run('', -1, goal)  # '' = full
    assert outcome.success and outcome.code == DipErrorCode.SUCCESS
    assert outcome.ink_load == pytest.approx(0.88)
    # One motion: the executor approaches the well, runs every phase without stopping for a
    # new goal, and lifts to its safe height at the end.
    assert port.sent == [('routine', False, False, len(_path().segment.x_m))]
    # Each phase reported once, in order, as the executor's reported point reaches it.
    assert [f[0] for f in goal.feedback_seen] == [*PHASES, 'retreat']
    assert goal.feedback_seen[-1][1] == 1.0
    assert [f[1] for f in goal.feedback_seen[:-1]] == [i / 6 for i in range(6)]
    assert [p for i, p in enumerate(seen) if p and p != seen[i - 1]] == list(PHASES)


def test_the_routine_joined_is_the_phases_one_after_the_other():
    segments = dip_routine(WELL, DipRoutineConfig(), 'full')
    path = join_routine(segments)
    assert path.phases == PHASES
    times = path.segment.time_from_start_s
    assert np.all(np.diff(times) > 0.0)
    assert times[-1] == pytest.approx(sum(s.time_from_start_s[-1] for s in segments))
    for phase, (segment, start) in enumerate(zip(segments, path.phase_starts, strict=True)):
        # Every phase's points follow on (the one it shares with the previous phase kept once).
        first = 1 if phase else 0
        stop = start + len(segment.x_m) - first
        assert path.segment.x_m[start:stop] == pytest.approx(segment.x_m[first:])
        assert path.segment.pressing_depth_m[start:stop] == pytest.approx(
            segment.pressing_depth_m[first:]
        )
        assert path.phase_index(start) == phase and path.phase_index(stop - 1) == phase
    assert path.phase_index(-1) == 0


def test_a_load_measurement_behind_the_arm_is_waited_for_until_it_shows_the_soak():
    # The sheet simulation lags the arm: until 1.2 s after the last motion it still reports the
    # dry brush, then the soak (full) and the wipe. The result is the wipe's reading, not the
    # stale one a fixed short wait would have taken.
    sequencer, port, clock, _ = _sequencer()
    readings = {'end': None}

    def tick():
        if not port.sent:
            return
        if readings['end'] is None:
            readings['end'] = clock.t + port.takes_s
        late = readings['end'] is not None and clock.t >= readings['end'] + 1.2
        sequencer.on_ink_load(0.9 if late and clock.t >= readings['end'] + 1.3 else
                              1.0 if late else 0.1)  # fmt: skip

    clock.on_tick = tick
    outcome = sequencer.run('full', -1, Goal(clock))
    assert outcome.success and outcome.ink_load == pytest.approx(0.9)


def test_a_load_reading_that_never_shows_the_soak_is_reported_with_a_warning():
    sequencer, _, clock, log = _sequencer()
    clock.on_tick = lambda: sequencer.on_ink_load(0.4)
    started = clock.t
    outcome = sequencer.run('quick', -1, Goal(clock))
    assert outcome.success and outcome.ink_load == pytest.approx(0.4)
    assert clock.t - started >= LOAD_SETTLE_TIMEOUT_S
    assert any('did not show the soak and wipe' in line for _, line in log.lines), log.lines


def test_without_a_load_reading_the_result_reports_the_wipe_target():
    sequencer, _, clock, _ = _sequencer(wipe_target_load=0.85)
    outcome = sequencer.run('quick', -1, Goal(clock))
    assert outcome.success and outcome.ink_load == 0.85


@pytest.mark.parametrize(
    ('mode', 'wipes', 'code', 'words'),
    [
        ('splash', -1, DipErrorCode.INVALID_MODE, 'mode must be one of'),
        ('full', 11, DipErrorCode.INVALID_ARGUMENT, '-1 (the mode default) .. 10, got 11'),
        ('full', -2, DipErrorCode.INVALID_ARGUMENT, 'got -2'),
    ],
)
def test_bad_goals_are_refused_before_anything_moves(mode, wipes, code, words):
    sequencer, port, clock, log = _sequencer()
    outcome = sequencer.run(mode, wipes, Goal(clock))
    assert outcome.code == code and words in outcome.message
    assert not port.sent and ('warning', f'dip: {outcome.message}') in log.lines


def test_a_dip_while_writing_or_while_another_dip_runs_is_refused_busy():
    sequencer, port, clock, _ = _sequencer()
    sequencer.on_writing(True)
    outcome = sequencer.run('full', -1, Goal(clock))
    assert outcome.code == DipErrorCode.BUSY_WRITING and 'written' in outcome.message
    sequencer.on_writing(False)
    # A second goal while the first one's motion runs.
    second: list = []
    clock.on_tick = lambda: second or second.append(sequencer.run('quick', -1, Goal(clock)))
    first = sequencer.run('quick', -1, Goal(clock))
    assert first.success
    assert second[0].code == DipErrorCode.BUSY_WRITING
    assert 'another dip' in second[0].message
    assert len(port.sent) == 1 and not port.sent[0][1]


def test_cancel_at_the_well_cancels_the_motion_and_rises_clear_of_the_rim():
    sequencer, port, clock, _ = _sequencer(takes_s=10.0)
    path = _path()
    dwell = PHASES.index('dwell')
    middle = (path.phase_starts[dwell] + path.phase_starts[dwell + 1]) // 2
    share = APPROACH_SHARE + (1 - APPROACH_SHARE) * (middle + 0.5) / len(path.segment.x_m)
    goal = Goal(clock, cancel_at_s=10.0 * share)  # during the dwell
    outcome = sequencer.run('full', -1, goal)
    assert outcome.code == DipErrorCode.CANCELED and 'dwell' in outcome.message
    assert port.motions[0].canceled
    # Then one more motion: up to the dip's safe height, where the brush was.
    phase, skip_approach, skip_retreat, points = port.sent[-1]
    assert (phase, skip_approach, skip_retreat, points) == ('retreat', True, True, 1)
    clear = port.motions[-1].segment
    assert -clear.pressing_depth_m[0] == pytest.approx(DipRoutineConfig().safe_height_m)
    # Above the last point the executor reported reached.
    routine, reached = port.motions[0].segment, port.motions[0].point_index
    assert path.phase_index(reached) == dwell
    assert (clear.x_m[0], clear.y_m[0]) == (routine.x_m[reached], routine.y_m[reached])


def test_cancel_during_the_approach_leaves_the_lift_to_the_executor():
    sequencer, port, clock, _ = _sequencer()
    outcome = sequencer.run('full', -1, Goal(clock, cancel_at_s=0.5 * APPROACH_SHARE))
    assert outcome.code == DipErrorCode.CANCELED and 'approach' in outcome.message
    assert [s[0] for s in port.sent] == ['routine']


def test_failed_motions_map_to_unreachable_or_execution_failed():
    sequencer, port, clock, _ = _sequencer()
    # The executor refuses the path before the arm moves (a point out of reach).
    port.results['routine'] = MotionResult(False, 'point 40 out of reach', unreachable=True)
    port.ends_at = -1
    outcome = sequencer.run('full', -1, Goal(clock))
    assert outcome.code == DipErrorCode.INK_WELL_UNREACHABLE
    assert outcome.message == 'dip: point 40 out of reach'
    # A tracking error during the wipe is reported as the wipe's.
    port.results = {'routine': MotionResult(False, 'tracking error')}
    port.ends_at = _path().phase_starts[PHASES.index('wipe')] + 3
    outcome = sequencer.run('full', -1, Goal(clock))
    assert outcome.code == DipErrorCode.EXECUTION_FAILED
    assert outcome.message == 'wipe: tracking error'
    port.ends_at = None
    port.results, port.accept = {}, False
    outcome = sequencer.run('full', -1, Goal(clock))
    assert outcome.code == DipErrorCode.EXECUTION_FAILED and 'rejected' in outcome.message


def test_a_motion_that_never_ends_times_out_and_no_executor_is_execution_failed():
    sequencer, port, clock, _ = _sequencer(takes_s=1e9, motion_timeout_s=60.0)
    outcome = sequencer.run('full', -1, Goal(clock))
    assert outcome.code == DipErrorCode.EXECUTION_FAILED
    assert outcome.message == 'approach: timed out' and port.motions[0].canceled
    assert 60.0 < clock.t < 61.0
    port.server = False
    outcome = sequencer.run('full', -1, Goal(clock))
    assert outcome.code == DipErrorCode.EXECUTION_FAILED and 'not available' in outcome.message


def test_an_unexpected_error_is_an_internal_error_and_the_next_dip_runs():
    sequencer, port, clock, log = _sequencer()
    broken = threading.Event()

    def send(*_args):
        broken.set()
        raise RuntimeError('boom')

    original, port.send = port.send, send
    outcome = sequencer.run('full', -1, Goal(clock))
    assert outcome.code == DipErrorCode.INTERNAL_ERROR and outcome.message == 'boom'
    assert broken.is_set() and log.lines[-1][0] == 'error'
    port.send = original
    assert sequencer.run('quick', -1, Goal(clock)).success
