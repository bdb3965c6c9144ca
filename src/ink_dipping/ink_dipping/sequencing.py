"""Dip sequencing: one dip goal from its checks to the brush back at the travel height (no ROS).

`DipSequencer` decides everything the dip node does with a goal: it refuses a bad mode
(INVALID_MODE), a wipe count out of bounds (INVALID_ARGUMENT) and a dip while a stroke is written
or another dip runs (BUSY_WRITING); it runs the routine's phases (approach, descend, dwell,
rise, wipe, retreat) as one motion, reporting each phase as the executor's feedback reaches it
(one goal, where six made the arm settle and wait for the next goal five times: about 0.5 s of
robot time a dip); it maps a failed motion to
INK_WELL_UNREACHABLE or EXECUTION_FAILED and a motion that never ends to EXECUTION_FAILED; on a
cancel it cancels the running motion (the executor lifts the brush) and, once the brush was at
the well, raises it to the dip's safe height above where it was, clear of the rim (CANCELED).

It gets everything from plain calls: the writer's state (`on_writing`), the measured ink load
(`on_ink_load`), a MotionPort (the node's client of the motion executor), per goal a DipGoal for
feedback and cancel, and the wall clock and sleep (callables, real by default).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from calligraphy_model.cell_description import InkWellGeometry
from ink_dipping.config import DIP_MODES, DipRoutineConfig
from ink_dipping.errors import DipError, DipErrorCode
from ink_dipping.routine import DipPath, DipSegment, dip_routine, join_routine

# The result reports the ink load measured at the dip's end. A sheet simulation behind the arm on a
# loaded machine still reports the load from before the dip (seconds behind, in CI), so the
# result waits for the readings the dip must cause: every dip soaks the brush full (a reading of
# at least SOAKED_LOAD), and a wipe over the rim then takes the load below it. The wait ends on
# those readings, or after LOAD_SETTLE_TIMEOUT_S (wall clock) with the last reading and a warning.
SOAKED_LOAD = 0.99
LOAD_SETTLE_TIMEOUT_S = 15.0
# How long a motion goal, and a cancel, may take to be answered (s).
ANSWER_TIMEOUT_S = 10.0
# How long the motion executor may take to appear (s).
SERVER_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class MotionResult:
    """How one motion ended; `unreachable`: the executor found the path out of reach."""

    success: bool
    message: str = ''
    unreachable: bool = False


class MotionHandle(Protocol):
    """A motion goal sent to the executor."""

    accepted: bool

    @property
    def point_index(self) -> int:
        """The last path point the executor reported reached (-1 before any)."""

    def done(self) -> bool: ...

    def result(self) -> MotionResult:
        """Once done."""

    def wait_result(self, timeout_s: float, what: str) -> MotionResult:
        """DipError EXECUTION_FAILED '{what}: no answer' after `timeout_s`."""

    def cancel(self, timeout_s: float | None, what: str) -> None:
        """Cancel; wait up to `timeout_s` for the answer (None: do not wait)."""


class MotionPort(Protocol):
    """The node's client of /execute_brush_path."""

    def wait_for_server(self, timeout_s: float) -> bool: ...

    def send(
        self, segment: DipSegment, skip_approach: bool, skip_retreat: bool, what: str
    ) -> MotionHandle:
        """Send `segment` as a brush path; DipError EXECUTION_FAILED '{what}: no answer' when
        the goal is not answered within ANSWER_TIMEOUT_S."""


class DipGoal(Protocol):
    def feedback(self, phase: str, progress: float) -> None: ...

    def cancel_requested(self) -> bool: ...


class Log(Protocol):
    def warning(self, message: str) -> None: ...

    def error(self, message: str) -> None: ...


@dataclass(frozen=True)
class DipOutcome:
    code: DipErrorCode
    message: str = ''
    ink_load: float = 0.0

    @property
    def success(self) -> bool:
        return self.code == DipErrorCode.SUCCESS


