"""Motion backends by name: who solves IK for a brush path (no ROS in the native one).

`native` uses pinocchio on the cell's URDF (damped least squares IK); `moveit` asks MoveIt 2
(moveit_py, the planning group's kinematics plugin) for IK, where it is installed (the real cell).
Both share the planner's timing, collision check and tracking, so the trajectories differ only in
where the joint solutions come from.
"""

from __future__ import annotations

import numpy as np

from calligraphy_model.kinematics import ArmKinematics
from motion_executor.brush_motion import BrushMotionConfig
from motion_executor.brush_motion_planner import BrushMotionPlanner
from motion_executor.collision import CellCollisionModel
from motion_executor.config import MoveItSettings
from motion_executor.motion_backend import MotionBackend


class NativeBackend(MotionBackend):
    """Pinocchio IK (damped least squares from the URDF) and ruckig timing."""

    @property
    def name(self) -> str:
        return 'native'

    def __init__(
        self,
        kinematics: ArmKinematics,
        config: BrushMotionConfig,
        paper_in_base: np.ndarray | None = None,
    ) -> None:
        super().__init__(BrushMotionPlanner(kinematics, config, paper_in_base=paper_in_base))


def create_backend(
    name: str,
    kinematics: ArmKinematics,
    config: BrushMotionConfig,
    paper_in_base: np.ndarray | None = None,
    moveit: MoveItSettings | None = None,
    collision: CellCollisionModel | None = None,
) -> MotionBackend:
    """The backend called `name` (`moveit`: MoveIt's group and how far its calibrated model may
    differ from the nominal one), its plans checked against `collision` (None = unchecked);
    raises BackendUnavailableError or ValueError."""
    if name == 'native':
        backend: MotionBackend = NativeBackend(kinematics, config, paper_in_base)
    elif name == 'moveit':
        # Imported here only: the module needs moveit_py, which exists on the real cell alone.
        from motion_executor.moveit_backend import IkCheck, MoveItBackend

        settings = moveit or MoveItSettings()
        backend = MoveItBackend(
            kinematics,
            config,
            paper_in_base,
            settings.planning_group,
            check=IkCheck(max_model_deviation_m=settings.max_model_deviation_m),
        )
    else:
        raise ValueError(f"unknown motion backend {name!r} (use 'native' or 'moveit')")
    backend.planner.collision = collision
    return backend


__all__ = ['MotionBackend', 'NativeBackend', 'create_backend']
