"""One cell description: urdf/cell.yaml places the sheet, ink well, camera and brush tip, and every
robot description follows it (the checked-in URDF, the Gazebo URDF, the real cell's xacro).
Gazebo's controllers and bridge files are well formed and match the URDF they drive."""

from __future__ import annotations

import ast
import copy
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pinocchio as pin
import pytest
import xacro
import yaml

from calligraphy_bringup.gazebo_description import (
    GZ_CAMERA_IMAGE,
    GZ_CAMERA_INFO,
    GZ_PLUGIN_FILE,
    GZ_PLUGIN_NAME,
    GZ_SYSTEM,
    gazebo_urdf,
)
from calligraphy_model.cell_description import ARM_JOINTS, fixed_pose_in_base, load_cell_yaml
from calligraphy_model.cell_urdf import cell_urdf
from conftest import REPO_ROOT

URDF_DIR = REPO_ROOT / 'urdf'
FIXED_FRAMES = ('paper', 'ink_well', 'camera_color_optical_frame')
CONTROLLERS = URDF_DIR / 'gazebo_controllers.yaml'
# ros_gz_bridge's README (gazebosim/ros_gz, ros_gz_bridge/README.md): the type pairs it bridges
# that the cell uses.
BRIDGED_TYPES = {
    'rosgraph_msgs/msg/Clock': 'gz.msgs.Clock',
    'sensor_msgs/msg/Image': 'gz.msgs.Image',
    'sensor_msgs/msg/CameraInfo': 'gz.msgs.CameraInfo',
}


def _frames(urdf_xml: str, q: np.ndarray | None = None) -> dict[str, np.ndarray]:
    model = pin.buildModelFromXML(urdf_xml)
    data = model.createData()
    pin.framesForwardKinematics(model, data, pin.neutral(model) if q is None else q)
    return {model.frames[i].name: data.oMf[i].homogeneous for i in range(model.nframes)}


def _in(frames: dict[str, np.ndarray], frame: str, reference: str) -> np.ndarray:
    return np.linalg.inv(frames[reference]) @ frames[frame]


def _tip_on_tool0(cell: dict) -> np.ndarray:
    return fixed_pose_in_base({'brush_tip': cell['brush_tip']}, 'brush_tip')


def _moved(cell: dict) -> dict:
    """A calibrated cell: sheet 4 mm / 1.5 degrees off, camera 3 mm lower, brush 2 mm longer."""
    moved = copy.deepcopy(cell)
    moved['paper']['xyz_m'] = [0.304, 0.1455, 0.0025]
    moved['paper']['rpy_rad'] = [0.0, 0.0, -math.pi / 2 + math.radians(1.5)]
    moved['camera_color_optical_frame']['xyz_m'][2] -= 0.003
    moved['brush_tip']['xyz_m'] = [0.0, 0.0, 0.212]
    return moved


@pytest.fixture(scope='module')
def cell() -> dict:
    return load_cell_yaml()


@pytest.mark.parametrize('calibrated', [False, True], ids=['as_shipped', 'calibrated'])
def test_the_urdf_places_every_cell_frame_where_cell_yaml_says(cell, calibrated):
    description = _moved(cell) if calibrated else cell
    frames = _frames(cell_urdf(cell=description))
    for name in FIXED_FRAMES:
        np.testing.assert_allclose(
            _in(frames, name, 'base_link'), fixed_pose_in_base(description, name), atol=1e-9
        )
    np.testing.assert_allclose(
        _in(frames, 'brush_tip', 'tool0'), _tip_on_tool0(description), atol=1e-9
    )


def test_the_checked_in_urdf_agrees_with_cell_yaml_and_the_arm_is_untouched(cell):
    shipped = (URDF_DIR / 'calligraphy_cell.urdf').read_text()
    q = np.array([0.3, -1.2, 1.6, -1.9, -1.5, 0.4])
    before, after = _frames(shipped, q), _frames(cell_urdf(cell=_moved(cell)), q)
    # The URDF is cell_urdf's fixed point: nothing in it contradicts cell.yaml.
    for name, pose in _frames(cell_urdf(cell=cell), q).items():
        np.testing.assert_allclose(pose, before[name], atol=1e-9, err_msg=name)
    # A calibration moves the cell's frames, never the arm's kinematics.
    for link in ('shoulder_link', 'wrist_3_link', 'tool0'):
        np.testing.assert_allclose(after[link], before[link], atol=1e-12)
    moved = np.linalg.norm(after['paper'][:3, 3] - before['paper'][:3, 3])
    assert moved == pytest.approx(math.hypot(0.004, 0.003, 0.0015), abs=1e-9)


def test_a_cell_description_without_a_frame_is_refused_by_name(cell):
    broken = {k: v for k, v in cell.items() if k != 'ink_well'}
    with pytest.raises(ValueError, match='ink_well'):
        cell_urdf(cell=broken)


def _stand_in_ur_driver(prefix: Path) -> None:
    """An ament prefix with ur_robot_driver's urdf/ur.urdf.xacro reduced to what the cell's xacro
    uses from it: its arguments (name, tf_prefix) and the links base_link and tool0 (any pose)."""
    (prefix / 'share' / 'ament_index' / 'resource_index' / 'packages').mkdir(parents=True)
    (prefix / 'share' / 'ament_index' / 'resource_index' / 'packages' / 'ur_robot_driver').touch()
    (prefix / 'share' / 'ur_robot_driver' / 'urdf').mkdir(parents=True)
    (prefix / 'share' / 'ur_robot_driver' / 'urdf' / 'ur.urdf.xacro').write_text(
        """<?xml version="1.0"?>
<robot xmlns:xacro="http://wiki.ros.org/xacro" name="$(arg name)">
  <xacro:arg name="name" default="ur"/>
  <xacro:arg name="tf_prefix" default=""/>
  <xacro:arg name="ur_type" default="urXe"/>
  <link name="world"/>
  <link name="$(arg tf_prefix)base_link"/>
  <joint name="$(arg tf_prefix)world_to_base" type="fixed">
    <parent link="world"/><child link="$(arg tf_prefix)base_link"/>
  </joint>
  <link name="$(arg tf_prefix)tool0"/>
  <joint name="$(arg tf_prefix)base_to_tool0" type="fixed">
    <parent link="$(arg tf_prefix)base_link"/><child link="$(arg tf_prefix)tool0"/>
    <origin xyz="0.4 0.1 0.5" rpy="3.141592653589793 0 0.3"/>
  </joint>
</robot>
"""
    )


@pytest.mark.parametrize('calibrated', [False, True], ids=['as_shipped', 'calibrated'])
def test_the_real_cell_xacro_reads_the_cell_yaml_the_nodes_read(
    cell, calibrated, tmp_path, monkeypatch
):
    _stand_in_ur_driver(tmp_path / 'prefix')
    monkeypatch.setenv(
        'AMENT_PREFIX_PATH',
        f'{tmp_path / "prefix"}:{__import__("os").environ["AMENT_PREFIX_PATH"]}',
    )
    description = _moved(cell) if calibrated else cell
    if calibrated:
        cell_file = tmp_path / 'cell.yaml'
        cell_file.write_text(yaml.safe_dump(description))
        # real_cell.launch.py points xacro at the file the nodes read.
        monkeypatch.setenv('CALLIGRAPHY_CELL_YAML', str(cell_file))
    else:
        monkeypatch.delenv('CALLIGRAPHY_CELL_YAML', raising=False)
    document = xacro.process_file(
        str(URDF_DIR / 'calligraphy_ur.urdf.xacro'),
        mappings={'name': 'ur', 'tf_prefix': ''},  # as ur_rsp.launch.py passes them
    )
    frames = _frames(document.toxml())
    for name in FIXED_FRAMES:
        np.testing.assert_allclose(
            _in(frames, name, 'base_link'), fixed_pose_in_base(description, name), atol=1e-12
        )
    np.testing.assert_allclose(
        _in(frames, 'brush_tip', 'tool0'), _tip_on_tool0(description), atol=1e-12
    )


# ---------------------------------------------------------------- Gazebo


@pytest.fixture(scope='module')
def gazebo_robot() -> ET.Element:
    return ET.fromstring(gazebo_urdf(CONTROLLERS))


def test_gazebo_runs_the_arm_under_gz_ros2_control_with_an_absolute_controllers_file(
    gazebo_robot, cell
):
    text = ET.tostring(gazebo_robot, encoding='unicode')
    assert '$(' not in text, 'a plain URDF cannot hold xacro substitutions'
    assert gazebo_robot.find('ros2_control/hardware/plugin').text == GZ_SYSTEM
    plugins = gazebo_robot.findall('gazebo/plugin')
    assert [(p.get('filename'), p.get('name')) for p in plugins] == [
        (GZ_PLUGIN_FILE, GZ_PLUGIN_NAME)
    ]
    parameters = Path(plugins[0].find('parameters').text)
    assert parameters.is_absolute() and parameters.samefile(CONTROLLERS)
    initial = [
        float(j.find("state_interface[@name='position']/param[@name='initial_value']").text)
        for j in gazebo_robot.findall('ros2_control/joint')
    ]
    assert initial == pytest.approx(cell['home_positions_rad'], abs=1e-6)
    with pytest.raises(ValueError, match='absolute'):
        gazebo_urdf('urdf/gazebo_controllers.yaml')


def test_gazebo_camera_sees_from_cell_yaml_and_publishes_what_the_bridge_carries(
    gazebo_robot, cell
):
    sensor = gazebo_robot.find("gazebo[@reference='camera_link']/sensor")
    assert sensor.get('type') == 'camera'
    assert sensor.find('gz_frame_id').text == 'camera_color_optical_frame'
    fov = float(sensor.find('camera/horizontal_fov').text)
    assert fov == pytest.approx(2 * math.atan(640 / 920), abs=1e-6)  # the simulated RealSense
    # gz cameras look along their link's x: camera_link's x is the optical frame's z.
    frames = _frames(ET.tostring(gazebo_robot, encoding='unicode'))
    optical = fixed_pose_in_base(cell, 'camera_color_optical_frame')
    np.testing.assert_allclose(frames['camera_link'][:3, 0], optical[:3, 2], atol=1e-9)
    np.testing.assert_allclose(frames['camera_link'][:3, 3], optical[:3, 3], atol=1e-9)
    bridged = {entry['gz_topic_name'] for entry in yaml.safe_load(_bridge_text())}
    assert {sensor.find('topic').text, sensor.find('camera/camera_info_topic').text} == {
        GZ_CAMERA_IMAGE,
        GZ_CAMERA_INFO,
    }
    assert {GZ_CAMERA_IMAGE, GZ_CAMERA_INFO} <= bridged


def test_gazebo_controllers_drive_exactly_the_urdf_joints_and_the_launch_spawns_them(
    gazebo_robot,
):
    controllers = yaml.safe_load(CONTROLLERS.read_text())
    manager = controllers['controller_manager']['ros__parameters']
    assert manager['update_rate'] > 0
    defined = {k: v['type'] for k, v in manager.items() if isinstance(v, dict)}
    assert defined == {
        'joint_state_broadcaster': 'joint_state_broadcaster/JointStateBroadcaster',
        'joint_trajectory_controller': 'joint_trajectory_controller/JointTrajectoryController',
    }
    trajectory = controllers['joint_trajectory_controller']['ros__parameters']
    urdf_joints = [j.get('name') for j in gazebo_robot.findall('ros2_control/joint')]
    assert tuple(trajectory['joints']) == tuple(urdf_joints) == ARM_JOINTS
    for joint in gazebo_robot.findall('ros2_control/joint'):
        commands = {c.get('name') for c in joint.findall('command_interface')}
        states = {c.get('name') for c in joint.findall('state_interface')}
        assert set(trajectory['command_interfaces']) <= commands
        assert set(trajectory['state_interfaces']) <= states
    assert set(trajectory['constraints']) - {'stopped_velocity_tolerance', 'goal_time'} == set(
        ARM_JOINTS
    )
    spawned = _launch_constant('gazebo', 'CONTROLLERS')
    assert set(spawned) == set(defined)
    executor = yaml.safe_load(
        (REPO_ROOT / 'src/calligraphy_bringup/config/gazebo.yaml').read_text()
    )
    action = executor['motion_executor_node']['ros__parameters']['controller_action']
    assert action == '/joint_trajectory_controller/follow_joint_trajectory'


def _bridge_text() -> str:
    return (URDF_DIR / 'gazebo_bridge.yaml').read_text()


def _launch_constant(launch: str, name: str):
    tree = ast.parse((REPO_ROOT / 'launch' / f'{launch}.launch.py').read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f'{launch}.launch.py defines no {name}')


def test_gazebo_bridge_config_carries_the_clock_and_the_camera_one_way():
    entries = yaml.safe_load(_bridge_text())
    assert isinstance(entries, list) and entries, 'ros_gz_bridge wants a YAML list of maps'
    for entry in entries:
        assert BRIDGED_TYPES[entry['ros_type_name']] == entry['gz_type_name'], entry
        assert entry['direction'] == 'GZ_TO_ROS'
        assert entry['ros_topic_name'] and entry['gz_topic_name']
    clock = [e for e in entries if e['ros_type_name'] == 'rosgraph_msgs/msg/Clock']
    assert [c['ros_topic_name'] for c in clock] == ['/clock']


def test_moveit_py_options_follow_the_drivers_joint_states():
    options = yaml.safe_load((URDF_DIR / 'moveit_py.yaml').read_text())
    monitor = options['planning_scene_monitor_options']
    assert monitor['robot_description'] == 'robot_description'
    assert monitor['joint_state_topic'] == '/joint_states'
    assert (
        options['plan_request_params']['planning_pipeline']
        in (options['planning_pipelines']['pipeline_names'])
    )
