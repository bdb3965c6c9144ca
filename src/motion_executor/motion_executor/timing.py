"""Time parametrisation of the moves around a stroke (no ROS).

Travel and vertical moves are jerk-limited, time-optimal rest-to-rest profiles from ruckig, within
the configured velocity, acceleration and jerk limits. The writing segment keeps the brush path's
own timing; `joint_rates` differentiates it so the controller gets velocities and accelerations
and `check_joint_rates` rejects a path whose timing the joints cannot follow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ruckig import InputParameter, Result, Ruckig, Trajectory


@dataclass(frozen=True)
class Profile:
    """Samples of a timed move: times (N,), positions, velocities and accelerations (N, D)."""

    time_s: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    accelerations: np.ndarray

    @property
    def duration_s(self) -> float:
        return float(self.time_s[-1])


def rest_to_rest(
    start: np.ndarray,
    goal: np.ndarray,
    max_velocity: np.ndarray,
    max_acceleration: np.ndarray,
    max_jerk: np.ndarray,
    sample_period_s: float,
) -> Profile:
    """Time-optimal jerk-limited rest-to-rest move from `start` to `goal`, axes synchronised.

    Returns at least two samples (start and goal) even when they coincide.
    """
    start = np.atleast_1d(np.asarray(start, dtype=float))
    goal = np.atleast_1d(np.asarray(goal, dtype=float))
    dofs = len(start)
    generator = Ruckig(dofs)
    request = InputParameter(dofs)
    request.current_position = start.tolist()
    request.current_velocity = [0.0] * dofs
    request.current_acceleration = [0.0] * dofs
    request.target_position = goal.tolist()
    request.target_velocity = [0.0] * dofs
    request.target_acceleration = [0.0] * dofs
    request.max_velocity = np.broadcast_to(max_velocity, (dofs,)).tolist()
    request.max_acceleration = np.broadcast_to(max_acceleration, (dofs,)).tolist()
    request.max_jerk = np.broadcast_to(max_jerk, (dofs,)).tolist()
    trajectory = Trajectory(dofs)
    result = generator.calculate(request, trajectory)
    if result not in (Result.Working, Result.Finished):
        raise ValueError(f'ruckig could not time the move: {result}')
    duration = max(float(trajectory.duration), 0.0)
    count = max(2, int(np.ceil(duration / sample_period_s)) + 1)
    times = np.linspace(0.0, duration, count)
    samples = [trajectory.at_time(t) for t in times]
    positions = np.array([s[0] for s in samples])
    velocities = np.array([s[1] for s in samples])
    accelerations = np.array([s[2] for s in samples])
    positions[-1] = goal
    velocities[-1] = 0.0
    accelerations[-1] = 0.0
    if duration == 0.0:
        times = np.array([0.0, sample_period_s])
    return Profile(times, positions, velocities, accelerations)


def joint_rates(time_s: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Velocities and accelerations of timed joint samples by second-order finite differences."""
    if len(time_s) < 3:
        velocities = np.zeros_like(positions)
        if len(time_s) == 2:
            velocities[:] = (positions[1] - positions[0]) / (time_s[1] - time_s[0])
        return velocities, np.zeros_like(positions)
    velocities = np.gradient(positions, time_s, axis=0)
    accelerations = np.gradient(velocities, time_s, axis=0)
    return velocities, accelerations


def check_joint_rates(
    velocities: np.ndarray,
    max_velocity: np.ndarray,
    joint_names: tuple[str, ...],
) -> str | None:
    """A readable reason when a joint would exceed its velocity limit, else None."""
    ratio = np.abs(velocities) / np.asarray(max_velocity)
    if np.all(ratio <= 1.0):
        return None
    point, joint = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    return (
        f'the path timing needs {abs(velocities[point, joint]):.2f} rad/s on {joint_names[joint]} '
        f'at point {point}, above its limit of {max_velocity[joint]:.2f} rad/s '
        '(slow the path down with time_scale > 1)'
    )


