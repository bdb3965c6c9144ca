"""Simulated colour camera looking at the sheet.

The virtual paper's image (rgb, row 0 = top of the sheet, `sheet_mpp` metres per pixel) gets the
printed corner markers and a paper texture, is projected through a pinhole camera posed above the
table (perspective included), lit by a light whose intensity falls off across the sheet, blurred by
the optics, and read out with shot and read noise into an 8-bit rgb frame.

Conventions: camera pose in the `paper` frame; optical frame per REP-103 (z forward, x right, y
down in the image); pixel centres at integer coordinates, as in OpenCV.

Where the camera is: in the simulated cell, where the cell description says
(`camera_color_optical_frame` of urdf/cell.yaml, seen from its `paper` entry:
:func:`camera_pose_from_cell`), the same extrinsics every other node reads. The config's own
default pose (an oblique view from 0.33 m) is for unit tests and benchmarks that render the sheet
without a cell; the sim camera node takes no pose parameters, only the cell description.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from calligraphy_model.cell_description import (
    SHEET_HEIGHT_M,
    SHEET_WIDTH_M,
    fixed_pose_in_base,
    load_cell_yaml,
    quaternion_from_rotation,
)
from calligraphy_model.raster import DEFAULT_MPP
from calligraphy_model.settings import setting
from calligraphy_model.sheet_markers import SheetMarkers
from calligraphy_sim.exposure import SheetExposure, apply_ink, marker_ink

# A joint moved by no more than this leaves the arm's picture as it was (calligraphy_sim.arm_view)
# and the arm counted as standing (sim_camera_node): 0.1 mm at the brush 1 m from the shoulder,
# well under the camera's pixel on the sheet.
STILL_RAD = 1e-4


@dataclass(frozen=True)
class SimCameraNodeConfig:
    """The simulated camera node's own settings (parameters without a prefix)."""

    rate_hz: float = setting(5.0, 'frames per second', unit='Hz')
    moving_rate_hz: float = setting(
        1.0,
        'frames per second at most while the arm moves (render_arm): a frame of the arm in '
        'motion is two MuJoCo renders and a new exposure, 0.13 s of CPU, that nothing in the '
        'cell looks at; a still arm is imaged at rate_hz',
        unit='Hz',
    )
    frame_id: str = setting('camera_color_optical_frame', 'optical frame')
    seed: int = setting(0, 'noise seed')
    cell_yaml: str = setting(
        '',
        "cell description whose camera_color_optical_frame and paper pose the camera ('' = "
        'urdf/cell.yaml)',
    )
    render_arm: bool = setting(
        False,
        'render the arm and brush over the sheet, and their shadow, posed from joint_states at '
        "each frame's time (MuJoCo, calligraphy_sim.arm_view)",
    )
    urdf_path: str = setting('', "cell URDF the arm is rendered from ('' = the checkout's urdf/)")

    def __post_init__(self) -> None:
        if not (self.rate_hz > 0 and math.isfinite(self.rate_hz)):
            raise ValueError(f'rate_hz must be positive, got {self.rate_hz}')
        if not (0 < self.moving_rate_hz <= self.rate_hz):
            raise ValueError(
                f'moving_rate_hz must be in (0, rate_hz = {self.rate_hz}], got '
                f'{self.moving_rate_hz}'
            )


@dataclass(frozen=True)
class SheetImageConfig:
    """The virtual paper image the camera looks at (parameters `paper.*`)."""

    width_m: float = setting(SHEET_WIDTH_M, 'sheet width', unit='m')
    height_m: float = setting(SHEET_HEIGHT_M, 'sheet height', unit='m')
    metres_per_pixel: float = setting(DEFAULT_MPP, 'virtual paper image pitch', unit='m/px')


