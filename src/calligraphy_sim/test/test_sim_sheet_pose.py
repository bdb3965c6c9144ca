"""The simulated camera posed from the cell description, and the moved sheet of
`calligraphy calibrate --sim-perturb` as the simulated world sees it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calligraphy_model.cell_description import fixed_pose_in_base, load_cell_yaml
from calligraphy_sim.arm import ArmSimConfig, ArmSimulation
from calligraphy_sim.camera import SimCameraConfig, camera_pose_from_cell
from calligraphy_sim.sheet_perturbation import SheetPerturbation, write_perturbed_description


def test_the_camera_sits_where_the_cell_description_puts_it():
    cell = load_cell_yaml()
    config = SimCameraConfig(**camera_pose_from_cell(cell))
    camera_in_paper = np.linalg.inv(fixed_pose_in_base(cell, 'paper')) @ fixed_pose_in_base(
        cell, 'camera_color_optical_frame'
    )
    assert config.position_m == pytest.approx(camera_in_paper[:3, 3], abs=1e-12)
    assert config.rotation_paper_from_camera() == pytest.approx(camera_in_paper[:3, :3], abs=1e-12)
    # cell.yaml: straight above the sheet's centre, image right = paper x, image down = paper -y.
    centre, right, up = config.project(np.array([[0.1485, 0.105], [0.2485, 0.105], [0.1485, 0.2]]))
    assert centre == pytest.approx([639.5, 359.5], abs=1e-6)
    assert right[0] > centre[0] + 100 and abs(right[1] - centre[1]) < 1e-6
    assert up[1] < centre[1] - 100


def test_a_camera_config_needs_a_unit_quaternion_looking_down():
    with pytest.raises(ValueError, match='unit quaternion'):
        SimCameraConfig(orientation_xyzw=(1.0, 1.0, 0.0, 0.0))
    with pytest.raises(ValueError, match='look down'):
        SimCameraConfig(orientation_xyzw=(0.0, 0.0, 0.0, 1.0))  # optical z = paper +z


def test_perturbations_stay_within_the_issue_bounds_and_differ_by_seed():
    draws = [SheetPerturbation.draw(seed) for seed in range(200)]
    assert max(math.hypot(d.shift_x_m, d.shift_y_m) for d in draws) <= 0.005
    assert max(abs(d.yaw_rad) for d in draws) <= math.radians(2.0)
    assert max(abs(d.height_m) for d in draws) <= 0.002
    assert max(abs(d.height_m) for d in draws) > 0.0019  # the bounds are reached, not tiny
    assert SheetPerturbation.draw(5) == SheetPerturbation.draw(5) != SheetPerturbation.draw(6)


def test_the_moved_sheet_moves_in_the_arm_and_in_the_picture_not_the_camera(tmp_path):
    perturbation = SheetPerturbation(0.003, -0.002, 0.0015, math.radians(2.0))
    cell_yaml, urdf, true_pose = write_perturbed_description(perturbation, tmp_path)
    cell, moved = load_cell_yaml(), load_cell_yaml(cell_yaml)
    nominal = fixed_pose_in_base(cell, 'paper')
    assert fixed_pose_in_base(moved, 'paper') == pytest.approx(true_pose, abs=1e-12)
    assert math.degrees(math.atan2(true_pose[1, 0], true_pose[0, 0])) == pytest.approx(
        math.degrees(math.atan2(nominal[1, 0], nominal[0, 0])) + 2.0
    )
    assert fixed_pose_in_base(moved, 'camera_color_optical_frame') == pytest.approx(
        fixed_pose_in_base(cell, 'camera_color_optical_frame')
    )
    # The arm at home: its brush tip, reported in the moved sheet's frame, is the same point of
    # base_link as in the nominal cell.
    nominal_tip = ArmSimulation().brush_tip_in_paper()[0]
    moved_tip = ArmSimulation(ArmSimConfig(urdf_path=urdf)).brush_tip_in_paper()[0]
    in_base = nominal @ np.append(nominal_tip, 1.0)
    assert moved_tip == pytest.approx((np.linalg.inv(true_pose) @ in_base)[:3], abs=1e-9)
    # The camera sees the sheet's centre displaced by the shift, and its x axis turned by 2°.
    seen = SimCameraConfig(**camera_pose_from_cell(moved)).project(
        np.array([[0.1485, 0.105], [0.2485, 0.105]])
    )
    assert math.degrees(math.atan2(-(seen[1, 1] - seen[0, 1]), seen[1, 0] - seen[0, 0])) == (
        pytest.approx(2.0, abs=0.01)
    )
