"""The cell description: where it is found, the sheet, fixed poses and the ink well's geometry
(the well tests moved from calligraphy_sim's ink-well test)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from calligraphy_model.cell_description import (
    ARM_JOINTS,
    HOME_POSITIONS_RAD,
    SHEET_HEIGHT_M,
    SHEET_WIDTH_M,
    InkWellGeometry,
    InkWellSettings,
    default_cell_yaml_path,
    default_urdf_path,
    description_dir,
    fixed_pose_in_paper,
    ink_well_in_paper,
    load_cell_yaml,
    pose_matrix,
    resolve_ink_well,
    sheet_size_m,
)


@pytest.fixture(scope='module')
def cell() -> dict:
    return yaml.safe_load(default_cell_yaml_path().read_text())


@pytest.fixture(scope='module')
def well(cell) -> InkWellGeometry:
    return ink_well_in_paper(cell, ink_depth_m=0.015)


def test_the_description_is_found_and_its_constants_match_cell_yaml(cell):
    assert default_urdf_path().is_file() and default_urdf_path().parent == description_dir()
    assert default_cell_yaml_path().parent == description_dir()
    assert load_cell_yaml() == cell
    assert sheet_size_m(cell) == (SHEET_WIDTH_M, SHEET_HEIGHT_M) == (0.297, 0.210)
    assert sheet_size_m({}) == (SHEET_WIDTH_M, SHEET_HEIGHT_M)
    assert tuple(cell['home_positions_rad']) == pytest.approx(HOME_POSITIONS_RAD)
    urdf = default_urdf_path().read_text()
    assert all(f'name="{joint}"' in urdf for joint in ARM_JOINTS)


def test_fixed_poses_follow_urdf_rpy_and_the_camera_looks_down_on_the_sheet(cell):
    yaw = pose_matrix((0.0, 0.0, 0.0), (0.0, 0.0, math.pi / 2))
    np.testing.assert_allclose(yaw[:3, :3] @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)
    camera = fixed_pose_in_paper(cell, 'camera_color_optical_frame')
    # 0.6 m above the sheet's centre, its optical axis (z) into the paper.
    np.testing.assert_allclose(camera[:2, 3], [SHEET_WIDTH_M / 2, SHEET_HEIGHT_M / 2], atol=1e-3)
    assert camera[2, 3] == pytest.approx(0.6, abs=1e-3)
    np.testing.assert_allclose(camera[:3, 2], [0.0, 0.0, -1.0], atol=1e-9)
    with pytest.raises(ValueError, match='no'):
        fixed_pose_in_paper(cell, 'nothing')


def test_well_lies_beside_the_sheet_with_ink_below_the_rim(cell, well):
    width, height = cell['paper']['width_m'], cell['paper']['height_m']
    nearest = np.clip([well.x_m, well.y_m], 0.0, [width, height])
    assert np.hypot(*(nearest - [well.x_m, well.y_m])) > well.radius_m, 'well on the sheet'
    bottom = well.rim_height_m - cell['ink_well']['depth_m']
    assert well.ink_surface_height_m == pytest.approx(bottom + 0.015)
    assert well.radius_m == cell['ink_well']['inner_radius_m']


def test_paper_frame_transform_of_a_hand_made_cell():
    # Sheet turned +90 degrees about z at (1, 2, 0.5): base x = paper -y, base y = paper x.
    cell = {
        'paper': {'xyz_m': [1.0, 2.0, 0.5], 'rpy_rad': [0.0, 0.0, math.pi / 2]},
        'ink_well': {
            'xyz_m': [0.9, 2.3, 0.54],
            'rpy_rad': [0.0, 0.0, 0.3],
            'inner_radius_m': 0.02,
            'depth_m': 0.03,
        },
    }
    well = ink_well_in_paper(cell, ink_depth_m=0.01)
    assert (well.x_m, well.y_m) == pytest.approx((0.3, 0.1))
    assert well.rim_height_m == pytest.approx(0.04)
    assert well.ink_surface_height_m == pytest.approx(0.04 - 0.03 + 0.01)


def test_bad_cell_descriptions_are_refused_with_the_reason(cell, tmp_path):
    with pytest.raises(FileNotFoundError):
        ink_well_in_paper(tmp_path / 'missing.yaml')
    without_well = {k: v for k, v in cell.items() if k != 'ink_well'}
    with pytest.raises(ValueError, match='ink_well'):
        ink_well_in_paper(without_well)
    tilted = dict(cell, ink_well=dict(cell['ink_well'], rpy_rad=[0.2, 0.0, 0.0]))
    with pytest.raises(ValueError, match='tilted'):
        ink_well_in_paper(tilted)
    with pytest.raises(ValueError, match='ink_depth_m'):
        ink_well_in_paper(cell, ink_depth_m=0.05)


def test_explicit_fields_override_the_cell_and_nan_keeps_it(well):
    moved = resolve_ink_well(overrides={'x_m': -0.05, 'y_m': float('nan')})
    assert moved.x_m == -0.05
    assert moved.y_m == pytest.approx(well.y_m)
    assert moved.radius_m == pytest.approx(well.radius_m)
    with pytest.raises(ValueError, match='radius'):
        resolve_ink_well(overrides={'radius_m': 0.001})


def test_ink_well_settings_place_the_well_from_the_cell_unless_given(well):
    assert InkWellSettings().geometry() == well
    moved = InkWellSettings(x_m=-0.05).geometry()
    assert moved.x_m == -0.05 and moved.y_m == pytest.approx(well.y_m)
    assert math.isnan(InkWellSettings().overrides()['radius_m'])