class DipSequencer:
    """Runs dips one at a time at `well` (thread-safe)."""

    def __init__(
        self,
        well: InkWellGeometry,
        routine: DipRoutineConfig,
        motion: MotionPort,
        log: Log,
        max_wipe_count: int = 10,
        wipe_target_load: float = 0.9,
        motion_timeout_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.well = well
        self.routine = routine
        self.motion = motion
        self.log = log
        self.max_wipe_count = max_wipe_count
        self.wipe_target_load = wipe_target_load
        self.motion_timeout_s = motion_timeout_s
        self.clock = clock
        self.sleep = sleep
        self.writing = False
        self.ink_load: float | None = None
        self._soak_seen = False
        self._wiped_after_soak = False
        self._busy = threading.Lock()
        self._handle: MotionHandle | None = None
        self._reported = -1  # the last phase of the running dip reported in feedback

    def on_writing(self, writing: bool) -> None:
        self.writing = bool(writing)

    def on_ink_load(self, load: float) -> None:
        self.ink_load = float(load)
        if self.ink_load >= SOAKED_LOAD:
            self._soak_seen = True
        elif self._soak_seen:
            self._wiped_after_soak = True

    def run(self, mode: str, wipe_count: int, goal: DipGoal) -> DipOutcome:
        """One dip goal to its outcome (mode '' = full); never raises."""
        mode = mode or 'full'
        try:
            if mode not in DIP_MODES:
                raise DipError(DipErrorCode.INVALID_MODE, f'mode must be one of {DIP_MODES}')
            if not -1 <= wipe_count <= self.max_wipe_count:
                raise DipError(
                    DipErrorCode.INVALID_ARGUMENT,
                    f'wipe_count must lie in -1 (the mode default) .. {self.max_wipe_count}, '
                    f'got {wipe_count}',
                )
            if self.writing:
                raise DipError(DipErrorCode.BUSY_WRITING, 'a stroke is being written')
            if not self._busy.acquire(blocking=False):
                raise DipError(DipErrorCode.BUSY_WRITING, 'another dip is running')
            try:
                self.ink_load, self._soak_seen, self._wiped_after_soak = None, False, False
                wipes = self._dip(goal, mode, wipe_count)
                self._wait_for_the_dips_readings(wipes)
                measured = self.ink_load
            finally:
                self._busy.release()
        except DipError as error:
            self.log.warning(f'dip: {error.message}')
            return DipOutcome(error.code, error.message)
        except Exception as error:  # noqa: BLE001 - a bad goal must never take the node down
            self.log.error(f'dip failed: {error!r}')
            return DipOutcome(DipErrorCode.INTERNAL_ERROR, str(error))
        return DipOutcome(
            DipErrorCode.SUCCESS,
            ink_load=measured if measured is not None else self.wipe_target_load,
        )

    def _wait_for_the_dips_readings(self, wipes: int) -> None:
        """Wait until the measured load has shown the soak and, after `wipes` > 0, a wipe, where
        a measurement is coming at all (up to LOAD_SETTLE_TIMEOUT_S)."""
        if self.ink_load is None:
            return

        def settled() -> bool:
            return self._soak_seen and (wipes == 0 or self._wiped_after_soak)

        deadline = self.clock() + LOAD_SETTLE_TIMEOUT_S
        while not settled() and self.clock() < deadline:
            self.sleep(0.02)
        if not settled():
            shown = 'soak and wipe' if wipes else 'soak'
            self.log.warning(
                f'dip: the measured ink load did not show the {shown}'
                f' within {LOAD_SETTLE_TIMEOUT_S:g} s; reporting the last reading '
                f'({self.ink_load:.2f})'
            )

    def _dip(self, goal: DipGoal, mode: str, wipe_count: int) -> int:
        """Run the dip's motion; the number of wipe segments it ran (one holds all the wipes
        over the rim; 0: the dip did not wipe)."""
        segments = dip_routine(self.well, self.routine, mode, wipe_count)
        path = join_routine(segments)
        if not self.motion.wait_for_server(SERVER_TIMEOUT_S):
            raise DipError(DipErrorCode.EXECUTION_FAILED, '/execute_brush_path not available')
        self._reported = -1
        try:
            self._run_motion(goal, path)
        except DipError as error:
            # Past the approach the brush is at the well: raise it clear of the rim.
            if error.code == DipErrorCode.CANCELED and self._reached(path) > 0:
                self._clear_the_well(path.segment)
            raise
        self._report(goal, path, len(segments) - 1)
        goal.feedback('retreat', 1.0)
        return sum(segment.phase == 'wipe' for segment in segments)

    def _reached(self, path: DipPath) -> int:
        """The phase of the last point the executor reported reached (0 before the path)."""
        return path.phase_index(self._handle.point_index if self._handle is not None else -1)

    def _report(self, goal: DipGoal, path: DipPath, phase: int) -> None:
        """Feedback for every phase begun up to `phase` and not yet reported, in order (the
        executor's feedback may skip a short phase)."""
        for index in range(self._reported + 1, phase + 1):
            goal.feedback(path.phases[index], index / len(path.phases))
        self._reported = max(self._reported, phase)

    def _run_motion(self, goal: DipGoal, path: DipPath) -> None:
        self._handle = None
        self._report(goal, path, 0)
        # The executor approaches the well and, after the routine, lifts to its own safe height.
        handle = self.motion.send(path.segment, False, False, path.phases[0])
        self._handle = handle
        if not handle.accepted:
            raise DipError(DipErrorCode.EXECUTION_FAILED, 'dip: motion goal rejected')
        deadline = self.clock() + self.motion_timeout_s
        while not handle.done():
            self._report(goal, path, self._reached(path))
            phase = path.phases[self._reported]
            if goal.cancel_requested():
                # The executor lifts the brush before it answers the cancel.
                handle.cancel(ANSWER_TIMEOUT_S, 'cancel')
                handle.wait_result(self.motion_timeout_s, 'lift after cancel')
                raise DipError(DipErrorCode.CANCELED, f'canceled during {phase}')
            if self.clock() > deadline:
                handle.cancel(None, phase)
                raise DipError(DipErrorCode.EXECUTION_FAILED, f'{phase}: timed out')
            self.sleep(0.01)
        # A path refused before it started (out of reach) is the dip's, not the approach's.
        phase = path.phases[self._reached(path)] if handle.point_index >= 0 else 'dip'
        result = handle.result()
        if not result.success:
            code = (
                DipErrorCode.INK_WELL_UNREACHABLE
                if result.unreachable
                else DipErrorCode.EXECUTION_FAILED
            )
            raise DipError(code, f'{phase}: {result.message}')

    def _clear_the_well(self, segment: DipSegment) -> None:
        """After a cancel at the well: rise to the dip's safe height above where the brush was.

        The executor's own lift goes to its safe height, which need not clear the rim.
        """
        reached = self._handle.point_index if self._handle is not None else -1
        index = int(np.clip(reached, 0, len(segment.x_m) - 1))
        above = DipSegment(
            'retreat',
            segment.x_m[index : index + 1],
            segment.y_m[index : index + 1],
            np.array([-self.routine.safe_height_m]),
            np.array([0.0]),
        )
        try:
            handle = self.motion.send(above, True, True, 'clear')
            if handle.accepted:
                handle.wait_result(self.motion_timeout_s, 'clear the well')
        except DipError as error:
            self.log.error(f'could not raise the brush clear of the well: {error}')
