"""Lens-distortion correction from a camera's calibration (sensor_msgs/CameraInfo fields; no ROS).

The sheet is rectified by a homography fitted to its four markers, which is exact only for an
ideal pinhole camera: a real lens bends straight lines, so ink between the markers lands up to a
few pixels off. Before rectifying, each frame is remapped to the pinhole image that the camera's
intrinsics K describe, undoing the distortion coefficients D of its declared model:

- `plumb_bob` (OpenCV's radial-tangential model, 4, 5 or 8 coefficients k1 k2 p1 p2 [k3 [k4 k5
  k6]]); realsense2_camera declares it for every colour stream that is not Kannala-Brandt
  (base_realsense_node.cpp, updateStreamCalibData), with librealsense's coefficients as they are;
- `rational_polynomial` (the same with 8 coefficients);
- `equidistant` (Kannala-Brandt / OpenCV fisheye, 4 coefficients), which realsense2_camera
  declares for RS2_DISTORTION_KANNALA_BRANDT4.

Any other model is refused (`UnsupportedLensError`) rather than silently ignored. Zero
coefficients need no remap: the image is used as it is. The corrected image keeps K, so pixel
positions of the undistorted frame are those of the ideal camera K describes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from camera_feedback.types import BAD_ENCODING, ObservationError

RADIAL_TANGENTIAL = ('plumb_bob', 'rational_polynomial')
FISHEYE = ('equidistant',)
SUPPORTED_MODELS = RADIAL_TANGENTIAL + FISHEYE
# Coefficient counts cv2.undistort accepts for the radial-tangential family.
_RADIAL_TANGENTIAL_SIZES = (4, 5, 8, 12, 14)


class UnsupportedLensError(ObservationError):
    """A camera calibration this node cannot correct (unknown model, bad K or D)."""

    def __init__(self, message: str) -> None:
        super().__init__(BAD_ENCODING, message)


@dataclass(frozen=True)
class LensModel:
    """A camera's calibration: image size, intrinsics K (row-major 3x3), model and coefficients."""

    width_px: int
    height_px: int
    k: tuple[float, ...]
    distortion_model: str
    d: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.width_px <= 0 or self.height_px <= 0:
            raise UnsupportedLensError(
                f'camera_info has no image size ({self.width_px} x {self.height_px})'
            )
        k = np.asarray(self.k, dtype=float)
        if k.shape != (9,) or not np.all(np.isfinite(k)) or k[0] <= 0 or k[4] <= 0:
            raise UnsupportedLensError(f'camera_info K is not a camera matrix: {list(self.k)}')
        if not np.all(np.isfinite(self.d)):
            raise UnsupportedLensError(f'camera_info D is not finite: {list(self.d)}')
        if self.distorted:
            model = self.distortion_model
            if model not in SUPPORTED_MODELS:
                raise UnsupportedLensError(
                    f'lens distortion model {model!r} cannot be corrected (supported: '
                    f'{", ".join(SUPPORTED_MODELS)})'
                )
            sizes = (4,) if model in FISHEYE else _RADIAL_TANGENTIAL_SIZES
            if len(self.d) not in sizes:
                raise UnsupportedLensError(
                    f'{model} needs {" or ".join(map(str, sizes))} distortion coefficients, '
                    f'camera_info has {len(self.d)}'
                )

    @property
    def distorted(self) -> bool:
        """False when there is nothing to correct (no coefficients, or all zero)."""
        return any(value != 0.0 for value in self.d)

    @property
    def camera_matrix(self) -> np.ndarray:
        return np.asarray(self.k, dtype=float).reshape(3, 3)


class Undistorter:
    """Remaps frames to the pinhole image of their LensModel; maps are built once per model.
    Thread-safe (frames arrive on one thread, observations run on another)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: LensModel | None = None
        self._maps: tuple[np.ndarray, np.ndarray] | None = None

    def undistort(self, image: np.ndarray, model: LensModel) -> np.ndarray:
        """`image` (H, W[, C]) uint8 without the lens distortion of `model`."""
        if not model.distorted:
            return image
        rows, cols = image.shape[:2]
        if (cols, rows) != (model.width_px, model.height_px):
            raise UnsupportedLensError(
                f'image is {cols} x {rows} px but its camera_info describes '
                f'{model.width_px} x {model.height_px} px'
            )
        map_x, map_y = self._maps_for(model)
        return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def _maps_for(self, model: LensModel) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if self._model != model:
                self._maps = undistortion_maps(model)
                self._model = model
            return self._maps


def undistortion_maps(model: LensModel) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps from the ideal (pinhole K) image to the distorted one."""
    k = model.camera_matrix
    d = np.asarray(model.d, dtype=float)
    size = (model.width_px, model.height_px)
    if model.distortion_model in FISHEYE:
        return cv2.fisheye.initUndistortRectifyMap(k, d, np.eye(3), k, size, cv2.CV_16SC2)
    return cv2.initUndistortRectifyMap(k, d, np.eye(3), k, size, cv2.CV_16SC2)
