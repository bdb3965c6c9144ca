"""Ink segmentation that does not care how the sheet is lit.

The paper's own brightness is estimated at every pixel by a grey-level closing (a max filter that
erases the dark ink, then a min filter that restores the shape of the illumination) over a window
wider than any stroke, then smoothed. Darkness = 1 − brightness / paper brightness is then a
property of the ink alone: a gradient of light across the sheet, or a vignette, divides out.
"""

from __future__ import annotations

import cv2
import numpy as np

from camera_feedback.config import SegmentationConfig

# The closing runs on a reduced image: illumination varies slowly, and the large window is
# 16x cheaper there.
_REDUCTION = 4


def to_grey(image: np.ndarray) -> np.ndarray:
    """float32 luminance 0..255 of an rgb (H, W, 3) or mono (H, W) image."""
    if image.ndim == 2:
        return image.astype(np.float32)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def paper_brightness(
    grey: np.ndarray, metres_per_pixel: float, config: SegmentationConfig
) -> np.ndarray:
    """float32 estimate of the bare paper's brightness at every pixel."""
    rows, cols = grey.shape
    small_size = (max(1, cols // _REDUCTION), max(1, rows // _REDUCTION))
    small = cv2.resize(grey, small_size, interpolation=cv2.INTER_AREA)
    window = max(3, int(round(config.background_window_m / (metres_per_pixel * _REDUCTION))))
    window |= 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (window, window))
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REPLICATE)
    smooth = cv2.blur(closed, (window, window), borderType=cv2.BORDER_REPLICATE)
    # The blur pulls bright paper towards the rare darker spots the closing left; the max keeps
    # the estimate from dropping under the closing (which would make paper read as ink).
    background = np.maximum(closed, smooth)
    return cv2.resize(background, (cols, rows), interpolation=cv2.INTER_LINEAR)


def ink_darkness(
    image: np.ndarray, metres_per_pixel: float, config: SegmentationConfig
) -> np.ndarray:
    """float32 darkness 0 (paper) .. 1 (black) with the illumination removed."""
    grey = to_grey(image)
    background = paper_brightness(grey, metres_per_pixel, config)
    darkness = 1.0 - grey / np.maximum(background, 1.0)
    return np.clip(darkness, 0.0, 1.0).astype(np.float32)


def segment_ink(
    darkness: np.ndarray, metres_per_pixel: float, config: SegmentationConfig
) -> np.ndarray:
    """bool ink mask: pixels darker than the minimum and than half (edge_level_fraction) of the
    darkest ink nearby."""
    window = max(3, int(round(2 * config.level_window_m / metres_per_pixel)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (window, window))
    local_level = cv2.dilate(darkness, kernel, borderType=cv2.BORDER_REPLICATE)
    threshold = np.maximum(config.min_ink_darkness, config.edge_level_fraction * local_level)
    return darkness >= threshold
