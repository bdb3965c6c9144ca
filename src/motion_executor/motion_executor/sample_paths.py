"""Timed brush paths of known shape on the sheet: a square and a circle (no ROS).

The motion benchmark writes them in the simulated arm; the node tests send them as goals.
"""

from __future__ import annotations

import numpy as np

from motion_executor.brush_motion import BrushPathSpec
from motion_executor.timing import rest_to_rest

WRITING_SPEED_M_S = 0.05
PRESSING_DEPTH_M = 0.002
SAMPLE_PERIOD_S = 0.01


def _timed_polyline(corners: np.ndarray, speed: float, stop_at_corners: bool) -> np.ndarray:
    """(N, 3) rows of x, y, t along `corners`: at `speed`, accelerating from rest at the start
    (and at every corner when `stop_at_corners`), jerk-limited."""
    legs = (
        [corners] if not stop_at_corners else [corners[i : i + 2] for i in range(len(corners) - 1)]
    )
    rows, offset = [], 0.0
    for leg in legs:
        lengths = np.linalg.norm(np.diff(leg, axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(lengths)])
        profile = rest_to_rest(
            np.array([0.0]), np.array([arc[-1]]), speed, 0.5, 10.0, SAMPLE_PERIOD_S
        )
        s = profile.positions[:, 0]
        xy = np.column_stack([np.interp(s, arc, leg[:, 0]), np.interp(s, arc, leg[:, 1])])
        t = profile.time_s + offset
        if rows:
            xy, t = xy[1:], t[1:]
        rows.append(np.column_stack([xy, t]))
        offset = float(t[-1])
    return np.vstack(rows)


def square_path(side_m: float = 0.1, speed_m_s: float = WRITING_SPEED_M_S) -> BrushPathSpec:
    """A square centred on the sheet, written counter-clockwise, stopping at each corner."""
    cx, cy, h = 0.1485, 0.105, side_m / 2.0
    corners = np.array(
        [[cx - h, cy - h], [cx + h, cy - h], [cx + h, cy + h], [cx - h, cy + h], [cx - h, cy - h]]
    )
    rows = _timed_polyline(corners, speed_m_s, stop_at_corners=True)
    return BrushPathSpec(rows[:, 0], rows[:, 1], np.full(len(rows), PRESSING_DEPTH_M), rows[:, 2])


def circle_path(radius_m: float = 0.04, speed_m_s: float = WRITING_SPEED_M_S) -> BrushPathSpec:
    """A full circle centred on the sheet at constant speed between a start and stop ramp."""
    angles = np.linspace(0.0, 2.0 * np.pi, 721)
    points = np.column_stack(
        [0.1485 + radius_m * np.cos(angles), 0.105 + radius_m * np.sin(angles)]
    )
    rows = _timed_polyline(points, speed_m_s, stop_at_corners=False)
    return BrushPathSpec(rows[:, 0], rows[:, 1], np.full(len(rows), PRESSING_DEPTH_M), rows[:, 2])
