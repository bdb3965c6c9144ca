"""Configuration of the motion executor node, read once from its parameters (no ROS)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motion_executor.cell import pose_matrix
from motion_executor.planner import PlannerConfig

BACKENDS = ('native', 'moveit')
CONTROLLER_INTERFACES = ('topic', 'follow_joint_trajectory')


@dataclass(frozen=True)
class ExecutorConfig:
    """Everything the node needs; SI units. Empty `paper_xyz_m` = the URDF's `paper` frame."""

    backend: str = 'native'
    urdf_path: str = ''
    moveit_planning_group: str = 'ur_manipulator'
    safe_height_m: float = 0.03
    max_pressing_depth_m: float = 0.008
    joint_velocity_rad_s: float = 1.0
    joint_acceleration_rad_s2: float = 2.0
    joint_jerk_rad_s3: float = 20.0
    vertical_speed_m_s: float = 0.05
    vertical_acceleration_m_s2: float = 0.5
    vertical_jerk_m_s3: float = 10.0
    # /joint_states silent this long (wall clock) during a motion = stale.
    joint_state_timeout_s: float = 0.5
    # A goal that arrives before the arm has ever reported waits this long for its first state
    # (the driver or simulator may still be starting), wall clock.
    arm_startup_wait_s: float = 10.0
    # Trajectories start this long after the newest joint state (robot time), so they arrive first.
    trajectory_start_lead_s: float = 0.2
    # Wait for the arm's TrajectoryAck (the simulated arm sends one) before judging tracking, and
    # judge it against the start the arm acknowledged; how long to wait for it, wall clock.
    trajectory_ack: bool = False
    trajectory_ack_timeout_s: float = 5.0
    # How trajectories reach the arm: 'topic' (JointTrajectory on /arm_controller/joint_trajectory)
    # or 'follow_joint_trajectory' (a ros2_control controller's action, named controller_action:
    # its goal acceptance is the acknowledgement, and tracking is judged at the controller's own
    # time along the trajectory, which follows the speed scaling).
    controller_interface: str = 'topic'
    controller_action: str = '/arm_controller/follow_joint_trajectory'
    # Tip further than this from the plan at any time = abort (something blocks the arm).
    max_tracking_error_m: float = 0.01
    # The same while the brush travels in the air (approach and retreat at the safe height), where
    # the tip moves fastest and a few milliseconds of lag are centimetres but touch nothing.
    max_travel_tracking_error_m: float = 0.05
    goal_tolerance_rad: float = 0.01
    # Robot time after the trajectory's end within which the arm must reach its final point.
    settle_timeout_s: float = 2.0
    feedback_rate_hz: float = 20.0
    # Fixed objects of the cell for the collision check ('' = urdf/cell.yaml of the URDF's folder).
    cell_yaml: str = ''
    # A brush left below the safe height this long (wall clock) after a goal, with no new goal,
    # is lifted by the node: a client cancelled or gone between strokes leaves it 10 mm up.
    # 0 = never.
    idle_lift_timeout_s: float = 8.0
    # Bounds of a goal: points of its path, its writing time (after time_scale), time_scale.
    max_path_points: int = 20000
    max_path_duration_s: float = 300.0
    max_time_scale: float = 10.0
    paper_xyz_m: tuple[float, ...] = ()
    paper_rpy_rad: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f'backend must be one of {BACKENDS}, got {self.backend!r}')
        if self.controller_interface not in CONTROLLER_INTERFACES:
            raise ValueError(
                f'controller_interface must be one of {CONTROLLER_INTERFACES}, '
                f'got {self.controller_interface!r}'
            )
        positive = (
            'safe_height_m',
            'joint_velocity_rad_s',
            'joint_acceleration_rad_s2',
            'joint_jerk_rad_s3',
            'vertical_speed_m_s',
            'vertical_acceleration_m_s2',
            'vertical_jerk_m_s3',
            'joint_state_timeout_s',
            'trajectory_start_lead_s',
            'trajectory_ack_timeout_s',
            'max_tracking_error_m',
            'max_travel_tracking_error_m',
            'goal_tolerance_rad',
            'settle_timeout_s',
            'feedback_rate_hz',
            'max_path_duration_s',
            'max_time_scale',
        )
        for name in positive:
            if not getattr(self, name) > 0.0:
                raise ValueError(f'{name} must be > 0, got {getattr(self, name)}')
        if self.max_pressing_depth_m < 0.0:
            raise ValueError('max_pressing_depth_m must be >= 0')
        if not self.idle_lift_timeout_s >= 0.0:
            raise ValueError(f'idle_lift_timeout_s must be >= 0, got {self.idle_lift_timeout_s}')
        if self.max_path_points < 1:
            raise ValueError(f'max_path_points must be >= 1, got {self.max_path_points}')
        if len(self.paper_xyz_m) not in (0, 3) or len(self.paper_rpy_rad) not in (0, 3):
            raise ValueError('paper_pose.xyz_m and paper_pose.rpy_rad take 3 values (or none)')
        if bool(self.paper_xyz_m) != bool(self.paper_rpy_rad):
            raise ValueError('give both paper_pose.xyz_m and paper_pose.rpy_rad, or neither')

    def planner_config(self) -> PlannerConfig:
        return PlannerConfig(
            safe_height_m=self.safe_height_m,
            max_pressing_depth_m=self.max_pressing_depth_m,
            joint_velocity_rad_s=self.joint_velocity_rad_s,
            joint_acceleration_rad_s2=self.joint_acceleration_rad_s2,
            joint_jerk_rad_s3=self.joint_jerk_rad_s3,
            vertical_speed_m_s=self.vertical_speed_m_s,
            vertical_acceleration_m_s2=self.vertical_acceleration_m_s2,
            vertical_jerk_m_s3=self.vertical_jerk_m_s3,
        )

    def paper_in_base(self) -> np.ndarray | None:
        """The configured sheet pose in base_link (4x4), or None to take the URDF's."""
        if not self.paper_xyz_m:
            return None
        return pose_matrix(tuple(self.paper_xyz_m), tuple(self.paper_rpy_rad))
