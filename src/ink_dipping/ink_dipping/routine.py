"""The scripted dip-and-wipe routine as a sequence of timed tool paths in the `paper` frame.

Heights are expressed as pressing depth d = -z of the brush tip (negative above the paper), so each
segment is a brush path that the motion executor can run like any stroke. Sequence, as a
calligrapher does it: approach above the well, descend into the ink, dwell while the bristles soak,
rise out of the ink, draw the bristles over the rim to press out the excess (`wipe_count` times),
retreat to the travel height from where the last wipe left the brush, outside the rim on the side
the brush was drawn to (`wipe_direction_rad`), without going back over the well. `join_routine`
makes the phases one path, which the dip node sends as one motion goal: between goals the arm
settles and waits for the next one.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from calligraphy_model.cell_description import InkWellGeometry
from ink_dipping.config import DIP_MODES, DipRoutineConfig

PHASES = ('approach', 'descend', 'dwell', 'rise', 'wipe', 'retreat')
_SAMPLE_DT_S = 0.02
# Height of the tip above the rim when it rises out of the ink and between wipes (m).
_RIM_CLEARANCE_M = 0.005


@dataclass(frozen=True)
class DipSegment:
    """One phase of the routine: tip positions (paper frame, m), depth d = -z (m), time (s)."""

    phase: str
    x_m: np.ndarray
    y_m: np.ndarray
    pressing_depth_m: np.ndarray
    time_from_start_s: np.ndarray


def _move(start: np.ndarray, end: np.ndarray, speed_m_s: float) -> tuple[np.ndarray, ...]:
    """Straight move start→end (x, y, d), peak speed `speed_m_s`, sampled every 20 ms.

    Smoothstep timing gives zero velocity at both ends, so segments join without jerks; its peak
    speed is 1.5× the mean, hence the duration.
    """
    duration = max(1.5 * float(np.linalg.norm(end - start)) / speed_m_s, 2 * _SAMPLE_DT_S)
    count = max(2, int(math.ceil(duration / _SAMPLE_DT_S)) + 1)
    s = np.linspace(0.0, 1.0, count)
    blend = s * s * (3.0 - 2.0 * s)
    points = start[None, :] + blend[:, None] * (end - start)[None, :]
    return points, np.linspace(0.0, duration, count)


def _segment(phase: str, waypoints: list[np.ndarray], speed: float | list[float]) -> DipSegment:
    """Straight moves through `waypoints`, at one speed or one speed per move."""
    speeds = speed if isinstance(speed, list) else [speed] * (len(waypoints) - 1)
    chunks, times, t0 = [], [], 0.0
    for start, end, leg_speed in zip(waypoints[:-1], waypoints[1:], speeds, strict=True):
        points, t = _move(start, end, leg_speed)
        if chunks:
            points, t = points[1:], t[1:]
        chunks.append(points)
        times.append(t + t0)
        t0 = float(times[-1][-1])
    path = np.concatenate(chunks)
    return DipSegment(phase, path[:, 0], path[:, 1], path[:, 2], np.concatenate(times))


def _hold(phase: str, at: np.ndarray, duration_s: float) -> DipSegment:
    count = max(2, int(math.ceil(duration_s / _SAMPLE_DT_S)) + 1)
    times = np.linspace(0.0, max(duration_s, _SAMPLE_DT_S), count)
    path = np.repeat(at[None, :], count, axis=0)
    return DipSegment(phase, path[:, 0], path[:, 1], path[:, 2], times)


def dip_routine(
    well: InkWellGeometry, config: DipRoutineConfig, mode: str = 'full', wipe_count: int = -1
) -> list[DipSegment]:
    """The dip-and-wipe routine for `mode` (full or quick); wipe_count < 0 uses the config's."""
    if mode not in DIP_MODES:
        raise ValueError(f'mode must be one of {DIP_MODES}, got {mode!r}')
    if config.safe_height_m < well.rim_height_m + _RIM_CLEARANCE_M:
        raise ValueError(
            f'safe_height_m ({config.safe_height_m} m) must clear the rim ({well.rim_height_m} m) '
            f'by at least {_RIM_CLEARANCE_M} m'
        )
    full = mode == 'full'
    wipes = wipe_count if wipe_count >= 0 else (config.wipe_count if full else 1)
    dwell_s = config.dwell_s if full else config.dwell_s / 3.0

    centre = np.array([well.x_m, well.y_m])
    safe = np.array([*centre, -config.safe_height_m])
    above_rim = np.array([*centre, -(well.rim_height_m + _RIM_CLEARANCE_M)])
    soaked = np.array([*centre, -(well.ink_surface_height_m - config.dip_depth_m)])
    segments = [
        # The executor's own approach brings the tip over the well at the travel height and stops
        # there: the routine starts at once (one sample, so that the phase is reported).
        _hold('approach', safe, _SAMPLE_DT_S),
        _segment('descend', [safe, soaked], config.travel_speed_m_s),
        _hold('dwell', soaked, dwell_s),
    ]
    if not wipes:
        segments.append(_segment('rise', [soaked, above_rim], config.travel_speed_m_s))
        segments.append(_segment('retreat', [above_rim, safe], config.travel_speed_m_s))
        return segments
    # Drag the bristle tip from inside the well out over the rim, just below its top, so the
    # bristles are squeezed against the rim; between wipes, lift over the rim and back in.
    heading = config.wipe_direction_rad
    direction = np.array([math.cos(heading), math.sin(heading)])
    squeeze_depth = -(well.rim_height_m - 0.003)
    inside = np.array([*(centre + 0.4 * well.radius_m * direction), squeeze_depth])
    outside = np.array([*(centre + 1.3 * well.radius_m * direction), squeeze_depth])
    lift_out = outside + np.array([0.0, 0.0, -0.008])
    # Out of the ink straight to where the first wipe starts, inside the well below the rim's
    # top (the line stays inside the opening).
    segments.append(_segment('rise', [soaked, inside], config.travel_speed_m_s))
    # Only the drag over the rim is slow; the moves around it go at the travel speed.
    travel, drag = config.travel_speed_m_s, config.wipe_speed_m_s
    waypoints, speeds = [inside, outside, lift_out], [drag, travel]
    for _ in range(wipes - 1):
        waypoints += [above_rim, inside, outside, lift_out]
        speeds += [travel, travel, drag, travel]
    segments.append(_segment('wipe', waypoints, speeds))
    # Up from outside the rim, where the last wipe lifted the brush: the way back to the sheet
    # does not cross the well again.
    safe_outside = np.array([*lift_out[:2], -config.safe_height_m])
    segments.append(_segment('retreat', [lift_out, safe_outside], config.travel_speed_m_s))
    return segments


