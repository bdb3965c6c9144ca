"""MoveIt 2 backend: IK from MoveIt's kinematics plugin through moveit_py (real cell only).

moveit_py is not on PyPI; it comes with a ROS distribution's MoveIt install. This module imports
it on construction and raises BackendUnavailableError with a clear message where it is missing.
"""

from __future__ import annotations

import numpy as np

from calligraphy_model.kinematics import ArmKinematics, IkSolution
from motion_executor.brush_motion import BrushMotionConfig
from motion_executor.brush_motion_planner import BrushMotionPlanner
from motion_executor.errors import BackendUnavailableError
from motion_executor.motion_backend import MotionBackend


class MoveItBackend(MotionBackend):
    """IK by MoveIt (the planning group's kinematics solver), timing by the shared planner."""

    @property
    def name(self) -> str:
        return 'moveit'

    def __init__(
        self,
        kinematics: ArmKinematics,
        config: BrushMotionConfig,
        paper_in_base: np.ndarray | None = None,
        planning_group: str = 'ur_manipulator',
        ik_timeout_s: float = 0.05,
    ) -> None:
        try:
            from geometry_msgs.msg import Pose
            from moveit.core.robot_state import RobotState
            from moveit.planning import MoveItPy
        except ImportError as error:
            raise BackendUnavailableError(
                "motion backend 'moveit' needs moveit_py (MoveIt 2's Python API, installed with "
                "ros-<distro>-moveit-py); it is not importable here. Use backend 'native'."
            ) from error
        self._pose_type = Pose
        self._moveit = MoveItPy(node_name='motion_executor_moveit')
        self._state = RobotState(self._moveit.get_robot_model())
        self._group = planning_group
        self._timeout = ik_timeout_s
        self._kinematics = kinematics
        super().__init__(
            BrushMotionPlanner(kinematics, config, ik=self._solve, paper_in_base=paper_in_base)
        )

    def _solve(self, target_in_base: np.ndarray, seed: np.ndarray) -> IkSolution:
        from scipy.spatial.transform import Rotation

        pose = self._pose_type()
        pose.position.x, pose.position.y, pose.position.z = map(float, target_in_base[:3, 3])
        x, y, z, w = Rotation.from_matrix(target_in_base[:3, :3]).as_quat()
        pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w = x, y, z, w
        self._state.set_joint_group_positions(self._group, np.asarray(seed, dtype=float))
        found = self._state.set_from_ik(self._group, pose, 'brush_tip', self._timeout)
        q = np.asarray(self._state.get_joint_group_positions(self._group), dtype=float)
        # Judge MoveIt's answer with the same forward kinematics the native backend uses.
        reached = self._kinematics.forward(q)
        position_error = float(np.linalg.norm(reached[:3, 3] - target_in_base[:3, 3]))
        relative = reached[:3, :3].T @ target_in_base[:3, :3]
        rotation_error = float(np.arccos(np.clip((np.trace(relative) - 1.0) / 2.0, -1.0, 1.0)))
        return IkSolution(
            q, bool(found) and position_error < 1e-4, position_error, rotation_error, 0
        )