def time_above(time_s: np.ndarray, heights: np.ndarray, clearance_m: float) -> float | None:
    """Of a move whose tip heights at `time_s` go down below `clearance_m`: the time of its last
    sample still above it (0 when it starts below); None when it never goes below."""
    low = np.nonzero(np.asarray(heights) < clearance_m)[0]
    if not low.size:
        return None
    return float(time_s[low[0] - 1]) if low[0] > 0 else 0.0


def blended_hop_profile(
    distance_m: float,
    start_z: float,
    end_z: float,
    limits: tuple[float, float, float],
    clearance_m: float,
    sample_period_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A tip move over `distance_m` in a straight line while its height goes from `start_z` to
    `end_z`, each a rest-to-rest profile at `limits` (speed, acceleration, jerk); the height
    starts so that its last sample above `clearance_m` falls when the travel ends (at once when
    it never goes below it: a rise, or a hover point). Returns times (N,), the fraction of the
    distance covered and the height at each."""
    along = rest_to_rest(np.zeros(1), np.array([distance_m]), *limits, sample_period_s)
    height = rest_to_rest(np.array([start_z]), np.array([end_z]), *limits, sample_period_s)
    above_until = time_above(height.time_s, height.positions[:, 0], clearance_m)
    delay = max(0.0, along.duration_s - above_until) if above_until is not None else 0.0
    duration = max(along.duration_s, delay + height.duration_s)
    times = np.linspace(0.0, duration, max(2, int(np.ceil(duration / sample_period_s)) + 1))
    covered = np.interp(times, along.time_s, along.positions[:, 0])
    if distance_m > 1e-9:
        fraction = covered / distance_m
    else:
        fraction = np.clip(times / max(duration, 1e-9), 0.0, 1.0)
    return times, fraction, np.interp(times - delay, height.time_s, height.positions[:, 0])


def lift_hop_profile(
    distance_m: float,
    start_z: float,
    apex_z: float,
    end_z: float,
    limits: tuple[float, float, float],
    clearance_m: float,
    sample_period_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A tip move from one stroke's end to the next stroke's start without a stop in the air: the
    height rises from `start_z` to `apex_z`, holds, and falls to `end_z` (each a rest-to-rest
    profile at `limits`); the travel along the line over `distance_m` (one rest-to-rest profile)
    begins once the height is above `clearance_m` and ends before it goes below it again. Where
    a stop at the apex took a rise, then a travel from rest: the travel overlaps the rise's upper
    part and the fall's upper part. Returns times (N,), the fraction of the distance covered and
    the height at each."""
    rise = rest_to_rest(np.array([start_z]), np.array([apex_z]), *limits, sample_period_s)
    fall = rest_to_rest(np.array([apex_z]), np.array([end_z]), *limits, sample_period_s)
    along = rest_to_rest(np.zeros(1), np.array([distance_m]), *limits, sample_period_s)
    clear = np.nonzero(rise.positions[:, 0] >= clearance_m)[0]
    leave = float(rise.time_s[clear[0]]) if clear.size else rise.duration_s
    above_until = time_above(fall.time_s, fall.positions[:, 0], clearance_m)
    if above_until is None:
        above_until = fall.duration_s
    fall_at = max(rise.duration_s, leave + along.duration_s - above_until)
    duration = fall_at + fall.duration_s
    times = np.linspace(0.0, duration, max(2, int(np.ceil(duration / sample_period_s)) + 1))
    covered = np.interp(times - leave, along.time_s, along.positions[:, 0])
    if distance_m > 1e-9:
        fraction = covered / distance_m
    else:
        fraction = np.zeros_like(times)
    height = np.where(
        times <= fall_at,
        np.interp(times, rise.time_s, rise.positions[:, 0]),
        np.interp(times - fall_at, fall.time_s, fall.positions[:, 0]),
    )
    return times, fraction, height
