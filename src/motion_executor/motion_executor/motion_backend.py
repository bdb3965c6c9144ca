"""The motion backend interface: who solves IK for a brush path (no ROS).

Every backend plans with the shared brush motion planner and differs only in where the joint
solutions come from (motion_executor.backends makes one by name).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from calligraphy_model.kinematics import ArmKinematics
from motion_executor.brush_motion import BrushPathSpec, MotionPlan
from motion_executor.brush_motion_planner import BrushMotionPlanner


class MotionBackend(ABC):
    """Plans brush paths and lifts for the arm."""

    def __init__(self, planner: BrushMotionPlanner) -> None:
        self.planner = planner

    @property
    @abstractmethod
    def name(self) -> str:
        """The backend's parameter value ('native', 'moveit')."""

    @property
    def kinematics(self) -> ArmKinematics:
        return self.planner.kinematics

    def plan(
        self,
        path: BrushPathSpec,
        current_positions: np.ndarray,
        time_scale: float = 1.0,
        skip_approach: bool = False,
        skip_retreat: bool = False,
        approach_height_m: float = 0.0,
        retreat_height_m: float = 0.0,
        then_paths: tuple[BrushPathSpec, ...] = (),
    ) -> MotionPlan:
        return self.planner.plan(
            path,
            current_positions,
            time_scale,
            skip_approach,
            skip_retreat,
            approach_height_m,
            retreat_height_m,
            then_paths,
        )

    def plan_lift(self, current_positions: np.ndarray) -> MotionPlan:
        return self.planner.plan_lift(current_positions)
