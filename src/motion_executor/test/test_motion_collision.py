"""The cell's collision model (motion_executor.collision): primitives, the objects of cell.yaml,
and whole plans (approach, writing, retreat, lifts) checked before anything moves."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from calligraphy_model.kinematics import ArmKinematics
from motion_executor.brush_motion import BrushMotionConfig, BrushPathSpec
from motion_executor.brush_motion_planner import BrushMotionPlanner
from motion_executor.collision import Box, CellCollisionModel, UprightTube
from motion_executor.errors import MotionError, MotionErrorCode

HOME = np.array([-0.3354, -1.7367, 2.1880, -2.0221, -1.5708, -0.3354])
SAFE_M = 0.045


@pytest.fixture(scope='module')
def cell() -> dict:
    from calligraphy_model.cell_description import load_cell_yaml as _load

    return _load(None)


@pytest.fixture(scope='module')
def model(cell) -> CellCollisionModel:
    return CellCollisionModel.from_cell_yaml(cell)


@pytest.fixture(scope='module')
def kinematics() -> ArmKinematics:
    return ArmKinematics()


@pytest.fixture(scope='module')
def planner(kinematics, model) -> BrushMotionPlanner:
    return BrushMotionPlanner(kinematics, BrushMotionConfig(safe_height_m=SAFE_M), collision=model)


def _well(model: CellCollisionModel) -> UprightTube:
    (well,) = [o for o in model.obstacles if o.name == 'ink well rim']
    return well


def _line(start_xy, end_xy, depth_m: float, n: int = 80, speed: float = 0.05) -> BrushPathSpec:
    x = np.linspace(start_xy[0], end_xy[0], n)
    y = np.linspace(start_xy[1], end_xy[1], n)
    length = float(np.hypot(end_xy[0] - start_xy[0], end_xy[1] - start_xy[1]))
    return BrushPathSpec(x, y, np.full(n, depth_m), np.linspace(0.0, length / speed, n))


def _code(planner, path, **kwargs) -> tuple[MotionErrorCode, str]:
    try:
        planner.plan(path, HOME, **kwargs)
    except MotionError as error:
        return error.code, error.message
    return MotionErrorCode.SUCCESS, ''


def test_the_cells_objects_come_from_cell_yaml_in_the_paper_frame(model):
    names = {o.name for o in model.obstacles}
    assert names == {'ink well rim', 'table', 'camera_post', 'camera_arm', 'camera_body'}
    well = _well(model)
    # base_link (0.38, -0.24) is paper (0.3885, 0.080); rim 29 mm above the sheet.
    assert (well.x_m, well.y_m) == pytest.approx((0.3885, 0.080))
    assert (well.inner_radius_m, well.outer_radius_m) == (0.034, 0.040)
    # The wall's checked top is the rim (29 mm) less the 6 mm wipe band; its foot is the table.
    assert (well.z_min_m, well.z_max_m) == pytest.approx((-0.001, 0.023))
    table = next(o for o in model.obstacles if o.name == 'table')
    assert table.under_sheet and table.pose_in_paper[2, 3] + table.half_size_m[2] == (
        pytest.approx(-0.001)
    )


def test_tube_and_box_distances_in_millimetres():
    wall = UprightTube('wall', 0.0, 0.0, 0.034, 0.040, 0.0, 0.03, 0.002)
    points = np.array(
        [
            [0.0, 0.0, 0.01],  # well centre: 34 mm from the wall's inner face
            [0.037, 0.0, 0.01],  # middle of the 6 mm wall: 3 mm inside
            [0.045, 0.0, 0.01],  # 5 mm outside
            [0.037, 0.0, 0.035],  # 5 mm above the wall's top
            [0.045, 0.0, 0.034],  # diagonal off the outer top edge: 5, 4 mm -> 6.4 mm
        ]
    )
    np.testing.assert_allclose(
        wall.distance(points) * 1e3, [34.0, -3.0, 5.0, 5.0, np.hypot(5.0, 4.0)], atol=1e-9
    )
    post = UprightTube('post', 0.0, 0.0, 0.0, 0.02, 0.0, 0.5, 0.02)
    np.testing.assert_allclose(post.distance(np.array([[0.05, 0.0, 0.2]])) * 1e3, [30.0])
    box = Box('box', np.eye(4), np.array([0.01, 0.02, 0.005]), 0.003)
    np.testing.assert_allclose(
        box.distance(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.012], [0.013, 0.024, 0.0]])) * 1e3,
        [-5.0, 7.0, 5.0],
        atol=1e-9,
    )


def test_a_path_out_of_the_well_through_its_rim_is_a_collision(planner, model):
    well = _well(model)
    # 5 mm above the sheet from the well's centre straight out through the 29 mm rim.
    path = _line((well.x_m, well.y_m), (well.x_m - 0.07, well.y_m), depth_m=-0.005)
    code, message = _code(planner, path)
    assert code == MotionErrorCode.COLLISION
    assert 'ink well rim' in message and 'writing' in message
    unchecked = BrushMotionPlanner(planner.kinematics, planner.config)
    plan = unchecked.plan(path, HOME)
    clearance = model.min_clearances(plan.tip_in_paper, plan.time_s)['ink well rim']
    # Through the middle of the 6 mm wall, resampled every millimetre.
    assert clearance == pytest.approx(-0.003, abs=3e-4)


def test_the_same_path_above_the_rim_and_a_dip_into_the_well_are_allowed(planner, model):
    well = _well(model)
    over = _line((well.x_m, well.y_m), (well.x_m - 0.07, well.y_m), depth_m=-0.035)
    assert _code(planner, over)[0] == MotionErrorCode.SUCCESS
    # Into the ink from above (6 mm above the sheet, 7 mm above the well's floor), held, and out.
    soak = BrushPathSpec(
        np.full(3, well.x_m), np.full(3, well.y_m), np.full(3, -0.006), np.array([0, 0.3, 0.6])
    )
    plan = planner.plan(soak, HOME)
    assert plan.tip_in_paper[:, 2].min() == pytest.approx(0.006, abs=1e-4)
    assert model.min_clearances(plan.tip_in_paper, plan.time_s)['table'] > 0.005


def test_the_tip_may_not_graze_the_table_beside_the_sheet_but_may_press_into_the_sheet(planner):
    # In the air 1 mm above the sheet's plane (2 mm above the table top), beside the sheet.
    beside = _line((-0.06, 0.05), (-0.02, 0.05), depth_m=-0.0005)
    code, message = _code(planner, beside)
    assert code == MotionErrorCode.COLLISION and 'table' in message
    assert _code(planner, _line((-0.06, 0.05), (-0.02, 0.05), depth_m=-0.01))[0] == 0
    # Writing 8 mm deep (7 mm below the table top) on the sheet is what the cell is for.
    assert _code(planner, _line((0.10, 0.10), (0.13, 0.10), depth_m=0.008))[0] == 0


def test_a_normal_stroke_keeps_its_distance_from_everything(planner, model):
    plan = planner.plan(_line((0.10, 0.10), (0.13, 0.10), depth_m=0.002), HOME)
    clearances = model.min_clearances(plan.tip_in_paper, plan.time_s)
    assert clearances['ink well rim'] > 0.2
    assert clearances['table'] == np.inf  # the whole stroke stays over the sheet
    assert min(clearances['camera_post'], clearances['camera_body']) > 0.3


def test_a_sheet_clamp_listed_in_the_cell_blocks_strokes_through_it(cell, kinematics):
    clamped = copy.deepcopy(cell)
    # A 30 x 15 x 6 mm clamp over the sheet's left edge, at mid-height (paper y 90..120 mm).
    clamped['obstacles']['sheet_clamp_left'] = {
        'shape': 'box',
        'xyz_m': [0.405, 0.1485, 0.004],
        'size_m': [0.03, 0.015, 0.006],
        'clearance_m': 0.003,
    }
    model = CellCollisionModel.from_cell_yaml(clamped)
    planner = BrushMotionPlanner(
        kinematics, BrushMotionConfig(safe_height_m=SAFE_M), collision=model
    )
    code, message = _code(planner, _line((0.001, 0.105), (0.04, 0.105), depth_m=0.002))
    assert code == MotionErrorCode.COLLISION and 'sheet_clamp_left' in message
    assert _code(planner, _line((0.02, 0.105), (0.06, 0.105), depth_m=0.002))[0] == 0


def test_lifts_are_checked_and_a_plan_may_leave_a_clearance_it_starts_in(cell, kinematics):
    low_camera = copy.deepcopy(cell)
    # Something 20 mm above the sheet at paper (100, 100) mm: the lift to 45 mm would hit it.
    low_camera['obstacles']['low_fixture'] = {
        'shape': 'box',
        'xyz_m': [0.4, 0.0485, 0.031],
        'size_m': [0.02, 0.02, 0.01],
        'clearance_m': 0.005,
    }
    planner = BrushMotionPlanner(
        kinematics,
        BrushMotionConfig(safe_height_m=SAFE_M),
        collision=CellCollisionModel.from_cell_yaml(low_camera),
    )
    writing = BrushMotionPlanner(kinematics, BrushMotionConfig(safe_height_m=SAFE_M)).plan(
        _line((0.10, 0.10), (0.10, 0.10 + 1e-4), depth_m=0.002, n=2), HOME, skip_retreat=True
    )
    with pytest.raises(MotionError) as error:
        planner.plan_lift(writing.positions[-1])
    assert error.value.code == MotionErrorCode.COLLISION and 'the lift' in error.value.message
    # 1.5 mm above the table beside the sheet (inside its 2 mm clearance): the lift goes up.
    model = CellCollisionModel.from_cell_yaml(cell)
    lifting = BrushMotionPlanner(
        kinematics, BrushMotionConfig(safe_height_m=SAFE_M), collision=model
    )
    low = BrushMotionPlanner(kinematics, BrushMotionConfig(safe_height_m=SAFE_M)).plan(
        _line((-0.03, 0.05), (-0.03, 0.05 + 1e-4), depth_m=-0.0005, n=2), HOME, skip_retreat=True
    )
    lift = lifting.plan_lift(low.positions[-1])
    assert lift.tip_in_paper[-1, 2] == pytest.approx(SAFE_M, abs=1e-4)
