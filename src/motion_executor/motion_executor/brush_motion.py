"""Brush motion: a timed brush path on the sheet, the limits of the arm's motion, and the timed
joint trajectory (plan) the brush motion planner makes of them (no ROS).

A plan has up to five phases: `approach` (rise to the travel height if below it, then travel to
above the first point), a vertical descent to the first point, `writing` (the path with its own
timing), and `retreat` (a vertical rise to the retreat height). Both heights are the safe height
unless a goal asks for a lower hop. Descent and rise belong to the approach and retreat phases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from calligraphy_model.cell_description import SHEET_HEIGHT_M, SHEET_WIDTH_M
from motion_executor.errors import MotionError, MotionErrorCode
from motion_executor.timing import time_above

PHASE_APPROACH = 'approach'
PHASE_WRITING = 'writing'
PHASE_RETREAT = 'retreat'


@dataclass(frozen=True)
class BrushPathSpec:
    """A timed tip path in `paper` (metres, seconds, radians); tilts empty = upright."""

    x_m: np.ndarray
    y_m: np.ndarray
    pressing_depth_m: np.ndarray
    time_from_start_s: np.ndarray
    tilt_x_rad: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tilt_y_rad: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def point_count(self) -> int:
        return len(self.x_m)


@dataclass(frozen=True)
class BrushMotionConfig:
    """Limits and heights of brush motions (SI units)."""

    safe_height_m: float = 0.03
    max_pressing_depth_m: float = 0.008
    paper_width_m: float = SHEET_WIDTH_M
    paper_height_m: float = SHEET_HEIGHT_M
    # Travel (joint space): conservative fractions of the UR5e's 3.14 rad/s.
    joint_velocity_rad_s: float = 1.0
    joint_acceleration_rad_s2: float = 2.0
    joint_jerk_rad_s3: float = 20.0
    # Vertical descent / rise of the tip.
    vertical_speed_m_s: float = 0.05
    vertical_acceleration_m_s2: float = 0.5
    vertical_jerk_m_s3: float = 10.0
    travel_sample_period_s: float = 0.02
    vertical_sample_period_s: float = 0.01
    # Largest joint step between two consecutive writing points before it counts as a branch
    # change (the arm would swing instead of write).
    max_joint_step_rad: float = 0.25

    def __post_init__(self) -> None:
        if self.safe_height_m <= 0.0:
            raise ValueError('safe_height_m must be > 0 (above the sheet)')
        if self.max_pressing_depth_m < 0.0:
            raise ValueError('max_pressing_depth_m must be >= 0')
        for name in (
            'joint_velocity_rad_s',
            'joint_acceleration_rad_s2',
            'joint_jerk_rad_s3',
            'vertical_speed_m_s',
            'vertical_acceleration_m_s2',
            'vertical_jerk_m_s3',
            'travel_sample_period_s',
            'vertical_sample_period_s',
            'max_joint_step_rad',
        ):
            if getattr(self, name) <= 0.0:
                raise ValueError(f'{name} must be > 0')


@dataclass(frozen=True)
class MotionPlan:
    """A timed joint trajectory and the tip position it should produce in `paper`.

    Arrays: time_s (N,), positions / velocities / accelerations (N, 6), tip_in_paper (N, 3).
    `phases` lists (name, start_s, end_s); `path_time_s` gives each brush path point's time.
    """

    joint_names: tuple[str, ...]
    time_s: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    accelerations: np.ndarray
    tip_in_paper: np.ndarray
    phases: tuple[tuple[str, float, float], ...]
    path_time_s: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def duration_s(self) -> float:
        return float(self.time_s[-1])

    def phase_at(self, time_s: float) -> str:
        for name, start, end in self.phases:
            if start <= time_s < end:
                return name
        return self.phases[-1][0] if time_s >= 0.0 else self.phases[0][0]

    def writing_window(self) -> tuple[float, float] | None:
        windows = self.writing_windows()
        return windows[0] if windows else None

    def writing_windows(self) -> list[tuple[float, float]]:
        """(start, end) of every writing phase: one per path written."""
        return [(start, end) for name, start, end in self.phases if name == PHASE_WRITING]

    def tip_reference(self, time_s: float) -> np.ndarray:
        """Planned tip position in `paper` at `time_s` (linear between samples)."""
        return np.array(
            [np.interp(time_s, self.time_s, self.tip_in_paper[:, i]) for i in range(3)]
        )

    def positions_at(self, time_s: float) -> np.ndarray:
        return np.array([np.interp(time_s, self.time_s, self.positions[:, i]) for i in range(6)])

    def point_index_at(self, time_s: float) -> int:
        """Index of the last brush path point reached at `time_s` (-1 before writing)."""
        if len(self.path_time_s) == 0:
            return -1
        return int(np.searchsorted(self.path_time_s, time_s, side='right')) - 1


def validate_path(path: BrushPathSpec, config: BrushMotionConfig) -> None:
    """Reject a path before any motion: EMPTY_PATH, INVALID_PATH, OUTSIDE_PAPER, TOO_DEEP."""
    count = path.point_count
    if count == 0:
        raise MotionError(MotionErrorCode.EMPTY_PATH, 'the brush path has no points')
    arrays = {
        'y_m': path.y_m,
        'pressing_depth_m': path.pressing_depth_m,
        'time_from_start_s': path.time_from_start_s,
    }
    for name, values in arrays.items():
        if len(values) != count:
            raise MotionError(
                MotionErrorCode.INVALID_PATH, f'{name} has {len(values)} values, x_m has {count}'
            )
    for name in ('tilt_x_rad', 'tilt_y_rad'):
        if len(getattr(path, name)) not in (0, count):
            raise MotionError(
                MotionErrorCode.INVALID_PATH, f'{name} must be empty or have {count} values'
            )
    stacked = np.concatenate(
        [
            path.x_m,
            path.y_m,
            path.pressing_depth_m,
            path.time_from_start_s,
            path.tilt_x_rad,
            path.tilt_y_rad,
        ]
    )
    if not np.all(np.isfinite(stacked)):
        raise MotionError(
            MotionErrorCode.INVALID_PATH, 'the brush path has NaN or infinite values'
        )
    if np.any(np.diff(path.time_from_start_s) <= 0.0):
        raise MotionError(
            MotionErrorCode.INVALID_PATH, 'time_from_start_s must be strictly increasing'
        )
    if np.any(np.abs(np.concatenate([path.tilt_x_rad, path.tilt_y_rad])) > np.radians(30.0)):
        raise MotionError(MotionErrorCode.INVALID_PATH, 'brush tilt beyond 30 degrees')
    # Only contact must stay on the sheet: a brush touching outside it would ink the table. Points
    # in the air (d < 0) may go anywhere reachable, which is how the brush travels to the ink well.
    touching = path.pressing_depth_m >= 0.0
    outside = touching & (
        (path.x_m < 0.0)
        | (path.x_m > config.paper_width_m)
        | (path.y_m < 0.0)
        | (path.y_m > config.paper_height_m)
    )
    if np.any(outside):
        index = int(np.argmax(outside))
        raise MotionError(
            MotionErrorCode.OUTSIDE_PAPER,
            f'point {index} at ({path.x_m[index]:.4f}, {path.y_m[index]:.4f}) m lies outside the '
            f'{config.paper_width_m} x {config.paper_height_m} m sheet',
        )
    deepest = float(np.max(path.pressing_depth_m))
    if deepest > config.max_pressing_depth_m:
        index = int(np.argmax(path.pressing_depth_m))
        raise MotionError(
            MotionErrorCode.TOO_DEEP,
            f'point {index} presses {deepest * 1e3:.2f} mm deep, more than the configured '
            f'maximum of {config.max_pressing_depth_m * 1e3:.2f} mm',
        )


@dataclass
class PlanSegment:
    """One timed piece of a plan (approach, writing or retreat): times (N,) and joint samples."""

    phase: str
    time_s: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    accelerations: np.ndarray


def join_segments(
    segments: list[PlanSegment],
    sample_period_s: float,
    joint_names,
    tip_in_paper: Callable[[np.ndarray], np.ndarray],
) -> MotionPlan:
    """One MotionPlan from consecutive segments (a sample shared by two is kept once)."""
    times, positions, velocities, accelerations, phases = [], [], [], [], []
    path_time = np.zeros(0)
    offset = 0.0
    last = None  # the last joint sample joined so far
    for segment in segments:
        start_index = 0
        if last is not None and np.allclose(segment.positions[0], last, atol=1e-9):
            # The segment starts where the previous one ended: do not repeat the point.
            start_index = 1
        elif times:
            # A fresh segment starting elsewhere (never by construction) would jump.
            offset += sample_period_s
        segment_times = segment.time_s + offset
        if segment.phase == PHASE_WRITING:
            # The points of every path written, in order (a goal's then_paths follow its path).
            path_time = np.concatenate([path_time, segment_times])
        times.append(segment_times[start_index:])
        positions.append(segment.positions[start_index:])
        velocities.append(segment.velocities[start_index:])
        accelerations.append(segment.accelerations[start_index:])
        last = segment.positions[-1]
        end = float(segment_times[-1])
        if phases and phases[-1][0] == segment.phase:
            phases[-1] = (segment.phase, phases[-1][1], end)
        else:
            phases.append((segment.phase, float(segment_times[0]), end))
        offset = end
    all_positions = np.vstack(positions)
    all_times = np.concatenate(times)
    if len(all_times) == 1:
        # A single-point plan: hold it for one sample so the trajectory has a duration.
        all_times = np.array([0.0, sample_period_s])
        all_positions = np.vstack([all_positions, all_positions])
        velocities = [np.zeros((2, 6))]
        accelerations = [np.zeros((2, 6))]
        phases = [(phases[0][0], 0.0, float(all_times[-1]))]
    tips = np.array([tip_in_paper(q) for q in all_positions])
    return MotionPlan(
        joint_names=tuple(joint_names),
        time_s=all_times,
        positions=all_positions,
        velocities=np.vstack(velocities),
        accelerations=np.vstack(accelerations),
        tip_in_paper=tips,
        phases=tuple(phases),
        path_time_s=path_time,
    )


def overlap_segments(
    parts: list[PlanSegment], starts: list[float], sample_period_s: float, phase: str
) -> PlanSegment:
    """Consecutive rest-to-rest segments (each starting where the one before ends) run partly at
    the same time: part k starts at `starts[k]` s, and the joint displacements, velocities and
    accelerations of the parts add up. With no overlap this is the parts one after the other;
    each part's own profile is unchanged, so the sum ends where the last part ends, at rest."""
    end = max(start + float(part.time_s[-1]) for part, start in zip(parts, starts, strict=True))
    times = np.linspace(0.0, end, max(2, int(np.ceil(end / sample_period_s)) + 1))
    positions = np.repeat(parts[0].positions[:1], len(times), axis=0)
    velocities = np.zeros_like(positions)
    accelerations = np.zeros_like(positions)
    for part, start in zip(parts, starts, strict=True):
        local = times - start
        running = (local >= 0.0) & (local <= part.time_s[-1])
        local = np.clip(local, 0.0, part.time_s[-1])
        for joint in range(positions.shape[1]):
            at = np.interp(local, part.time_s, part.positions[:, joint])
            positions[:, joint] += at - part.positions[0, joint]
            velocities[running, joint] += np.interp(
                local[running], part.time_s, part.velocities[:, joint]
            )
            accelerations[running, joint] += np.interp(
                local[running], part.time_s, part.accelerations[:, joint]
            )
    velocities[[0, -1]] = 0.0
    accelerations[[0, -1]] = 0.0
    return PlanSegment(phase, times, positions, velocities, accelerations)


