"""Between ROS messages and the simulated arm's core types (arm side of calligraphy_sim)."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory as JointTrajectoryMsg

from calligraphy_model.cell_description import quaternion_from_rotation
from calligraphy_sim.arm_trajectory import JointTrajectory


def seconds_to_time(seconds: float) -> Time:
    nanoseconds = int(round(seconds * 1e9))
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def trajectory_from_msg(msg: JointTrajectoryMsg) -> tuple[JointTrajectory, float | None]:
    """The core trajectory and its start time in seconds (None = start on arrival)."""
    points = msg.points

    def stack(attribute: str) -> np.ndarray | None:
        rows = [list(getattr(point, attribute)) for point in points]
        if not rows or all(len(row) == 0 for row in rows):
            return None
        if any(len(row) != len(rows[0]) for row in rows):
            # Mixed presence: let the core reject it with a shape message.
            return np.array([row + [np.nan] * (len(msg.joint_names) - len(row)) for row in rows])
        return np.array(rows, dtype=float)

    times = np.array(
        [p.time_from_start.sec + p.time_from_start.nanosec * 1e-9 for p in points], dtype=float
    )
    positions = stack('positions')
    trajectory = JointTrajectory(
        joint_names=tuple(msg.joint_names),
        time_from_start_s=times,
        positions=positions if positions is not None else np.zeros((len(points), 0)),
        velocities=stack('velocities'),
        accelerations=stack('accelerations'),
    )
    stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
    return trajectory, (stamp if stamp > 0.0 else None)


def joint_state_msg(
    time_s: float,
    names: tuple[str, ...],
    positions: np.ndarray,
    velocities: np.ndarray,
    efforts: np.ndarray,
) -> JointState:
    msg = JointState()
    msg.header.stamp = seconds_to_time(time_s)
    msg.name = list(names)
    msg.position = positions.tolist()
    msg.velocity = velocities.tolist()
    msg.effort = efforts.tolist()
    return msg


def pose_stamped_msg(
    time_s: float, frame_id: str, position: np.ndarray, rotation: np.ndarray
) -> PoseStamped:
    msg = PoseStamped()
    msg.header.stamp = seconds_to_time(time_s)
    msg.header.frame_id = frame_id
    msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = map(float, position)
    x, y, z, w = quaternion_from_rotation(rotation)
    msg.pose.orientation.x = float(x)
    msg.pose.orientation.y = float(y)
    msg.pose.orientation.z = float(z)
    msg.pose.orientation.w = float(w)
    return msg
