"""Joint trajectories and how a position-controlled arm follows them (no ROS).

Mirrors what ros2_control's joint_trajectory_controller does with a `JointTrajectory`:

- a trajectory starts at its start time (the message stamp, or on arrival when the stamp is zero)
  and replaces the active one from that moment on;
- when its first point lies after the start, the segment before it is interpolated from the state
  commanded at the start, so the arm never jumps;
- between points it uses a quintic spline when positions, velocities and accelerations are given,
  a cubic one with positions and velocities, and linear interpolation with positions only;
- after the last point it holds the last position.

Units: seconds, radians, rad/s, rad/s².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calligraphy_model.errors import CalligraphyError

# TrajectoryAck carries no error code (accepted = false and the reason): one code for the cell.
TRAJECTORY_REJECTED = 1


class TrajectoryRejectedError(CalligraphyError, ValueError):
    """A trajectory the arm cannot follow (names, sizes, times or values wrong); a ValueError
    too, as before the error base existed."""

    def __init__(self, message: str) -> None:
        super().__init__(TRAJECTORY_REJECTED, message)


@dataclass(frozen=True)
class JointTrajectory:
    """Timed joint-space waypoints, `time_from_start_s` (N,) and (N, J) arrays per quantity."""

    joint_names: tuple[str, ...]
    time_from_start_s: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray | None = None
    accelerations: np.ndarray | None = None

    @property
    def duration_s(self) -> float:
        return float(self.time_from_start_s[-1]) if len(self.time_from_start_s) else 0.0


def reorder(trajectory: JointTrajectory, joint_names: tuple[str, ...]) -> JointTrajectory:
    """Check `trajectory` against the arm's joints and return it in `joint_names` order.

    Raises:
        TrajectoryRejectedError: with a message naming what is wrong.
    """
    names = tuple(trajectory.joint_names)
    if sorted(names) != sorted(joint_names) or len(set(names)) != len(names):
        raise TrajectoryRejectedError(
            f'trajectory joints {list(names)} are not the arm joints {list(joint_names)}'
        )
    times = np.asarray(trajectory.time_from_start_s, dtype=float)
    count = len(times)
    if count == 0:
        raise TrajectoryRejectedError('trajectory has no points')
    if np.any(times < 0.0) or np.any(np.diff(times) <= 0.0) or not np.all(np.isfinite(times)):
        raise TrajectoryRejectedError(
            'time_from_start must be non-negative and strictly increasing'
        )
    order = [names.index(name) for name in joint_names]

    def pick(values: np.ndarray | None, what: str, required: bool) -> np.ndarray | None:
        if values is None or (not required and np.asarray(values).size == 0):
            if required:
                raise TrajectoryRejectedError(f'trajectory has no {what}')
            return None
        array = np.asarray(values, dtype=float)
        if array.shape != (count, len(names)):
            raise TrajectoryRejectedError(
                f'{what} must be {count} points x {len(names)} joints, got {array.shape}'
            )
        if not np.all(np.isfinite(array)):
            raise TrajectoryRejectedError(f'{what} contain non-finite values')
        return array[:, order]

    return JointTrajectory(
        joint_names=tuple(joint_names),
        time_from_start_s=times,
        positions=pick(trajectory.positions, 'positions', True),
        velocities=pick(trajectory.velocities, 'velocities', False),
        accelerations=pick(trajectory.accelerations, 'accelerations', False),
    )


def _hermite(
    tau: float,
    duration: float,
    p0: np.ndarray,
    p1: np.ndarray,
    v0: np.ndarray | None,
    v1: np.ndarray | None,
    a0: np.ndarray | None,
    a1: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Position, velocity, acceleration at `tau` in [0, duration] of one spline segment."""
    s = tau / duration
    if v0 is None or v1 is None:
        velocity = (p1 - p0) / duration
        return p0 + s * (p1 - p0), velocity, np.zeros_like(p0)
    if a0 is None or a1 is None:
        # Cubic Hermite: value and slope at both ends.
        h = duration
        c2 = (3.0 * (p1 - p0) - h * (2.0 * v0 + v1)) / h**2
        c3 = (2.0 * (p0 - p1) + h * (v0 + v1)) / h**3
        position = p0 + v0 * tau + c2 * tau**2 + c3 * tau**3
        velocity = v0 + 2.0 * c2 * tau + 3.0 * c3 * tau**2
        return position, velocity, 2.0 * c2 + 6.0 * c3 * tau
    # Quintic: value, slope and curvature at both ends.
    h = duration
    dp = p1 - p0
    c3 = (20.0 * dp - (8.0 * v1 + 12.0 * v0) * h - (3.0 * a0 - a1) * h**2) / (2.0 * h**3)
    c4 = (-30.0 * dp + (14.0 * v1 + 16.0 * v0) * h + (3.0 * a0 - 2.0 * a1) * h**2) / (2.0 * h**4)
    c5 = (12.0 * dp - 6.0 * (v1 + v0) * h - (a0 - a1) * h**2) / (2.0 * h**5)
    position = p0 + v0 * tau + 0.5 * a0 * tau**2 + c3 * tau**3 + c4 * tau**4 + c5 * tau**5
    velocity = v0 + a0 * tau + 3.0 * c3 * tau**2 + 4.0 * c4 * tau**3 + 5.0 * c5 * tau**4
    acceleration = a0 + 6.0 * c3 * tau + 12.0 * c4 * tau**2 + 20.0 * c5 * tau**3
    return position, velocity, acceleration


