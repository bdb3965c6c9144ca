"""Dip sequencing without ROS: the sequencer's decisions against a scripted motion executor."""

from __future__ import annotations

import threading

import pytest

from calligraphy_model.cell_description import ink_well_in_paper
from ink_dipping.config import DipRoutineConfig
from ink_dipping.errors import DipError, DipErrorCode
from ink_dipping.routine import PHASES, dip_routine
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


class Motion:
    """A scripted executor motion: done after `takes_s`, with `result`."""

    def __init__(self, port, segment, takes_s: float, result: MotionResult | None) -> None:
        self.port, self.segment = port, segment
        self.accepted = result is not None or port.accept
        self.point_index = -1
        self._done_at = port.clock.t + takes_s
        self._result = result or MotionResult(True)
        self.canceled = False

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
        self.sent: list[tuple[str, bool, bool, int]] = []
        self.motions: list[Motion] = []

    def wait_for_server(self, timeout_s: float) -> bool:
        return self.server

    def send(self, segment, skip_approach, skip_retreat, what):
        self.sent.append((segment.phase, skip_approach, skip_retreat, len(segment.x_m)))
        motion = Motion(self, segment, self.takes_s, self.results.get(segment.phase))
        motion.accepted = self.accept
        motion.point_index = len(segment.x_m) // 2
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


def test_a_full_dip_runs_every_phase_as_one_motion_each_and_reports_the_measured_load():
    sequencer, port, clock, _ = _sequencer()
    # The load measured as the brush goes: full once it has soaked, 0.88 once it has wiped.
    phases = lambda: [s[0] for s in port.sent]  # noqa: E731
    clock.on_tick = lambda: sequencer.on_ink_load(
        0.88 if 'retreat' in phases() else 1.0 if 'rise' in phases() else 0.1
    )
    goal = Goal(clock)
    outcome = sequencer.run('', -1, goal)  # '' = full
    assert outcome.success and outcome.code == DipErrorCode.SUCCESS
    assert outcome.ink_load == pytest.approx(0.88)
    assert [s[0] for s in port.sent] == list(PHASES)
    # Only the first motion approaches, only the last retreats: the brush does not rise between.
    assert [s[1] for s in port.sent] == [False] + [True] * 5
    assert [s[2] for s in port.sent] == [True] * 5 + [False]
    assert [f[0] for f in goal.feedback_seen] == [*PHASES, 'retreat']
    assert goal.feedback_seen[-1][1] == 1.0
    assert [f[1] for f in goal.feedback_seen[:-1]] == [i / 6 for i in range(6)]


def test_a_load_measurement_behind_the_arm_is_waited_for_until_it_shows_the_soak():
    # The sheet simulation lags the arm: until 1.2 s after the last motion it still reports the
    # dry brush, then the soak (full) and the wipe. The result is the wipe's reading, not the
    # stale one a fixed short wait would have taken.
    sequencer, port, clock, _ = _sequencer()
    readings = {'end': None}

    def tick():
        if not port.sent:
            return
        if len(port.sent) == len(PHASES) and readings['end'] is None:
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
    assert not port.sent[0][1] and len(port.sent) == len(
        dip_routine(WELL, DipRoutineConfig(), 'quick')
    )


def test_cancel_at_the_well_cancels_the_motion_and_rises_clear_of_the_rim():
    sequencer, port, clock, _ = _sequencer()
    goal = Goal(clock, cancel_at_s=2.5)  # during the dwell (third motion)
    outcome = sequencer.run('full', -1, goal)
    assert outcome.code == DipErrorCode.CANCELED and 'dwell' in outcome.message
    assert port.motions[2].canceled
    # Then one more motion: up to the dip's safe height, where the brush was.
    phase, skip_approach, skip_retreat, points = port.sent[-1]
    assert (phase, skip_approach, skip_retreat, points) == ('retreat', True, True, 1)
    clear = port.motions[-1].segment
    assert -clear.pressing_depth_m[0] == pytest.approx(DipRoutineConfig().safe_height_m)
    # Above the last point the executor reported reached (the scripted motion: the middle).
    dwell, reached = port.motions[2].segment, port.motions[2].point_index
    assert (clear.x_m[0], clear.y_m[0]) == (dwell.x_m[reached], dwell.y_m[reached])


def test_cancel_during_the_approach_leaves_the_lift_to_the_executor():
    sequencer, port, clock, _ = _sequencer()
    outcome = sequencer.run('full', -1, Goal(clock, cancel_at_s=0.5))
    assert outcome.code == DipErrorCode.CANCELED and 'approach' in outcome.message
    assert [s[0] for s in port.sent] == ['approach']


def test_failed_motions_map_to_unreachable_or_execution_failed():
    sequencer, port, clock, _ = _sequencer()
    port.results['descend'] = MotionResult(False, 'out of reach', unreachable=True)
    outcome = sequencer.run('full', -1, Goal(clock))
    assert outcome.code == DipErrorCode.INK_WELL_UNREACHABLE
    assert outcome.message == 'descend: out of reach'
    port.results = {'wipe': MotionResult(False, 'tracking error')}
    outcome = sequencer.run('full', -1, Goal(clock))
    assert outcome.code == DipErrorCode.EXECUTION_FAILED and outcome.message.startswith('wipe')
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
