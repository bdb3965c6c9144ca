"""The sheet calibration's fits on synthetic data with known truth: the sheet pose from marker
corners through the cell's camera, the contact bracket, and the whole procedure against the
brush simulator and the simulated camera with a moved sheet (no ROS)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calligraphy_model.brush import BrushParams, footprint_width
from calligraphy_model.cell_description import fixed_pose_in_base, load_cell_yaml
from calligraphy_model.sheet_markers import SheetMarkers
from calligraphy_sim.camera import SimCameraConfig, SimulatedCamera, camera_pose_from_cell
from calligraphy_sim.paper import VirtualPaper
from calligraphy_sim.sheet_perturbation import SheetPerturbation, write_perturbed_description
from camera_feedback.calibration_run import calibrate_cell
from camera_feedback.sheet_calibration import (
    MARKERS_NOT_SEEN,
    NO_CONTACT,
    CalibrationError,
    CameraModel,
    contact_bracket,
    pose_from_cell_entry,
    rigid_fit_2d,
    sheet_pose_from_markers,
)


def _camera(cell: dict) -> CameraModel:
    k = SimCameraConfig().camera_matrix()
    return CameraModel(k, np.zeros(5), fixed_pose_in_base(cell, 'camera_color_optical_frame'))


def _project(camera: CameraModel, points_base: np.ndarray) -> np.ndarray:
    camera_from_base = np.linalg.inv(camera.base_from_camera)
    local = (camera_from_base[:3, :3] @ points_base.T).T + camera_from_base[:3, 3]
    pixels = (camera.matrix @ (local / local[:, 2:3]).T).T
    return pixels[:, :2]


def test_rigid_fit_recovers_a_turn_and_a_shift():
    rng = np.random.default_rng(0)
    source = rng.uniform(0, 0.3, (16, 2))
    angle = math.radians(-91.3)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    target = source @ rotation.T + [0.301, 0.146]
    fitted, shift, rms = rigid_fit_2d(source, target)
    assert math.degrees(math.atan2(fitted[1, 0], fitted[0, 0])) == pytest.approx(-91.3, abs=1e-9)
    assert shift == pytest.approx([0.301, 0.146], abs=1e-12)
    assert rms < 1e-12


def test_sheet_pose_from_exact_corners_is_exact_and_a_wrong_height_costs_what_the_rays_say():
    cell = load_cell_yaml()
    camera = _camera(cell)
    markers = SheetMarkers()
    truth = SheetPerturbation(0.004, -0.003, 0.0015, math.radians(1.5)).apply(
        fixed_pose_in_base(cell, 'paper'), (0.297, 0.21)
    )
    corners = {}
    for marker_id, sheet_xy in markers.marker_corners_m().items():
        points = np.column_stack([sheet_xy, np.zeros(4), np.ones(4)]) @ truth.T
        corners[marker_id] = _project(camera, points[:, :3])
    pose = sheet_pose_from_markers(corners, markers, camera, float(truth[2, 3]))
    expected = pose_from_cell_entry(truth)
    assert pose.x_m == pytest.approx(expected.x_m, abs=1e-9)
    assert pose.y_m == pytest.approx(expected.y_m, abs=1e-9)
    assert pose.yaw_rad == pytest.approx(expected.yaw_rad, abs=1e-9)
    # At a height 1.5 mm too low the rays meet the plane further out: the corners spread by
    # 1.5 mm / h about the optical axis, h the camera's height (a corner 0.17 m out moves 0.43 mm
    # from 0.6 m), but the sheet lies centred under the camera, so the rigid fit keeps the pose
    # and the spread shows as residual, of about the spread of a corner.
    low = sheet_pose_from_markers(corners, markers, camera, float(truth[2, 3]) - 0.0015)
    assert math.hypot(low.x_m - expected.x_m, low.y_m - expected.y_m) < 0.00005
    height = fixed_pose_in_base(cell, 'camera_color_optical_frame')[2, 3] - truth[2, 3]
    spread = 0.0015 / height * 0.17
    assert 0.5 * spread < low.fit_rms_m < 1.5 * spread


def test_too_few_markers_is_a_clear_error():
    cell = load_cell_yaml()
    with pytest.raises(CalibrationError, match='sees 2 of') as error:
        sheet_pose_from_markers(
            {0: np.zeros((4, 2)), 1: np.ones((4, 2))}, SheetMarkers(), _camera(cell), 0.001
        )
    assert error.value.code == MARKERS_NOT_SEEN


def test_contact_bracket_splits_where_ink_starts_and_tolerates_one_stray_speck():
    depths = [-0.002, -0.0015, -0.001, -0.0005, 0.0, 0.0005, 0.001]
    assert contact_bracket(depths, [0, 0, 0, 1, 1, 1, 1]) == (-0.001, -0.0005)
    # A speck on the shallowest dab and a faint miss below the contact do not move the split.
    assert contact_bracket(depths, [1, 0, 0, 0, 1, 0, 1]) == (-0.0005, 0.0)
    with pytest.raises(CalibrationError, match='never touched') as error:
        contact_bracket(depths, [0] * 7)
    assert error.value.code == NO_CONTACT
    with pytest.raises(CalibrationError, match='already left ink'):
        contact_bracket(depths, [1] * 7)


class _SimulatedSheetPort:
    """The calibration's port onto the brush simulator and simulated camera, with the sheet
    moved: paths commanded in the nominal paper frame land on the moved sheet."""

    def __init__(self, perturbation: SheetPerturbation, brush: BrushParams, tmp_path) -> None:
        cell_yaml, _urdf, self.true_pose = write_perturbed_description(perturbation, tmp_path)
        cell = load_cell_yaml()
        self.nominal = fixed_pose_in_base(cell, 'paper')
        self.paper = VirtualPaper(brush, seed=1)
        config = SimCameraConfig(**camera_pose_from_cell(str(cell_yaml)))
        self.render = SimulatedCamera(config, seed=2).render
        self.camera = _camera(cell)

    def execute(self, path) -> None:
        points = np.column_stack([path.x_m, path.y_m, -path.depth_m, np.ones(len(path.x_m))])
        on_sheet = np.linalg.inv(self.true_pose) @ self.nominal @ points.T
        self.paper.lift()
        self.paper.add_path(on_sheet[0], on_sheet[1], -on_sheet[2], path.t_s)
        self.paper.lift()

    def capture(self, frames: int) -> list[np.ndarray]:
        sheet = self.paper.image_rgb()
        return [self.render(sheet) for _ in range(frames)]

    def dip(self) -> None:
        self.paper.reload(1.0)


def test_calibration_finds_a_moved_sheet_and_the_brush_within_the_targets(tmp_path):
    perturbation = SheetPerturbation(-0.0035, 0.003, 0.0013, math.radians(-1.7))
    brush = BrushParams.sample(np.random.default_rng(21), 'eval')
    port = _SimulatedSheetPort(perturbation, brush, tmp_path)
    result = calibrate_cell(port, port.nominal)
    truth = pose_from_cell_entry(port.true_pose)
    assert math.hypot(result.sheet.x_m - truth.x_m, result.sheet.y_m - truth.y_m) < 0.001
    assert abs(math.degrees(result.sheet.yaw_rad - truth.yaw_rad)) < 0.3
    assert result.contact_offset_m == pytest.approx(0.0013, abs=0.0002)
    assert result.sheet.z_m == pytest.approx(truth.z_m, abs=0.0002)
    depths = np.linspace(0.0005, 0.004, 36)
    true_widths = footprint_width(
        depths, brush.touch_width_m, brush.belly_diameter_m, brush.width_slope
    )
    assert np.sqrt(np.mean((result.curve.width_at_depth(depths) - true_widths) ** 2)) < 0.0001


def test_a_sheet_far_below_the_search_gives_no_contact(tmp_path):
    port = _SimulatedSheetPort(SheetPerturbation(height_m=-0.006), BrushParams(), tmp_path)
    with pytest.raises(CalibrationError, match='never touched') as error:
        calibrate_cell(port, port.nominal)
    assert error.value.code == NO_CONTACT
