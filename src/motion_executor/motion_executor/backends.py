"""Motion backends: who solves IK for a brush path (no ROS in the native one).

`native` uses pinocchio on the cell's URDF; `moveit` asks MoveIt 2 (moveit_py) for IK, where it is
installed (the real cell). Both share the planner's timing, so the trajectories differ only in
where the joint solutions come from.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from motion_executor.collision import CellCollisionModel
from motion_executor.errors import BackendUnavailableError
from motion_executor.kinematics import ArmKinematics
from motion_executor.planner import BrushMotionPlanner, BrushPathSpec, MotionPlan, PlannerConfig


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
    ) -> MotionPlan:
        return self.planner.plan(
            path,
            current_positions,
            time_scale,
            skip_approach,
            skip_retreat,
            approach_height_m,
            retreat_height_m,
        )

    def plan_lift(self, current_positions: np.ndarray) -> MotionPlan:
        return self.planner.plan_lift(current_positions)


class NativeBackend(MotionBackend):
    """Pinocchio IK (damped least squares from the URDF) and ruckig timing."""

    @property
    def name(self) -> str:
        return 'native'

    def __init__(
        self,
        kinematics: ArmKinematics,
        config: PlannerConfig,
        paper_in_base: np.ndarray | None = None,
    ) -> None:
        super().__init__(BrushMotionPlanner(kinematics, config, paper_in_base=paper_in_base))


def create_backend(
    name: str,
    kinematics: ArmKinematics,
    config: PlannerConfig,
    paper_in_base: np.ndarray | None = None,
    planning_group: str = 'ur_manipulator',
    collision: CellCollisionModel | None = None,
) -> MotionBackend:
    """The backend called `name`, its plans checked against `collision` (None = unchecked);
    raises BackendUnavailableError or ValueError."""
    if name == 'native':
        backend: MotionBackend = NativeBackend(kinematics, config, paper_in_base)
    elif name == 'moveit':
        # Imported here only: the module needs moveit_py, which exists on the real cell alone.
        from motion_executor.moveit_backend import MoveItBackend

        backend = MoveItBackend(kinematics, config, paper_in_base, planning_group)
    else:
        raise ValueError(f"unknown motion backend {name!r} (use 'native' or 'moveit')")
    backend.planner.collision = collision
    return backend


__all__ = ['BackendUnavailableError', 'MotionBackend', 'NativeBackend', 'create_backend']
