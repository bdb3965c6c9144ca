"""Tracking of an executing plan from measured joint positions (no ROS)."""

from __future__ import annotations

import numpy as np

from motion_executor.brush_motion import MotionPlan
from motion_executor.brush_motion_planner import BrushMotionPlanner


class TrackingMonitor:
    """Brush-tip error against the plan, and whether the arm has arrived.

    Times are plan time: robot time of the joint state minus the trajectory's start stamp.
    """

    def __init__(self, plan: MotionPlan, planner: BrushMotionPlanner) -> None:
        self.plan = plan
        self._planner = planner
        self._windows = plan.writing_windows()
        self._writing_errors: list[float] = []
        self.last_error_m = 0.0
        self.max_error_anywhere_m = 0.0

    def update(self, plan_time_s: float, positions: np.ndarray) -> float:
        """Tip error (m) of measured `positions` at `plan_time_s`; recorded when writing."""
        measured = self._planner.tip_in_paper(positions)
        error = float(np.linalg.norm(measured - self.plan.tip_reference(plan_time_s)))
        self.last_error_m = error
        if plan_time_s >= 0.0:
            self.max_error_anywhere_m = max(self.max_error_anywhere_m, error)
        if any(start <= plan_time_s <= end for start, end in self._windows):
            self._writing_errors.append(error)
        return error

    def arrived(self, plan_time_s: float, positions: np.ndarray, tolerance_rad: float) -> bool:
        final = self.plan.positions[-1]
        return plan_time_s >= self.plan.duration_s and bool(
            np.max(np.abs(np.asarray(positions) - final)) <= tolerance_rad
        )

    @property
    def writing_rms_error_m(self) -> float:
        if not self._writing_errors:
            return 0.0
        return float(np.sqrt(np.mean(np.square(self._writing_errors))))

    @property
    def writing_max_error_m(self) -> float:
        return float(max(self._writing_errors, default=0.0))