class _ActiveTrajectory:
    def __init__(
        self,
        trajectory: JointTrajectory,
        start_time_s: float,
        position: np.ndarray,
        velocity: np.ndarray,
    ) -> None:
        times = trajectory.time_from_start_s
        positions = trajectory.positions
        velocities = trajectory.velocities
        accelerations = trajectory.accelerations
        if times[0] > 0.0:
            # Bridge from the state commanded when the trajectory takes over.
            times = np.concatenate([[0.0], times])
            positions = np.vstack([position, positions])
            if velocities is not None:
                velocities = np.vstack([velocity, velocities])
            if accelerations is not None:
                accelerations = np.vstack([np.zeros_like(position), accelerations])
        self.start_time_s = start_time_s
        self.times = times
        self.positions = positions
        self.velocities = velocities
        self.accelerations = accelerations

    @property
    def end_time_s(self) -> float:
        return self.start_time_s + float(self.times[-1])

    def sample(self, time_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        tau = time_s - self.start_time_s
        last = len(self.times) - 1
        if tau >= self.times[last]:
            zeros = np.zeros_like(self.positions[last])
            return self.positions[last].copy(), zeros, zeros
        tau = max(tau, float(self.times[0]))
        k = int(np.searchsorted(self.times, tau, side='right')) - 1
        k = min(max(k, 0), last - 1)

        def row(values: np.ndarray | None, index: int) -> np.ndarray | None:
            return None if values is None else values[index]

        return _hermite(
            tau - self.times[k],
            self.times[k + 1] - self.times[k],
            self.positions[k],
            self.positions[k + 1],
            row(self.velocities, k),
            row(self.velocities, k + 1),
            row(self.accelerations, k),
            row(self.accelerations, k + 1),
        )


class TrajectoryFollower:
    """The setpoint generator of a joint trajectory controller.

    `sample(time_s)` gives the commanded position, velocity and acceleration at that time; a new
    trajectory replaces the active one at its start time.
    """

    def __init__(self, joint_names: tuple[str, ...], initial_positions: np.ndarray) -> None:
        self.joint_names = tuple(joint_names)
        self._hold = np.asarray(initial_positions, dtype=float).copy()
        self._active: _ActiveTrajectory | None = None
        self._pending: tuple[JointTrajectory, float] | None = None
        self._last = (self._hold.copy(), np.zeros_like(self._hold), np.zeros_like(self._hold))

    def set_trajectory(self, trajectory: JointTrajectory, start_time_s: float) -> None:
        """Queue `trajectory` to take over at `start_time_s` (checked now; raises if invalid).

        An empty trajectory (no points) stops the arm where it is commanded now, as
        joint_trajectory_controller does.
        """
        if len(trajectory.time_from_start_s) == 0:
            self._hold = self._last[0].copy()
            self._active = None
            self._pending = None
            return
        self._pending = (reorder(trajectory, self.joint_names), start_time_s)

    @property
    def busy_until_s(self) -> float:
        """Sim time at which the active (or queued) trajectory ends; -inf when holding."""
        if self._pending is not None:
            return self._pending[1] + self._pending[0].duration_s
        return self._active.end_time_s if self._active is not None else -np.inf

    def holds_at(self, time_s: float) -> bool:
        """Whether the setpoint stays the same from `time_s` on until a new trajectory is set:
        none queued, and the active one (if any) ended."""
        if self._pending is not None:
            return False
        return self._active is None or time_s >= self._active.end_time_s

    def sample(self, time_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._pending is not None and time_s >= self._pending[1]:
            trajectory, start = self._pending
            self._pending = None
            # Bridge from the state the old trajectory commands at the take-over instant.
            if self._active is not None:
                self._last = self._active.sample(start)
            self._active = _ActiveTrajectory(trajectory, start, self._last[0], self._last[1])
        if self._active is None:
            zeros = np.zeros_like(self._hold)
            self._last = (self._hold.copy(), zeros, zeros)
        else:
            self._last = self._active.sample(time_s)
        return self._last
