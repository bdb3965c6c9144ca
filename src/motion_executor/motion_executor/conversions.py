"""Between ROS messages and the motion executor's core types (the only module knowing both)."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Duration, Time
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from calligraphy_interfaces.msg import BrushPath
from motion_executor.brush_motion import BrushPathSpec, MotionPlan
from motion_executor.errors import MotionError, MotionErrorCode


def brush_path_from_msg(msg: BrushPath) -> BrushPathSpec:
    """The core path; a frame other than `paper` (or empty) is INVALID_PATH."""
    if msg.header.frame_id not in ('', 'paper'):
        raise MotionError(
            MotionErrorCode.INVALID_PATH,
            f"brush paths are expressed in 'paper', got frame {msg.header.frame_id!r}",
        )
    return BrushPathSpec(
        x_m=np.asarray(msg.x_m, dtype=float),
        y_m=np.asarray(msg.y_m, dtype=float),
        pressing_depth_m=np.asarray(msg.pressing_depth_m, dtype=float),
        time_from_start_s=np.asarray(msg.time_from_start_s, dtype=float),
        tilt_x_rad=np.asarray(msg.tilt_x_rad, dtype=float),
        tilt_y_rad=np.asarray(msg.tilt_y_rad, dtype=float),
    )


def brush_path_to_msg(
    path: BrushPathSpec, stroke_index: int = 0, controller: str = ''
) -> BrushPath:
    msg = BrushPath()
    msg.header.frame_id = 'paper'
    msg.stroke_index = stroke_index
    msg.controller = controller
    msg.x_m = [float(v) for v in path.x_m]
    msg.y_m = [float(v) for v in path.y_m]
    msg.pressing_depth_m = [float(v) for v in path.pressing_depth_m]
    msg.time_from_start_s = [float(v) for v in path.time_from_start_s]
    msg.tilt_x_rad = [float(v) for v in path.tilt_x_rad]
    msg.tilt_y_rad = [float(v) for v in path.tilt_y_rad]
    return msg


def seconds_to_time(seconds: float) -> Time:
    nanoseconds = int(round(seconds * 1e9))
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def time_to_seconds(stamp: Time) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def _duration(seconds: float) -> Duration:
    nanoseconds = int(round(seconds * 1e9))
    return Duration(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def plan_to_trajectory_msg(plan: MotionPlan, start_time_s: float) -> JointTrajectory:
    """The plan as a JointTrajectory starting at `start_time_s` (robot time; 0 = on arrival)."""
    msg = JointTrajectory()
    msg.header.stamp = seconds_to_time(start_time_s)
    msg.joint_names = list(plan.joint_names)
    for index, t in enumerate(plan.time_s):
        msg.points.append(
            JointTrajectoryPoint(
                positions=plan.positions[index].tolist(),
                velocities=plan.velocities[index].tolist(),
                accelerations=plan.accelerations[index].tolist(),
                time_from_start=_duration(float(t)),
            )
        )
    return msg


def joint_positions_from_msg(msg: JointState, joint_names: tuple[str, ...]) -> np.ndarray | None:
    """Positions in `joint_names` order, or None when the message lacks one of the joints."""
    index = {name: i for i, name in enumerate(msg.name)}
    if any(name not in index for name in joint_names) or len(msg.position) < len(msg.name):
        return None
    return np.array([msg.position[index[name]] for name in joint_names])