@dataclass(frozen=True)
class SimCameraConfig:
    """Intrinsics, pose and image formation of the simulated camera.

    The default pose looks down at an A4-landscape sheet from 0.33 m, from a point 9 cm in front of
    the sheet's centre (towards the writer), so the sheet appears as a trapezoid, like a
    RealSense D435 colour stream (about 69° horizontal field of view at 1280 x 720).
    """

    width_px: int = setting(1280, 'image width', unit='px')
    height_px: int = setting(720, 'image height', unit='px')
    fx_px: float = setting(920.0, 'focal length x', unit='px')
    fy_px: float = setting(920.0, 'focal length y', unit='px')
    # Principal point; NaN = the image centre.
    cx_px: float = float('nan')
    cy_px: float = float('nan')
    position_m: tuple[float, float, float] = setting(
        (0.1485, 0.015, 0.33), 'camera centre in paper', unit='m'
    )
    look_at_m: tuple[float, float, float] = setting(
        (0.1485, 0.105, 0.0), 'point looked at, paper', unit='m'
    )
    # Orientation of the optical frame in `paper` (quaternion x, y, z, w); NaN = look at
    # look_at_m with the image upright on the sheet (see rotation_paper_from_camera).
    orientation_xyzw: tuple[float, float, float, float] = setting(
        (math.nan, math.nan, math.nan, math.nan), 'optical frame in paper, quaternion xyzw'
    )
    # Brightest paper (digital numbers of 255) at the brightest point of the light.
    exposure: float = 235.0
    # Fraction of the light lost from the brightest spot to the farthest sheet corner.
    light_falloff: float = setting(0.35, 'light lost to the far corner', low=0.0, high=1.0)
    # Where the light is brightest on the sheet, paper metres.
    light_centre_m: tuple[float, float] = (0.05, 0.19)
    # Optics blur (Gaussian sigma) in camera pixels.
    blur_px: float = setting(0.6, 'optics blur sigma', unit='px', low=0.0)
    # Read noise sigma (digital numbers) and shot-noise variance per digital number of signal.
    read_noise: float = setting(1.5, 'read noise', unit='DN', low=0.0)
    shot_noise_gain: float = setting(0.08, 'shot noise variance per DN', low=0.0)
    # Relative amplitude of the paper fibre texture.
    paper_texture: float = setting(0.03, 'paper texture amplitude', low=0.0)
    # Colour of the table around the sheet, rgb 0..1.
    table_rgb: tuple[float, float, float] = (0.45, 0.36, 0.28)
    # Renders at this many samples per camera pixel (each axis) then averages: anti-aliasing.
    supersample: int = 2
    markers: SheetMarkers = field(default_factory=SheetMarkers)

    def __post_init__(self) -> None:
        if self.width_px < 16 or self.height_px < 16:
            raise ValueError('camera image must be at least 16 x 16 pixels')
        if self.fx_px <= 0 or self.fy_px <= 0:
            raise ValueError('focal lengths must be positive')
        if not 0.0 <= self.light_falloff < 1.0:
            raise ValueError('light_falloff must lie in [0, 1)')
        if self.supersample < 1:
            raise ValueError('supersample must be >= 1')
        if self.has_orientation:
            quaternion = np.asarray(self.orientation_xyzw, dtype=float)
            if abs(np.linalg.norm(quaternion) - 1.0) > 1e-6:
                raise ValueError(f'orientation_xyzw must be a unit quaternion, got {quaternion}')
            if self.rotation_paper_from_camera()[2, 2] >= 0.0:
                raise ValueError('the camera must look down at the sheet (optical z towards -z)')
            return
        forward = np.subtract(self.look_at_m, self.position_m)
        if np.linalg.norm(forward) < 1e-6:
            raise ValueError('camera position and look-at point coincide')
        if abs(forward[0]) < 1e-9 and abs(forward[2]) < 1e-9:
            raise ValueError('camera must not look straight along the sheet y axis')

    def camera_matrix(self) -> np.ndarray:
        """3x3 intrinsic matrix K."""
        cx = (self.width_px - 1) / 2 if np.isnan(self.cx_px) else self.cx_px
        cy = (self.height_px - 1) / 2 if np.isnan(self.cy_px) else self.cy_px
        return np.array([[self.fx_px, 0.0, cx], [0.0, self.fy_px, cy], [0.0, 0.0, 1.0]])

    @property
    def has_orientation(self) -> bool:
        """Whether the orientation is given (orientation_xyzw) rather than looked at."""
        return bool(np.all(np.isfinite(self.orientation_xyzw)))

    def rotation_paper_from_camera(self) -> np.ndarray:
        """3x3 rotation whose columns are the optical frame's axes in `paper`: orientation_xyzw
        when given, else looking at look_at_m with the image's up direction as close as possible
        to the sheet's +y (its top)."""
        if self.has_orientation:
            return _rotation_from_quaternion(np.asarray(self.orientation_xyzw, dtype=float))
        z_axis = np.subtract(self.look_at_m, self.position_m).astype(float)
        z_axis /= np.linalg.norm(z_axis)
        sheet_up = np.array([0.0, 1.0, 0.0])
        y_axis = -(sheet_up - sheet_up.dot(z_axis) * z_axis)
        y_axis /= np.linalg.norm(y_axis)
        x_axis = np.cross(y_axis, z_axis)
        return np.stack([x_axis, y_axis, z_axis], axis=1)

    def homography_image_from_paper(self) -> np.ndarray:
        """3x3 map of the paper plane (x, y, 1) metres to image pixels (u, v, 1)."""
        rotation = self.rotation_paper_from_camera().T  # camera ← paper
        translation = -rotation @ np.asarray(self.position_m, dtype=float)
        homography = self.camera_matrix() @ np.column_stack(
            [rotation[:, 0], rotation[:, 1], translation]
        )
        return homography / homography[2, 2]

    def project(self, points_m: np.ndarray) -> np.ndarray:
        """Paper points (N, 2) on the sheet plane → image pixels (N, 2)."""
        points = np.asarray(points_m, dtype=float).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(points, self.homography_image_from_paper()).reshape(-1, 2)


