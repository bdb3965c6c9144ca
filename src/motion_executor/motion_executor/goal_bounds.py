"""Bounds of a brush-path goal, checked before anything is planned (no ROS)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from motion_executor.config import ExecutorConfig
from motion_executor.errors import MotionError, MotionErrorCode

if TYPE_CHECKING:
    from motion_executor.supervision import MotionRequest


def check_goal_bounds(request: MotionRequest, config: ExecutorConfig) -> None:
    """Refuse goal fields out of their bounds: the point count (INVALID_PATH), time_scale and
    the hop heights (INVALID_ARGUMENT)."""
    c = config
    count = request.point_count
    if count > c.max_path_points:
        raise MotionError(
            MotionErrorCode.INVALID_PATH,
            f'the brush path has {count} points; at most {c.max_path_points} are accepted',
        )
    scale = request.time_scale
    if not math.isfinite(scale) or scale < 0.0 or scale > c.max_time_scale:
        raise MotionError(
            MotionErrorCode.INVALID_ARGUMENT,
            f'time_scale must be 0 (= 1) or in (0, {c.max_time_scale:g}], got {scale!r}',
        )
    for name in ('approach_height_m', 'retreat_height_m'):
        value = getattr(request, name)
        if not math.isfinite(value) or value < 0.0 or value > c.safe_height_m + 1e-9:
            raise MotionError(
                MotionErrorCode.INVALID_ARGUMENT,
                f'{name} must be 0 (the safe height) or up to the safe height of '
                f'{c.safe_height_m * 1e3:.0f} mm, got {value!r}',
            )


def check_path_duration(
    time_from_start_s: np.ndarray, time_scale: float, config: ExecutorConfig
) -> None:
    """INVALID_PATH for a path that takes longer than max_path_duration_s to write."""
    if len(time_from_start_s) < 2 or not np.all(np.isfinite(time_from_start_s)):
        return  # the planner names what is wrong with such a path
    duration = float(time_from_start_s[-1] - time_from_start_s[0]) * (time_scale or 1.0)
    if duration > config.max_path_duration_s:
        raise MotionError(
            MotionErrorCode.INVALID_PATH,
            f'the brush path takes {duration:.0f} s to write; at most '
            f'{config.max_path_duration_s:g} s are accepted',
        )
