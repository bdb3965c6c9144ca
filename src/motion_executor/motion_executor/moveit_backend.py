"""MoveIt 2 backend: IK from MoveIt's kinematics plugin through moveit_py (real cell only).

moveit_py is not on PyPI; it comes with a ROS distribution's MoveIt install. MoveIt does IK
only here: each waypoint of the brush path (and of approach, dip and lift) is solved by the
planning group's kinematics plugin (KDL for ur_moveit_config), seeded with the previous
solution; the shared planner times the joint path (the brush path keeps its own timing, travel
and vertical moves are ruckig profiles), and the collision check and tracking use the nominal
kinematics of the cell URDF. MoveIt plans no paths, checks no collisions and executes nothing.

MoveItPy reads its configuration (robot_description with the brush tool's `brush_tip`,
robot_description_semantic, robot_description_kinematics, planning pipelines, the
planning_scene_monitor options) from the `--params-file` arguments of the process, which
real_cell.launch.py fills with MoveItConfigsBuilder's output. Any failure to import or start it
raises BackendUnavailableError with the reason, which the node reports before exiting.

MoveIt's model is the robot's calibrated one (the driver's kinematics_params_file), ours is
nominal: an answer is accepted when MoveIt's own forward kinematics puts `brush_tip` on the
target (IK_TOLERANCE_M) and our nominal kinematics puts it within `max_model_deviation_m` of it.
ur_calibration's README: without the factory calibration "end effector positions might be off
in the magnitude of centimeters"; a wrong ur_type or brush length is off by more. The collision
check and tracking see the nominal model, so they are off by as much as this deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from calligraphy_model.kinematics import ArmKinematics, IkSolution
from motion_executor.brush_motion import BrushMotionConfig
from motion_executor.brush_motion_planner import BrushMotionPlanner
from motion_executor.errors import BackendUnavailableError
from motion_executor.motion_backend import MotionBackend

# MoveIt's own forward kinematics of its answer vs. the target: KDL converges to ~1e-5 m.
IK_TOLERANCE_M = 1e-4
IK_TOLERANCE_RAD = 1e-3


@dataclass(frozen=True)
class IkCheck:
    """Limits an IK answer of MoveIt's (calibrated) model is judged by (m, rad)."""

    max_model_deviation_m: float = 0.02
    max_model_deviation_rad: float = 0.03


def pose_error(reached: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """(position distance m, rotation angle rad) between two 4x4 poses."""
    position = float(np.linalg.norm(reached[:3, 3] - target[:3, 3]))
    relative = reached[:3, :3].T @ target[:3, :3]
    angle = float(np.arccos(np.clip((np.trace(relative) - 1.0) / 2.0, -1.0, 1.0)))
    return position, angle


def judge_ik_answer(
    positions: np.ndarray,
    found: bool,
    target: np.ndarray,
    moveit_tip: np.ndarray,
    nominal_tip: np.ndarray,
    check: IkCheck,
) -> IkSolution:
    """Accept MoveIt's answer when its own model reaches `target` and the nominal model lies
    within the calibration's reach of it; the residual reported is the nominal model's."""
    moveit_position, moveit_rotation = pose_error(moveit_tip, target)
    nominal_position, nominal_rotation = pose_error(nominal_tip, target)
    success = (
        found
        and moveit_position <= IK_TOLERANCE_M
        and moveit_rotation <= IK_TOLERANCE_RAD
        and nominal_position <= check.max_model_deviation_m
        and nominal_rotation <= check.max_model_deviation_rad
    )
    return IkSolution(
        np.asarray(positions, dtype=float), bool(success), nominal_position, nominal_rotation, 0
    )


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
        check: IkCheck | None = None,
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
        try:
            self._moveit = MoveItPy(node_name='motion_executor_moveit')
            model = self._moveit.get_robot_model()
            self._state = RobotState(model)
            if not model.has_joint_model_group(planning_group):
                raise RuntimeError(f'the SRDF has no planning group {planning_group!r}')
            self._state.set_to_default_values()
            self._state.update()
            # get_frame_transform answers identity for a frame the model lacks (moveit_py's
            # robot_state.cpp); get_global_link_transform would dereference a missing link.
            if np.allclose(self._state.get_frame_transform('brush_tip'), np.eye(4)):
                raise RuntimeError(
                    'robot_description has no brush_tip (launch it with the brush tool: '
                    'urdf/calligraphy_ur.urdf.xacro)'
                )
        except Exception as error:  # noqa: BLE001 - moveit_py raises RuntimeError and others
            raise BackendUnavailableError(
                f"motion backend 'moveit' could not start MoveIt: {error}. It needs "
                'robot_description (with brush_tip), robot_description_semantic, '
                'robot_description_kinematics and planning pipelines as parameters '
                '(real_cell.launch.py passes them); or use backend native.'
            ) from None
        self._pose_type = Pose
        self._group = planning_group
        self._timeout = ik_timeout_s
        self._check = check or IkCheck()
        self._kinematics = kinematics
        super().__init__(
            BrushMotionPlanner(kinematics, config, ik=self._solve, paper_in_base=paper_in_base)
        )

    def _solve(self, target_in_base: np.ndarray, seed: np.ndarray) -> IkSolution:
        pose = self._pose_type()
        pose.position.x, pose.position.y, pose.position.z = map(float, target_in_base[:3, 3])
        x, y, z, w = Rotation.from_matrix(target_in_base[:3, :3]).as_quat()
        pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w = x, y, z, w
        self._state.set_joint_group_positions(self._group, np.asarray(seed, dtype=float))
        # The pose is in the model's root frame: ur.urdf.xacro fixes base_link to world at 0.
        found = self._state.set_from_ik(self._group, pose, 'brush_tip', self._timeout)
        self._state.update()
        q = np.asarray(self._state.get_joint_group_positions(self._group), dtype=float)
        return judge_ik_answer(
            q,
            bool(found),
            target_in_base,
            np.asarray(self._state.get_frame_transform('brush_tip'), dtype=float),
            self._kinematics.forward(q),
            self._check,
        )