def _rotation_from_quaternion(quaternion_xyzw: np.ndarray) -> np.ndarray:
    x, y, z, w = quaternion_xyzw / np.linalg.norm(quaternion_xyzw)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def camera_pose_from_cell(cell: dict | str | None = None) -> dict[str, tuple[float, ...]]:
    """The camera's pose in `paper` from a cell description (its loaded contents, a path, or None
    for urdf/cell.yaml): SimCameraConfig fields `position_m` and `orientation_xyzw`.

    Both the optical frame (`camera_color_optical_frame`) and the sheet (`paper`) are given in
    base_link there; the camera sees the sheet from
    paper_T_camera = inv(base_T_paper) · base_T_camera.
    A cell description whose sheet was moved (calligraphy calibrate --sim-perturb) therefore moves
    the sheet in the picture, not the camera.
    """
    description = cell if isinstance(cell, dict) else load_cell_yaml(cell)
    paper = fixed_pose_in_base(description, 'paper')
    camera = fixed_pose_in_base(description, 'camera_color_optical_frame')
    pose = np.linalg.inv(paper) @ camera
    return {
        'position_m': tuple(float(v) for v in pose[:3, 3]),
        'orientation_xyzw': quaternion_from_rotation(pose[:3, :3]),
    }


def print_markers(sheet_rgb: np.ndarray, sheet_mpp: float, markers: SheetMarkers) -> np.ndarray:
    """A copy of the sheet image with the corner markers printed in black."""
    return apply_ink(sheet_rgb, marker_ink(sheet_rgb.shape[:2], sheet_mpp, markers))


def paper_texture(shape: tuple[int, int], amplitude: float, seed: int = 7) -> np.ndarray:
    """float32 multiplicative fibre texture (≈1 ± amplitude), fixed for a seed: the same sheet
    looks the same in every frame."""
    rng = np.random.default_rng(seed)
    fine = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 1.0)
    coarse = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 6.0)
    texture = fine / max(float(fine.std()), 1e-6) + 0.7 * coarse / max(float(coarse.std()), 1e-6)
    return (1.0 + amplitude * texture / 1.22).astype(np.float32)


def _normal_table(rng: np.random.Generator) -> np.ndarray:
    """float32 table of 65,536 standard normal deviates (mean 0 and deviation 1 exactly), which
    16 random bits pick from: the sensor noise of a frame. numpy's standard_normal took 33 ms of
    CPU for a 1280 x 720 x 3 frame, this 11 ms (the camera images 5 frames a second); the
    table's 65,536 values reach past 4 sigma, and a frame is rounded to whole digital numbers."""
    table = rng.standard_normal(65536)
    return ((table - table.mean()) / table.std()).astype(np.float32)