def descend_while_arriving(
    travel: PlanSegment,
    descent: PlanSegment,
    tip_height: Callable[[np.ndarray], float],
    clearance_m: float,
    sample_period_s: float,
    max_velocity_rad_s: float,
) -> PlanSegment | None:
    """The descent to a path's start begun while the travel above it comes to rest: not before
    the travel's second half (its deceleration: the tip keeps the travel height while it leaves,
    as over the ink well's rim), and so that the tip goes below `clearance_m` only once the
    travel has ended (over the start). None where that saves nothing, or where the sum would
    take the tip below the clearance during the travel, drive a joint faster than
    `max_velocity_rad_s` (the travel's limit) or accelerate it harder than either move does."""
    heights = np.array([tip_height(q) for q in descent.positions])
    above_until = time_above(descent.time_s, heights, clearance_m) or 0.0
    delay = max(0.5 * float(travel.time_s[-1]), float(travel.time_s[-1]) - above_until)
    if delay >= travel.time_s[-1] - 1e-9:
        return None
    blend = overlap_segments([travel, descent], [0.0, delay], sample_period_s, travel.phase)
    travelling = blend.time_s < travel.time_s[-1]
    if min(tip_height(q) for q in blend.positions[travelling]) < clearance_m:
        return None
    if np.max(np.abs(blend.velocities)) > max_velocity_rad_s:
        return None
    hardest = max(np.max(np.abs(part.accelerations)) for part in (travel, descent))
    if np.max(np.abs(blend.accelerations)) > hardest + 1e-9:
        return None
    return blend