@dataclass(frozen=True)
class DipPath:
    """The routine as one path (`segment`, phase 'routine'), and where each phase starts in it:
    `phase_starts[k]` is the index of the first point of `phases[k]`."""

    segment: DipSegment
    phases: tuple[str, ...]
    phase_starts: tuple[int, ...]

    def phase_index(self, point_index: int) -> int:
        """Which phase the path's point `point_index` belongs to (-1, before the path: 0)."""
        return max(0, bisect.bisect_right(self.phase_starts, point_index) - 1)


def join_routine(segments: list[DipSegment]) -> DipPath:
    """The phases one after the other, each timed on from where the previous one ended (each
    starts where the previous one stopped, so the point they share is kept once)."""
    x, y, depth, times, starts = [], [], [], [], []
    end_time, count = 0.0, 0
    for index, segment in enumerate(segments):
        first = 1 if index else 0
        if index and not np.allclose(
            [segment.x_m[0], segment.y_m[0], segment.pressing_depth_m[0]],
            [x[-1][-1], y[-1][-1], depth[-1][-1]],
            atol=1e-9,
        ):
            raise ValueError(
                f'the {segment.phase} phase does not start where the one before ended'
            )
        starts.append(count)
        x.append(segment.x_m[first:])
        y.append(segment.y_m[first:])
        depth.append(segment.pressing_depth_m[first:])
        times.append(segment.time_from_start_s[first:] - segment.time_from_start_s[0] + end_time)
        end_time = float(times[-1][-1])
        count += len(x[-1])
    joined = DipSegment(
        'routine', np.concatenate(x), np.concatenate(y), np.concatenate(depth),
        np.concatenate(times),
    )  # fmt: skip
    return DipPath(joined, tuple(s.phase for s in segments), tuple(starts))
