"""Between the virtual paper's core types and ROS messages (the only module knowing both)."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import Image


def stamp_to_s(stamp: Time) -> float:
    """A ROS time stamp in seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


def pose_to_sample(msg: PoseStamped, fallback_time_s: float) -> tuple[float, float, float, float]:
    """Brush tip pose in the paper frame -> (x m, y m, pressing depth m, t s).

    Pressing depth is -z of the tip (z < 0 presses into the paper). A zero stamp (a publisher that
    does not stamp) takes ``fallback_time_s``.
    """
    p = msg.pose.position
    t = stamp_to_s(msg.header.stamp)
    return float(p.x), float(p.y), -float(p.z), t if t > 0.0 else fallback_time_s


def sample_to_pose(x_m: float, y_m: float, depth_m: float, t_s: float, frame_id: str = 'paper'):
    """(x, y, pressing depth, t) -> PoseStamped of the brush tip (hanging straight)."""
    msg = PoseStamped()
    msg.header.frame_id = frame_id
    msg.header.stamp.sec = int(np.floor(t_s))
    msg.header.stamp.nanosec = int(round((t_s - np.floor(t_s)) * 1e9)) % 1_000_000_000
    msg.pose.position.x = float(x_m)
    msg.pose.position.y = float(y_m)
    msg.pose.position.z = -float(depth_m)
    msg.pose.orientation.w = 1.0
    return msg


def rgb_to_image(rgb: np.ndarray, stamp: Time, frame_id: str) -> Image:
    """uint8 (rows, cols, 3) RGB -> sensor_msgs/Image rgb8 (row 0 first = top of the sheet)."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'expected uint8 (rows, cols, 3), got {rgb.dtype} {rgb.shape}')
    msg = Image()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.height, msg.width = int(rgb.shape[0]), int(rgb.shape[1])
    msg.encoding = 'rgb8'
    msg.is_bigendian = 0
    msg.step = msg.width * 3
    msg.data = np.ascontiguousarray(rgb).tobytes()
    return msg


def image_to_rgb(msg: Image) -> np.ndarray:
    """sensor_msgs/Image rgb8 -> uint8 (rows, cols, 3) array."""
    if msg.encoding != 'rgb8':
        raise ValueError(f"expected an rgb8 image, got '{msg.encoding}'")
    rows = np.frombuffer(bytes(msg.data), dtype=np.uint8).reshape(msg.height, msg.step)
    return rows[:, : msg.width * 3].reshape(msg.height, msg.width, 3)
