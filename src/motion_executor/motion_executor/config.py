"""Configuration of the motion executor node, read once from its parameters (no ROS).

The node declares one parameter per field: ExecutorConfig's under their own names, MotionLimits'
under `limits.`, MoveItSettings' under `moveit.`; the sheet pose (`paper_pose.xyz_m`,
`paper_pose.rpy_rad`) is declared by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calligraphy_model.cell_description import pose_matrix
from calligraphy_model.settings import check, setting
from motion_executor.brush_motion import BrushMotionConfig

BACKENDS = ('native', 'moveit')
CONTROLLER_INTERFACES = ('topic', 'follow_joint_trajectory')


@dataclass(frozen=True)
class MotionLimits:
    """Travel (joint space) and descent / rise (vertical) limits: parameters `limits.*`."""

    # Travel: conservative fractions of the UR5e's 3.14 rad/s.
    joint_velocity_rad_s: float = setting(1.0, 'travel joint speed', unit='rad/s', low=0.0)
    joint_acceleration_rad_s2: float = setting(
        2.0, 'travel joint acceleration', unit='rad/s^2', low=0.0
    )
    joint_jerk_rad_s3: float = setting(20.0, 'travel joint jerk', unit='rad/s^3', low=0.0)
    vertical_speed_m_s: float = setting(0.05, 'descent / rise speed', unit='m/s', low=0.0)
    vertical_acceleration_m_s2: float = setting(
        0.5, 'descent / rise acceleration', unit='m/s^2', low=0.0
    )
    vertical_jerk_m_s3: float = setting(10.0, 'descent / rise jerk', unit='m/s^3', low=0.0)


@dataclass(frozen=True)
class MoveItSettings:
    """The MoveIt backend's settings: parameters `moveit.*`."""

    planning_group: str = setting('ur_manipulator', 'MoveIt planning group')
    max_model_deviation_m: float = setting(
        0.02,
        "how far the cell URDF's nominal kinematics may put brush_tip from a target MoveIt's "
        '(calibrated) model reaches: a factory calibration moves it by up to centimetres, a '
        'wrong ur_type or brush length by more',
        unit='m',
        low=0.0,
    )


@dataclass(frozen=True)
class ExecutorConfig:
    """Everything the node needs; SI units. Empty `paper_xyz_m` = cell.yaml's `paper`."""

    backend: str = setting(
        'native', "motion backend: 'native' (pinocchio + ruckig) or 'moveit'", choices=BACKENDS
    )
    urdf_path: str = setting('', "cell URDF ('' = urdf/calligraphy_cell.urdf of the checkout)")
    safe_height_m: float = setting(
        0.03, 'tip height above the sheet for travel', unit='m', low=0.0
    )
    max_pressing_depth_m: float = setting(0.008, 'deepest accepted pressing', unit='m', low=0.0)
    joint_state_timeout_s: float = setting(
        0.5, 'silence of /joint_states (wall clock) that aborts a motion', unit='s', low=0.0
    )
    arm_startup_wait_s: float = setting(
        10.0,
        'how long a goal waits for the first /joint_states of an arm still starting',
        unit='s',
        low=0.0,
    )
    trajectory_start_lead_s: float = setting(
        0.2,
        'start trajectories this long after the newest joint state (robot time), so they '
        'arrive first',
        unit='s',
        low=0.0,
    )
    trajectory_ack: bool = setting(
        False,
        "wait for the arm's TrajectoryAck on /arm_controller/trajectory_ack before judging "
        'tracking, and judge it against the start the arm acknowledged (the simulated arm '
        'sends one)',
    )
    trajectory_ack_timeout_s: float = setting(
        5.0,
        'how long to wait for the arm to acknowledge a trajectory (wall clock)',
        unit='s',
        low=0.0,
    )
    controller_interface: str = setting(
        'topic',
        "how trajectories reach the arm: 'topic' (/arm_controller/joint_trajectory) or "
        "'follow_joint_trajectory' (a ros2_control controller's action, controller_action: its "
        "goal acceptance is the acknowledgement, and tracking is judged at the controller's own "
        'time along the trajectory, which follows the speed scaling)',
        choices=CONTROLLER_INTERFACES,
    )
    controller_action: str = setting(
        'arm_controller/follow_joint_trajectory',
        'the FollowJointTrajectory action of the arm controller (controller_interface '
        'follow_joint_trajectory)',
    )
    max_tracking_error_m: float = setting(
        0.01,
        'tip deviation from the plan that aborts a motion while writing (something blocks '
        'the arm)',
        unit='m',
        low=0.0,
    )
    max_travel_tracking_error_m: float = setting(
        0.05,
        'tip deviation from the plan that aborts a motion in the air (approach, retreat), where '
        'the tip moves fastest and a few milliseconds of lag are centimetres but touch nothing',
        unit='m',
        low=0.0,
    )
    goal_tolerance_rad: float = setting(0.01, 'final joint tolerance', unit='rad', low=0.0)
    settle_timeout_s: float = setting(
        2.0,
        'robot time after the trajectory end to reach the final point',
        unit='s',
        low=0.0,
    )
    feedback_rate_hz: float = setting(20.0, 'action feedback rate', unit='Hz', low=0.0)
    cell_yaml: str = setting(
        '', "fixed objects for the collision check ('' = urdf/cell.yaml beside the cell URDF)"
    )
    idle_lift_timeout_s: float = setting(
        8.0,
        'a brush left below the safe height this long after a goal, with no new goal, is lifted '
        '(wall clock: a client cancelled or gone between strokes); 0 = never',
        unit='s',
        low=0.0,
    )
    max_path_points: int = setting(20000, 'most points a brush path may have', low=1)
    max_path_duration_s: float = setting(
        300.0, 'longest writing time of a path (after time_scale)', unit='s', low=0.0
    )
    max_time_scale: float = setting(10.0, 'largest accepted goal time_scale', low=0.0)
    speed_scaling_topic: str = setting(
        '',
        "the arm's speed scaling (std_msgs/Float64, percent, as ur_controllers' "
        'speed_scaling_state_broadcaster publishes it; empty = the arm runs at 100 %): '
        'wall-clock waits for a motion stretch by it',
    )
    # Parameters `limits.*` and `moveit.*`.
    limits: MotionLimits = setting(default_factory=MotionLimits)
    moveit: MoveItSettings = setting(default_factory=MoveItSettings)
    # Parameters `paper_pose.xyz_m` and `paper_pose.rpy_rad` (unset = cell.yaml's `paper`).
    paper_xyz_m: tuple[float, ...] = setting((), 'sheet position in base_link', unit='m')
    paper_rpy_rad: tuple[float, ...] = setting((), 'sheet orientation in base_link', unit='rad')

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
        for name, value in vars(self.limits).items():
            if not value > 0.0:
                raise ValueError(f'limits.{name} must be > 0, got {value}')
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
        check(self)

    def planner_config(self) -> BrushMotionConfig:
        return BrushMotionConfig(
            safe_height_m=self.safe_height_m,
            max_pressing_depth_m=self.max_pressing_depth_m,
            **vars(self.limits),
        )

    def paper_in_base(self) -> np.ndarray | None:
        """The configured sheet pose in base_link (4x4), or None to take cell.yaml's."""
        if not self.paper_xyz_m:
            return None
        return pose_matrix(tuple(self.paper_xyz_m), tuple(self.paper_rpy_rad))