class SimulatedCamera:
    """Renders camera frames of a sheet image. Deterministic for a seed."""

    def __init__(
        self,
        config: SimCameraConfig | None = None,
        sheet_size_m: tuple[float, float] = (SHEET_WIDTH_M, SHEET_HEIGHT_M),
        sheet_mpp: float = DEFAULT_MPP,
        seed: int = 0,
    ) -> None:
        self.config = config or SimCameraConfig()
        self.sheet_size_m = sheet_size_m
        self.sheet_mpp = sheet_mpp
        self._rng = np.random.default_rng(seed)
        self._normal_table = _normal_table(self._rng)
        self._sheet_shape = (
            int(round(sheet_size_m[1] / sheet_mpp)),
            int(round(sheet_size_m[0] / sheet_mpp)),
        )
        # The optics are the same for the same sheet (only the sensor noise is new), and a stroke
        # changes only a part of the image.
        self.optics = SheetExposure(
            self.config,
            self._sheet_shape,
            sheet_mpp,
            paper_texture(self._sheet_shape, self.config.paper_texture),
            self._light_map(),
        )
        # (arm overlay, optics.formed, signal, noise sigma) of the last frame with the arm in it.
        self._composed: tuple | None = None

    @property
    def sheet_shape(self) -> tuple[int, int]:
        """(rows, cols) of the sheet image this camera expects."""
        return self._sheet_shape

    def blank_sheet(self) -> np.ndarray:
        """uint8 rgb image of an empty white sheet."""
        return np.full((*self._sheet_shape, 3), 255, np.uint8)

    def _light_map(self) -> np.ndarray:
        """float32 light intensity (0..1] over the camera image, from the sheet's light pattern
        seen through the camera (the table gets the same light)."""
        cfg = self.config
        inverse = np.linalg.inv(cfg.homography_image_from_paper())
        v, u = np.mgrid[0 : cfg.height_px, 0 : cfg.width_px].astype(np.float32)
        points = np.stack([u, v], axis=-1).reshape(-1, 1, 2)
        paper = cv2.perspectiveTransform(points, inverse).reshape(cfg.height_px, cfg.width_px, 2)
        width, height = self.sheet_size_m
        corners = np.array([[0, 0], [width, 0], [width, height], [0, height]])
        farthest = np.max(np.linalg.norm(corners - cfg.light_centre_m, axis=1))
        distance = np.linalg.norm(paper - np.asarray(cfg.light_centre_m), axis=-1) / farthest
        return (1.0 - cfg.light_falloff * np.clip(distance, 0.0, 1.5) ** 2).astype(np.float32)

    def render(self, sheet_rgb: np.ndarray | None = None, arm=None) -> np.ndarray:
        """uint8 rgb (height_px, width_px, 3) camera frame of the sheet (None = blank sheet).

        `arm`: an :class:`~calligraphy_sim.arm_view.ArmOverlay` of this camera's frame, or None:
        the arm and brush hide the sheet where its mask says, and its shadow dims the sheet."""
        sheet = self.blank_sheet() if sheet_rgb is None else sheet_rgb
        if sheet.shape[:2] != self._sheet_shape or sheet.dtype != np.uint8:
            raise ValueError(
                f'sheet image must be uint8 {self._sheet_shape} rgb, got {sheet.dtype} '
                f'{sheet.shape}'
            )
        optics = self.optics
        optics.update(sheet)
        signal, noise_sigma = optics.signal, optics.noise_sigma
        if arm is not None:
            # The same arm (ArmView hands back its last overlay while the arm stands still) over
            # the same exposure looks the same: composed once, not again for every frame.
            cached = self._composed
            if cached is None or cached[0] is not arm or cached[1] != optics.formed:
                cfg = self.config
                shaded = signal * arm.shade[..., None]
                lit_arm = arm.rgb * optics.light
                shaded = np.where(arm.mask[..., None], lit_arm, shaded).astype(np.float32)
                sigma = np.sqrt(cfg.read_noise**2 + cfg.shot_noise_gain * shaded)
                self._composed = cached = (arm, optics.formed, shaded, sigma)
            signal, noise_sigma = cached[2], cached[3]
        bits = np.frombuffer(self._rng.bytes(2 * signal.size), np.uint16).reshape(signal.shape)
        noisy = np.take(self._normal_table, bits)
        noisy *= noise_sigma
        noisy += signal
        np.rint(noisy, out=noisy)
        np.clip(noisy, 0, 255, out=noisy)
        return noisy.astype(np.uint8)
