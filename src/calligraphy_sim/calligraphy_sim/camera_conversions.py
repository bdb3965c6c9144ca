"""Simulated camera ↔ ROS messages (sensor_msgs/Image, sensor_msgs/CameraInfo)."""

from __future__ import annotations

import numpy as np
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from calligraphy_sim.camera import SimCameraConfig


def rgb8_to_array(msg: Image) -> np.ndarray:
    """(H, W, 3) uint8 view of an rgb8 image; ValueError for any other encoding or bad size."""
    if msg.encoding != 'rgb8':
        raise ValueError(f'expected an rgb8 image, got {msg.encoding!r}')
    if msg.step < 3 * msg.width or len(msg.data) < msg.step * msg.height:
        raise ValueError(
            f'image data of {len(msg.data)} bytes does not hold {msg.height} rows of step '
            f'{msg.step}'
        )
    rows = np.frombuffer(bytes(msg.data), np.uint8)[: msg.step * msg.height]
    return rows.reshape(msg.height, msg.step)[:, : 3 * msg.width].reshape(msg.height, msg.width, 3)


def array_to_rgb8(image: np.ndarray, header: Header) -> Image:
    msg = Image(header=header, height=image.shape[0], width=image.shape[1], encoding='rgb8')
    msg.is_bigendian = 0
    msg.step = 3 * image.shape[1]
    msg.data = np.ascontiguousarray(image, dtype=np.uint8).tobytes()
    return msg


def camera_info(config: SimCameraConfig, header: Header) -> CameraInfo:
    """Pinhole CameraInfo of the simulated camera (no distortion)."""
    k = config.camera_matrix()
    msg = CameraInfo(header=header, height=config.height_px, width=config.width_px)
    msg.distortion_model = 'plumb_bob'
    msg.d = [0.0] * 5
    msg.k = [float(v) for v in k.reshape(-1)]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [k[0, 0], 0.0, k[0, 2], 0.0, 0.0, k[1, 1], k[1, 2], 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg
