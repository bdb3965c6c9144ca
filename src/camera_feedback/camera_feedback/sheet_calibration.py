"""Where the sheet really lies: its pose in base_link from the camera, its height from touching.

No ROS here; `calibration_run` sequences these fits on a cell, `calligraphy calibrate` runs them.

From the camera (:func:`sheet_pose_from_markers`)
    The printed ArUco markers (calligraphy_model.sheet_markers) give 16 image corners whose
    positions on the sheet are known. The camera's extrinsics are NOT estimated: they are the cell
    description's `camera_color_optical_frame` in base_link, base_T_camera, and its intrinsics K
    and distortion come from the camera (camera_info). Each corner's pixel is undistorted
    (cv2.undistortPoints) into a viewing ray r = K⁻¹ (u, v, 1) in the optical frame, turned into
    base_link (origin c = base_T_camera's translation, direction R r), and intersected with the
    sheet's plane, z = z_sheet in base_link (the table is level: the sheet can move and turn on
    it, not tilt). The intersections are the corners in base_link; a rigid 2-D fit (Kabsch) of
    the corners' sheet coordinates onto them gives the sheet's origin (x, y) and yaw, so
    base_T_paper = [Rz(yaw) | (x, y, z_sheet)]. The plane height comes from touching down (next);
    before that the nominal height is used, and the corners are intersected again once the touch
    has measured it (a height error δz moves a corner seen at distance ρ from the optical axis,
    h above the sheet, by δz·ρ/h outwards: 2 mm at 0.17 m from 0.6 m is 0.57 mm; with the sheet
    centred under the camera the rigid fit's pose hardly moves, the spread shows in its residual).

    A marker-registration homography alone would give the sheet in the image, not in base_link:
    the extrinsics are what turn "where in the image" into "where the arm must go".

From touching down (:func:`contact_bracket`)
    The brush is lowered at commanded depths (relative to the nominal sheet plane: d > 0 presses
    in) in a row of short dabs; the camera compares the sheet before and after, and the dabs that
    left ink tell where the sheet's surface is. A coarse row brackets the contact, a fine row
    inside the bracket narrows it; the sheet lies `-d_contact` above nominal, d_contact being the
    midpoint between the deepest clean and the shallowest inked dab.

Ink is measured as darkening against the same spot before, 1 − after/before, sampled on the
sheet (:func:`sample_window`) and integrated over a window (:func:`ink_area_m2`): lighting and
paper texture cancel, and the sum holds even for a line thinner than a camera pixel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from calligraphy_model.errors import CalligraphyError
from calligraphy_model.sheet_markers import SheetMarkers

# Error codes of a failed calibration (what `calligraphy calibrate` exits with: 1).
MARKERS_NOT_SEEN = 1
NO_CONTACT = 2
CONTACT_AT_FIRST_TOUCH = 3
PATTERN_NOT_MEASURABLE = 4


class CalibrationError(CalligraphyError):
    """The calibration could not measure what it needs; `code` says which step failed."""


@dataclass(frozen=True)
class CameraModel:
    """A camera as the calibration uses it: intrinsics from camera_info, extrinsics from the cell
    description (base_link ← optical frame, REP-103)."""

    matrix: np.ndarray  # 3x3 K
    distortion: np.ndarray  # OpenCV coefficients (plumb_bob k1 k2 p1 p2 k3), may be empty
    base_from_camera: np.ndarray  # 4x4

    def rays_in_base(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Camera centre (3,) and unit ray directions (N, 3) in base_link of pixels (N, 2)."""
        points = np.asarray(pixels, dtype=np.float64).reshape(-1, 1, 2)
        distortion = np.asarray(self.distortion, dtype=np.float64).reshape(-1)
        normalised = cv2.undistortPoints(points, self.matrix, distortion).reshape(-1, 2)
        rays = np.column_stack([normalised, np.ones(len(normalised))])
        rays = rays @ self.base_from_camera[:3, :3].T
        return self.base_from_camera[:3, 3].copy(), rays / np.linalg.norm(rays, axis=1)[:, None]

    def on_plane(self, pixels: np.ndarray, plane_z_m: float) -> np.ndarray:
        """Where the rays of `pixels` meet the horizontal plane z = plane_z_m (N, 3), base_link."""
        centre, rays = self.rays_in_base(pixels)
        if np.any(rays[:, 2] > -1e-6) or centre[2] <= plane_z_m:
            raise CalibrationError(
                MARKERS_NOT_SEEN, 'the camera does not look down at the sheet plane'
            )
        scale = (plane_z_m - centre[2]) / rays[:, 2]
        return centre + scale[:, None] * rays


@dataclass(frozen=True)
class SheetPose:
    """The sheet's `paper` frame in base_link: origin (lower-left corner, on the surface) and yaw
    about base z (the sheet lies flat)."""

    x_m: float
    y_m: float
    z_m: float
    yaw_rad: float
    fit_rms_m: float = 0.0  # residual of the 2-D fit of the marker corners
    markers: tuple[int, ...] = ()

    def matrix(self) -> np.ndarray:
        """4x4 base_T_paper."""
        c, s = math.cos(self.yaw_rad), math.sin(self.yaw_rad)
        pose = np.eye(4)
        pose[:2, :2] = [[c, -s], [s, c]]
        pose[:3, 3] = (self.x_m, self.y_m, self.z_m)
        return pose

    def to_paper(self, base_from_nominal_paper: np.ndarray, points_m: np.ndarray) -> np.ndarray:
        """Points (N, 2) commanded in the nominal `paper` frame (what the motion stack moves to)
        → where they land on this sheet, its own `paper` coordinates (N, 2)."""
        points = np.asarray(points_m, dtype=np.float64).reshape(-1, 2)
        homogeneous = np.column_stack([points, np.zeros(len(points)), np.ones(len(points))])
        landed = np.linalg.inv(self.matrix()) @ base_from_nominal_paper @ homogeneous.T
        return landed[:2].T

    def cell_yaml_fields(self) -> dict[str, list[float]]:
        """`xyz_m`, `rpy_rad` and `quaternion_xyzw` as cell.yaml's `paper` entry states them."""
        half = 0.5 * self.yaw_rad
        return {
            'xyz_m': [self.x_m, self.y_m, self.z_m],
            'rpy_rad': [0.0, 0.0, self.yaw_rad],
            'quaternion_xyzw': [0.0, 0.0, math.sin(half), math.cos(half)],
        }


def pose_from_cell_entry(entry_pose: np.ndarray) -> SheetPose:
    """A SheetPose from a 4x4 base_T_paper (e.g. cell_description.fixed_pose_in_base)."""
    return SheetPose(
        float(entry_pose[0, 3]),
        float(entry_pose[1, 3]),
        float(entry_pose[2, 3]),
        math.atan2(entry_pose[1, 0], entry_pose[0, 0]),
    )


def rigid_fit_2d(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Rotation (2x2) and translation (2,) minimising |R·source + t − target| (Kabsch, no
    scale), and the rms residual."""
    source, target = np.asarray(source, float), np.asarray(target, float)
    if len(source) < 2 or source.shape != target.shape:
        raise ValueError('need at least two matching 2-D points')
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    covariance = (target - target_mean).T @ (source - source_mean)
    u, _, vt = np.linalg.svd(covariance)
    sign = np.sign(np.linalg.det(u @ vt)) or 1.0
    rotation = u @ np.diag([1.0, sign]) @ vt
    translation = target_mean - rotation @ source_mean
    residual = source @ rotation.T + translation - target
    return rotation, translation, float(np.sqrt(np.mean(np.sum(residual**2, axis=1))))


def sheet_pose_from_markers(
    corners_px: dict[int, np.ndarray],
    markers: SheetMarkers,
    camera: CameraModel,
    sheet_z_m: float,
    min_markers: int = 3,
) -> SheetPose:
    """The sheet's pose in base_link from the marker corners seen in one image (see module).

    `corners_px`: marker id → (4, 2) image corners in ArUco order (MarkerDetector.detect).
    Raises CalibrationError(MARKERS_NOT_SEEN) when fewer than `min_markers` are seen."""
    ids = sorted(i for i in corners_px if i in markers.ids)
    if len(ids) < min_markers:
        missing = [i for i in markers.ids if i not in corners_px]
        raise CalibrationError(
            MARKERS_NOT_SEEN,
            f"the camera sees {len(ids)} of the sheet's 4 markers (need {min_markers}; missing "
            f'{missing}, {markers.dictionary}): is the sheet under the camera and lit?',
        )
    truth = markers.marker_corners_m()
    sheet = np.concatenate([truth[i] for i in ids])
    pixels = np.concatenate([np.asarray(corners_px[i], float).reshape(4, 2) for i in ids])
    in_base = camera.on_plane(pixels, sheet_z_m)[:, :2]
    rotation, translation, rms = rigid_fit_2d(sheet, in_base)
    yaw = math.atan2(rotation[1, 0], rotation[0, 0])
    return SheetPose(float(translation[0]), float(translation[1]), sheet_z_m, yaw, rms, tuple(ids))


def sample_window(
    image: np.ndarray,
    homography: np.ndarray,
    centre_m: Sequence[float],
    direction: Sequence[float],
    length_m: float,
    half_width_m: float,
    pitch_m: float = 0.00025,
) -> np.ndarray:
    """A float32 image (along × across) of `image` resampled on a grid of the sheet: `length_m`
    along the unit `direction` and ±`half_width_m` across it, about `centre_m` (paper metres);
    `homography` maps paper metres to image pixels (SheetRegistration.homography)."""
    along = (np.arange(int(round(length_m / pitch_m))) + 0.5) * pitch_m - 0.5 * length_m
    across = (np.arange(int(round(2 * half_width_m / pitch_m))) + 0.5) * pitch_m - half_width_m
    d = np.asarray(direction, float) / np.linalg.norm(direction)
    normal = np.array([-d[1], d[0]])
    grid = (
        np.asarray(centre_m, float)[None, None, :]
        + along[:, None, None] * d[None, None, :]
        + across[None, :, None] * normal[None, None, :]
    )
    pixels = cv2.perspectiveTransform(grid.reshape(-1, 1, 2), homography).reshape(grid.shape)
    return cv2.remap(
        image.astype(np.float32),
        pixels[..., 0].astype(np.float32),
        pixels[..., 1].astype(np.float32),
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def ink_area_m2(darkening_window: np.ndarray, pitch_m: float = 0.00025) -> float:
    """Integrated darkening of a window in m² of full-black equivalent."""
    return float(np.sum(darkening_window)) * pitch_m**2


def contact_bracket(depths_m: Sequence[float], inked: Sequence[bool]) -> tuple[float, float]:
    """(deepest clean, shallowest inked) commanded depth of a row of dabs, the contact lying
    between. The split is the one that disagrees with the fewest dabs (a stray speck or a missed
    faint dab moves it by one, not to the row's end).

    Raises CalibrationError: NO_CONTACT when no dab left ink (the brush never reached the sheet
    within the row), CONTACT_AT_FIRST_TOUCH when the shallowest dab already inked (the sheet lies
    higher than the row starts)."""
    order = np.argsort(depths_m)
    depths = np.asarray(depths_m, float)[order]
    ink = np.asarray(inked, bool)[order]
    if not ink.any():
        raise CalibrationError(
            NO_CONTACT,
            f'no dab left ink down to a commanded depth of {depths[-1] * 1e3:.2f} mm: the brush '
            'never touched the sheet (is it lower than the cell description says, the brush dry?)',
        )
    # errors[k]: dabs that disagree with "clean for the first k, inked from k on".
    errors = [int(ink[:k].sum() + (~ink[k:]).sum()) for k in range(len(depths) + 1)]
    split = int(np.argmin(errors))
    if split == 0:
        raise CalibrationError(
            CONTACT_AT_FIRST_TOUCH,
            f'the shallowest dab ({depths[0] * 1e3:.2f} mm) already left ink: the sheet lies '
            'higher than the search starts',
        )
    if split == len(depths):
        raise CalibrationError(
            NO_CONTACT, 'only stray ink seen: the brush never touched the sheet'
        )
    return float(depths[split - 1]), float(depths[split])
