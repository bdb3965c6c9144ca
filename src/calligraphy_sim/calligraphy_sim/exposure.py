"""The simulated camera's optics: the noiseless image of a sheet, and its sensor noise's sigma.

The sheet (with its printed corner markers and paper texture) is projected through the camera at
`supersample` samples per pixel each way, area-averaged, blurred and lit. A new stroke changes a
few square centimetres of a 30 x 21 cm sheet: `SheetExposure.update` forms again only the part of
the image that the changed sheet pixels can reach (through the projection's bilinear footprint,
the supersampling and the blur), and keeps the rest. Forming the whole image took 0.05-0.07 s of
CPU alone and 0.17-0.23 s beside the running cell, and the frame an observation waits for is the
first one after a stroke changed the sheet.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from calligraphy_model.sheet_markers import SheetMarkers

# A change that reaches more of the image than this is formed again whole: the region's own
# margins would cost more than they save.
_WHOLE_IMAGE_ABOVE = 0.5


def marker_ink(shape: tuple[int, int], sheet_mpp: float, markers: SheetMarkers) -> np.ndarray:
    """float32 (rows, cols): the fraction of light the printed corner markers let through (1 off
    the markers)."""
    ink = np.ones(shape, np.float32)
    rows, cols = shape
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, markers.dictionary))
    side = int(round(markers.size_m / sheet_mpp))
    margin = int(round(markers.margin_m / sheet_mpp))
    # Marker image top-left pixel on the sheet raster for the lower-left, lower-right,
    # upper-right and upper-left corners.
    origins = [
        (rows - margin - side, margin),
        (rows - margin - side, cols - margin - side),
        (margin, cols - margin - side),
        (margin, margin),
    ]
    for marker_id, (top, left) in zip(markers.ids, origins, strict=True):
        # Drawn large then area-averaged, so cell edges that fall inside a pixel come out grey.
        big = cv2.aruco.generateImageMarker(dictionary, marker_id, side * 8)
        marker = cv2.resize(big, (side, side), interpolation=cv2.INTER_AREA)
        ink[top : top + side, left : left + side] = marker.astype(np.float32) / 255.0
    return ink


def apply_ink(sheet: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """The uint8 rgb sheet with `ink` (marker_ink, or the same part of it) printed over it."""
    inked = ink < 1.0
    printed = sheet.copy()
    printed[inked] = (sheet[inked].astype(np.float32) * ink[inked][:, None]).astype(np.uint8)
    return printed


def _blur_radius(sigma_px: float) -> int:
    """The half width of OpenCV's Gaussian kernel for a float image and `sigma_px`."""
    if sigma_px <= 0.0:
        return 0
    return (int(round(sigma_px * 8 + 1)) | 1) // 2


class SheetExposure:
    """The noiseless float32 image of the last sheet imaged (`signal`, height x width x 3) and its
    sensor noise's sigma (`noise_sigma`); `update` changes both in place."""

    def __init__(
        self,
        config,
        sheet_shape: tuple[int, int],
        sheet_mpp: float,
        texture: np.ndarray,
        lighting: np.ndarray,
    ) -> None:
        """`config`: a SimCameraConfig; `texture`: float32 (rows, cols) paper fibre texture;
        `lighting`: float32 (height_px, width_px) light over the image."""
        self.config = config
        self._texture = texture[..., None]
        # The brightest digital number at each image pixel: the light times the exposure.
        self.light = (config.exposure * lighting)[..., None].astype(np.float32)
        self._ink = marker_ink(sheet_shape, sheet_mpp, config.markers)
        s = config.supersample
        rows = sheet_shape[0]
        camera_from_super = np.array(
            [[1 / s, 0, 0.5 / s - 0.5], [0, 1 / s, 0.5 / s - 0.5], [0, 0, 1]]
        )
        sheet_pixel_from_paper = np.array(
            [[1 / sheet_mpp, 0, -0.5], [0, -1 / sheet_mpp, rows - 0.5], [0, 0, 1]]
        )
        image_from_paper = config.homography_image_from_paper()
        self._sheet_from_super = (
            sheet_pixel_from_paper @ np.linalg.inv(image_from_paper) @ camera_from_super
        )
        self._image_from_sheet = image_from_paper @ np.linalg.inv(sheet_pixel_from_paper)
        # Image pixels a changed sheet pixel reaches beyond its projection: the bilinear sample
        # and the supersample's area (one pixel), then the blur kernel.
        self._reach_px = 2 + _blur_radius(config.blur_px)
        self.sheet: np.ndarray | None = None
        self.albedo: np.ndarray | None = None
        self.signal = self.noise_sigma = np.empty(0, np.float32)
        self.formed = 0  # how many times signal and noise_sigma changed

    def forget(self) -> None:
        """Forget the last sheet: the next update forms the whole image."""
        self.sheet = self.albedo = None

    def update(self, sheet: np.ndarray) -> bool:
        """Image `sheet`; False if it is the sheet imaged last (nothing formed again)."""
        if self.sheet is None or self.albedo is None:
            self._form_whole(sheet)
            return True
        if np.array_equal(sheet, self.sheet):
            return False
        changed = np.any(sheet != self.sheet, axis=2)
        rows = np.flatnonzero(changed.any(axis=1))
        cols = np.flatnonzero(changed.any(axis=0))
        top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        region = self._image_region(top, bottom, left, right)
        cfg = self.config
        if region is None or (
            (region[1] - region[0]) * (region[3] - region[2])
            > _WHOLE_IMAGE_ABOVE * cfg.width_px * cfg.height_px
        ):
            self._form_whole(sheet)
            return True
        self.albedo[top:bottom, left:right] = self._albedo(sheet, top, bottom, left, right)
        self.sheet[top:bottom, left:right] = sheet[top:bottom, left:right]
        self._form(*region)
        return True

    def _form_whole(self, sheet: np.ndarray) -> None:
        rows, cols = sheet.shape[:2]
        self.albedo = self._albedo(sheet, 0, rows, 0, cols)
        self.sheet = sheet.copy()
        cfg = self.config
        self.signal = np.empty((cfg.height_px, cfg.width_px, 3), np.float32)
        self.noise_sigma = np.empty_like(self.signal)
        self._form(0, cfg.height_px, 0, cfg.width_px)

    def _albedo(self, sheet, top: int, bottom: int, left: int, right: int) -> np.ndarray:
        part = apply_ink(sheet[top:bottom, left:right], self._ink[top:bottom, left:right])
        return part.astype(np.float32) / 255.0 * self._texture[top:bottom, left:right]

    def _image_region(self, top, bottom, left, right) -> tuple[int, int, int, int] | None:
        """(top, bottom, left, right) of the image pixels the sheet pixels [top, bottom) x
        [left, right) can change; None if the change reaches no part of the image."""
        # Pixel centres at integer coordinates: the changed pixels span [left - 0.5, right -
        # 0.5] and a bilinear sample reads the pixels within one of its point.
        x0, x1, y0, y1 = left - 1.5, right + 0.5, top - 1.5, bottom + 0.5
        corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float64)
        projected = cv2.perspectiveTransform(corners, self._image_from_sheet)[0]
        reach = self._reach_px
        cfg = self.config
        u0 = max(0, math.floor(projected[:, 0].min()) - reach)
        u1 = min(cfg.width_px, math.ceil(projected[:, 0].max()) + reach + 1)
        v0 = max(0, math.floor(projected[:, 1].min()) - reach)
        v1 = min(cfg.height_px, math.ceil(projected[:, 1].max()) + reach + 1)
        if u0 >= u1 or v0 >= v1:
            return None
        return v0, v1, u0, u1

    def _form(self, top: int, bottom: int, left: int, right: int) -> None:
        """Form the image rows [top, bottom) and columns [left, right) into signal/noise_sigma,
        from the blur kernel's reach around them (the same values as forming the whole image:
        at the image's edges the blur reflects the same pixels)."""
        cfg = self.config
        s = cfg.supersample
        pad = _blur_radius(cfg.blur_px)
        v0, v1 = max(0, top - pad), min(cfg.height_px, bottom + pad)
        u0, u1 = max(0, left - pad), min(cfg.width_px, right + pad)
        # The supersampled part starts at supersampled pixel (s u0, s v0).
        shift = np.array([[1.0, 0.0, s * u0], [0.0, 1.0, s * v0], [0.0, 0.0, 1.0]])
        super_image = cv2.warpPerspective(
            self.albedo,
            self._sheet_from_super @ shift,
            ((u1 - u0) * s, (v1 - v0) * s),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=tuple(float(c) for c in cfg.table_rgb),
        )
        image = cv2.resize(super_image, (u1 - u0, v1 - v0), interpolation=cv2.INTER_AREA)
        if cfg.blur_px > 0:
            image = cv2.GaussianBlur(image, (0, 0), cfg.blur_px)
        image = image[top - v0 : bottom - v0, left - u0 : right - u0]
        signal = image * self.light[top:bottom, left:right]
        self.signal[top:bottom, left:right] = signal
        self.noise_sigma[top:bottom, left:right] = np.sqrt(
            cfg.read_noise**2 + cfg.shot_noise_gain * signal
        )
        self.formed += 1
