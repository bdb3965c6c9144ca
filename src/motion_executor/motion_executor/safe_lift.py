"""The brush's safe state: lifts after an abort, on request (lift_brush) and by the idle
watchdog (no ROS; part of the motion supervisor)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from motion_executor.errors import MotionError, MotionErrorCode
from motion_executor.tracking import TrackingMonitor

if TYPE_CHECKING:
    from motion_executor.supervision import JointSample, MotionSupervisor

# How far below the safe height a lifted tip may end (the arm's goal tolerance), metres.
SAFE_HEIGHT_TOLERANCE_M = 0.002
# How long a goal waits for a lift already under way (service or watchdog), seconds.
LIFT_WAIT_S = 30.0


class SafeLift:
    """Lifts the brush vertically to the safe height for its supervisor."""

    def __init__(self, supervisor: MotionSupervisor) -> None:
        self._s = supervisor

    def wait_for_idle_lift(self) -> None:
        """A goal accepted while the node lifts the brush on its own starts after the lift."""
        s = self._s
        deadline = s.clock() + LIFT_WAIT_S
        while s.clock() < deadline:
            with s.lock:
                if not s.lifting:
                    s.idle_since = None
                    return
            s.sleep(0.02)
        raise MotionError(
            MotionErrorCode.CONTROLLER_UNAVAILABLE,
            f'a lift of the brush did not finish within {LIFT_WAIT_S:.0f} s',
        )

    def on_request(self) -> tuple[bool, str]:
        """The lift_brush service: refused while a goal runs or a lift is under way."""
        s = self._s
        with s.lock:
            if s.busy or s.lifting:
                return False, (
                    'busy: a brush path is executing (cancel it; a cancel lifts the brush)'
                    if s.busy
                    else 'busy: the brush is already being lifted'
                )
            s.lifting = True
        try:
            lifted, message = self.to_safe_height()
        except Exception as error:  # noqa: BLE001 - a failed lift must never take the node down
            lifted, message = False, f'internal error: {error}'
        finally:
            with s.lock:
                s.lifting = False
        s.log.info(f'lift_brush: {message}')
        return lifted, message

    def on_idle_tick(self) -> None:
        """Lift a brush left below the safe height idle_lift_timeout_s after the last goal."""
        s = self._s
        timeout = s.config.idle_lift_timeout_s
        with s.lock:
            since = s.idle_since
            if s.busy or s.lifting or since is None or s.clock() - since < timeout:
                return
            s.lifting = True
            s.idle_since = None
        try:
            lifted, message = self.to_safe_height()
            if lifted and message.startswith('lifted'):
                s.log.warning(
                    f'no goal for {timeout:g} s with the brush below the safe height: {message}'
                )
            elif not lifted:
                s.log.error(f'idle watchdog could not lift the brush: {message}')
        except Exception as error:  # noqa: BLE001 - the watchdog must never take the node down
            s.log.error(f'idle watchdog failed: {error!r}')
        finally:
            with s.lock:
                s.lifting = False

    def _tip_height_m(self, sample: JointSample) -> float:
        return float(self._s.backend.planner.tip_in_paper(sample.positions)[2])

    def to_safe_height(self) -> tuple[bool, str]:
        """Lift the brush vertically from where the arm is; (arrived, what happened)."""
        s = self._s
        latest = s.fresh_latest()
        if latest is None:
            return False, (
                'no /joint_states with all arm joints within the last '
                f'{s.config.joint_state_timeout_s:g} s: the arm position is unknown'
            )
        safe = s.config.safe_height_m
        before = self._tip_height_m(latest)
        if before >= safe - SAFE_HEIGHT_TOLERANCE_M:
            return True, (
                f'the brush is already at {before * 1e3:.1f} mm, at or above the safe height of '
                f'{safe * 1e3:.0f} mm'
            )
        try:
            s.backend.plan_lift(latest.positions)
        except MotionError as error:
            return False, f'cannot lift: {error.message}'
        self.lift(latest.positions, wait=True)
        with s.lock:
            after = self._tip_height_m(s.latest) if s.latest else before
        if after < safe - SAFE_HEIGHT_TOLERANCE_M:
            return False, (
                f'the lift did not arrive: the tip is at {after * 1e3:.1f} mm, the safe height is '
                f'{safe * 1e3:.0f} mm'
            )
        return True, f'lifted the brush from {before * 1e3:.1f} mm to {after * 1e3:.1f} mm'

    def lift(self, from_positions: np.ndarray | None, wait: bool) -> None:
        """Plan and send a lift from `from_positions` (None: nothing); with `wait`, until the arm
        arrives or the lift's timeout passes."""
        s = self._s
        if from_positions is None:
            return
        try:
            plan = s.backend.plan_lift(from_positions)
        except MotionError as error:
            s.log.error(f'could not plan the lift: {error}')
            return
        try:
            start = s.send(plan, is_lift=True, wait_ack=wait)
        except MotionError as error:
            s.log.error(f'could not lift the brush: {error}')
            return
        if not wait:
            return
        monitor = TrackingMonitor(plan, s.backend.planner)
        # A slowed-down arm (speed scaling) takes longer; a paused one (0 %) is given 20x.
        deadline = s.clock() + 5.0 + 3.0 * plan.duration_s / max(s.speed_fraction, 0.05)
        while s.clock() < deadline:
            s.sleep(1.0 / s.config.feedback_rate_hz)
            with s.lock:
                latest = s.latest
            if latest and monitor.arrived(
                latest.stamp_s - start, latest.positions, s.config.goal_tolerance_rad
            ):
                return
        s.log.warning('the lift did not finish within its timeout')
