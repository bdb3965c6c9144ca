"""The cell URDF: parses, has the UR5e chain and the frames the code expects, agrees with cell.yaml
and with MuJoCo."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pinocchio as pin
import pytest
import yaml

from calligraphy_model.cell_description import ARM_JOINTS, default_urdf_path
from calligraphy_sim.arm import ArmSimulation

URDF = default_urdf_path()
# Universal Robots' published UR5e DH parameters (standard DH).
DH_A = (0.0, -0.425, -0.3922, 0.0, 0.0, 0.0)
DH_D = (0.1625, 0.0, 0.0, 0.1333, 0.0997, 0.0996)
DH_ALPHA = (np.pi / 2, 0.0, 0.0, np.pi / 2, -np.pi / 2, 0.0)


def _dh_forward(q: np.ndarray) -> np.ndarray:
    transform = np.eye(4)
    for theta, a, d, alpha in zip(q, DH_A, DH_D, DH_ALPHA, strict=True):
        ct, st, ca, sa = np.cos(theta), np.sin(theta), np.cos(alpha), np.sin(alpha)
        transform = transform @ np.array(
            [
                [ct, -st * ca, st * sa, a * ct],
                [st, ct * ca, -ct * sa, a * st],
                [0, sa, ca, d],
                [0, 0, 0, 1],
            ]
        )
    return transform


@pytest.fixture(scope='module')
def model():
    return pin.buildModelFromUrdf(str(URDF))


def _frame(model, name: str, q: np.ndarray | None = None) -> np.ndarray:
    data = model.createData()
    pin.framesForwardKinematics(model, data, pin.neutral(model) if q is None else q)
    return data.oMf[model.getFrameId(name)].homogeneous


def test_chain_is_six_revolute_arm_joints_from_base_link_to_brush_tip(model):
    assert tuple(model.names[1:]) == ARM_JOINTS
    for frame in (
        'base_link',
        'tool0',
        'brush_tip',
        'paper',
        'ink_well',
        'camera_color_optical_frame',
        'table',
    ):
        assert model.existFrame(frame), frame
    root = ET.parse(URDF).getroot()
    parents = {
        j.find('child').get('link'): j.find('parent').get('link') for j in root.findall('joint')
    }
    link, chain = 'brush_tip', []
    while link in parents:
        chain.append(link)
        link = parents[link]
    assert 'base_link' in chain and 'tool0' in chain and 'wrist_3_link' in chain


def test_tool0_follows_the_published_ur5e_dh_parameters(model):
    rng = np.random.default_rng(3)
    half_turn = np.diag([-1.0, -1.0, 1.0, 1.0])  # base_link -> DH base frame, as in UR's URDFs
    for _ in range(50):
        q = rng.uniform(-np.pi, np.pi, 6)
        np.testing.assert_allclose(
            _frame(model, 'tool0', q), half_turn @ _dh_forward(q), atol=1e-9
        )


def test_joint_limits_and_ros2_control_tags_cover_every_arm_joint(model):
    assert np.all(model.velocityLimit == pytest.approx(np.pi))
    assert np.all(model.effortLimit[:3] == 150.0) and np.all(model.effortLimit[3:] == 28.0)
    assert model.upperPositionLimit[2] == pytest.approx(np.pi)
    control = ET.parse(URDF).getroot().find('ros2_control')
    joints = {j.get('name'): j for j in control.findall('joint')}
    assert tuple(joints) == ARM_JOINTS
    for joint in joints.values():
        assert joint.find('command_interface').get('name') == 'position'
        assert {s.get('name') for s in joint.findall('state_interface')} == {
            'position',
            'velocity',
        }


def test_brush_tip_hangs_below_the_flange_and_the_sheet_lies_in_reach(model):
    tool0_to_tip = np.linalg.inv(_frame(model, 'tool0')) @ _frame(model, 'brush_tip')
    np.testing.assert_allclose(tool0_to_tip[:3, 3], [0.0, 0.0, 0.21], atol=1e-12)
    paper = _frame(model, 'paper')
    far_corner = paper @ np.array([0.297, 0.210, 0.0, 1.0])
    # Every sheet corner within 0.7 m of the shoulder (UR5e reach 0.85 m) with the brush upright.
    for corner in ((0, 0), (0.297, 0), (0, 0.21), (0.297, 0.21)):
        point = paper @ np.array([*corner, 0.0, 1.0])
        assert np.linalg.norm(point[:3] - [0, 0, 0.1625]) < 0.7
    assert far_corner[2] == pytest.approx(0.001)


def test_camera_optical_frame_looks_down_with_image_axes_along_the_paper(model):
    optical = _frame(model, 'camera_color_optical_frame')
    paper = _frame(model, 'paper')
    np.testing.assert_allclose(optical[:3, 2], [0, 0, -1], atol=1e-9)  # z into the scene
    np.testing.assert_allclose(optical[:3, 0], paper[:3, 0], atol=1e-9)  # image right = paper x
    np.testing.assert_allclose(optical[:3, 1], -paper[:3, 1], atol=1e-9)  # image down = -paper y
    centre = paper @ np.array([0.1485, 0.105, 0.0, 1.0])
    np.testing.assert_allclose(optical[:2, 3], centre[:2], atol=1e-9)


def test_cell_yaml_poses_match_the_urdf(model):
    cell = yaml.safe_load((URDF.parent / 'cell.yaml').read_text())
    for name in ('paper', 'ink_well', 'camera_color_optical_frame'):
        pose = _frame(model, name)
        np.testing.assert_allclose(pose[:3, 3], cell[name]['xyz_m'], atol=1e-9)
        x, y, z, w = cell[name]['quaternion_xyzw']
        np.testing.assert_allclose(
            pose[:3, :3], pin.Quaternion(w, x, y, z).toRotationMatrix(), atol=1e-9
        )
        np.testing.assert_allclose(
            pose[:3, :3], pin.rpy.rpyToMatrix(*cell[name]['rpy_rad']), atol=1e-9
        )
    assert (cell['paper']['width_m'], cell['paper']['height_m']) == (0.297, 0.210)


def test_mujoco_compiles_the_urdf_with_the_same_brush_tip_kinematics(model):
    simulation = ArmSimulation()
    paper = _frame(model, 'paper')
    rng = np.random.default_rng(5)
    for _ in range(10):
        q = rng.uniform(-2.0, 2.0, 6)
        simulation.data.qpos[:6] = q
        import mujoco

        mujoco.mj_forward(simulation.model, simulation.data)
        tip = np.linalg.inv(paper) @ _frame(model, 'brush_tip', q)
        position, rotation = simulation.brush_tip_in_paper()
        np.testing.assert_allclose(position, tip[:3, 3], atol=1e-9)
        np.testing.assert_allclose(rotation, tip[:3, :3], atol=1e-9)
