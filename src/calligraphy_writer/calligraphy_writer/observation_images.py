"""Saving the camera's rectified view of a written character (with the goal's result)."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np


def save_observation(save_dir: str, character: str, image) -> str:
    """Write `image` (a sensor_msgs/Image, rgb8 or mono8) as a PNG named after the time and the
    character's code point into `save_dir`; its absolute path, or '' when `save_dir` is empty or
    the image has no pixels."""
    if not save_dir or not image.data:
        return ''
    channels = 3 if image.encoding == 'rgb8' else 1
    pixels = np.frombuffer(bytes(image.data), np.uint8).reshape(
        image.height, image.width, channels
    )
    if channels == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    folder = Path(save_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f'{time.strftime("%Y%m%d-%H%M%S")}-U+{ord(character):04X}.png'
    cv2.imwrite(str(path), pixels)
    return str(path.resolve())
