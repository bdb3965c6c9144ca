"""The cell's robot description for Gazebo (gz sim), made from the one cell description (no ROS).

gazebo.launch.py gives robot_state_publisher (and, through its robot_description topic,
ros_gz_sim's `create`) this URDF: calligraphy_cell.urdf posed from cell.yaml
(calligraphy_model.cell_urdf), with

- the ros2_control hardware plugin gz_ros2_control/GazeboSimSystem (the checked-in URDF names
  ros2_control's mock_components/GenericSystem) and the arm starting at home_positions_rad;
- gz_ros2_control's system plugin (`gz_ros2_control-system`,
  `gz_ros2_control::GazeboSimROS2ControlPlugin`) loading the controllers file by absolute path
  (a plain URDF has no $(find ...));
- a camera sensor on camera_link, where cell.yaml's extrinsics put it, with the simulated
  RealSense's intrinsics, publishing on gz topics that gazebo_bridge.yaml brings to ROS. It sees
  the arm and the blank sheet: the ink lives in virtual_paper_node, whose sheet sim_camera_node
  renders for the camera feedback.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from calligraphy_model.cell_description import default_urdf_path, load_cell_yaml
from calligraphy_model.cell_urdf import pose_cell_frames

GZ_SYSTEM = 'gz_ros2_control/GazeboSimSystem'
GZ_PLUGIN_FILE = 'gz_ros2_control-system'
GZ_PLUGIN_NAME = 'gz_ros2_control::GazeboSimROS2ControlPlugin'
# The gz camera's topics (ROS names come from gazebo_bridge.yaml).
GZ_CAMERA_IMAGE = 'gz_camera/image'
GZ_CAMERA_INFO = 'gz_camera/camera_info'
# The simulated RealSense colour stream (calligraphy_sim.camera defaults): 1280x720, fx 920 px.
CAMERA_WIDTH_PX, CAMERA_HEIGHT_PX, CAMERA_FX_PX = 1280, 720, 920.0
CAMERA_RATE_HZ = 5.0


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _camera_sensor(robot: ET.Element) -> None:
    gazebo = _sub(robot, 'gazebo', reference='camera_link')
    sensor = _sub(gazebo, 'sensor', name='overhead_camera', type='camera')
    _sub(sensor, 'always_on', 'true')
    _sub(sensor, 'update_rate', f'{CAMERA_RATE_HZ:g}')
    _sub(sensor, 'topic', GZ_CAMERA_IMAGE)
    _sub(sensor, 'gz_frame_id', 'camera_color_optical_frame')
    camera = _sub(sensor, 'camera')
    _sub(camera, 'camera_info_topic', GZ_CAMERA_INFO)
    _sub(camera, 'horizontal_fov', f'{2.0 * math.atan(CAMERA_WIDTH_PX / 2 / CAMERA_FX_PX):.6f}')
    image = _sub(camera, 'image')
    _sub(image, 'width', str(CAMERA_WIDTH_PX))
    _sub(image, 'height', str(CAMERA_HEIGHT_PX))
    _sub(image, 'format', 'R8G8B8')
    clip = _sub(camera, 'clip')
    _sub(clip, 'near', '0.05')
    _sub(clip, 'far', '3.0')


def gazebo_urdf(
    controllers_file: str | Path,
    urdf: str | Path | None = None,
    cell: dict | str | Path | None = None,
) -> str:
    """The Gazebo description (see module) of `urdf` (default: the checkout's cell URDF) posed
    from `cell` (default: urdf/cell.yaml), its controllers in `controllers_file` (an absolute
    path; ValueError otherwise or when the URDF has no ros2_control system)."""
    if not Path(controllers_file).is_absolute():
        raise ValueError(
            f'gz_ros2_control needs an absolute controllers file, got {controllers_file}'
        )
    robot = ET.parse(Path(urdf) if urdf else default_urdf_path()).getroot()
    description = cell if isinstance(cell, dict) else load_cell_yaml(cell)
    pose_cell_frames(robot, description)
    plugin = robot.find('ros2_control/hardware/plugin')
    if plugin is None:
        raise ValueError('the URDF has no <ros2_control><hardware><plugin> to run in Gazebo')
    plugin.text = GZ_SYSTEM
    hardware = robot.find('ros2_control/hardware')
    for param in hardware.findall('param'):
        hardware.remove(param)
    home = description.get('home_positions_rad')
    joints = robot.findall('ros2_control/joint')
    if home is not None and len(home) == len(joints):
        for joint, position in zip(joints, home, strict=True):
            initial = joint.find("state_interface[@name='position']/param[@name='initial_value']")
            if initial is not None:
                initial.text = f'{float(position):.6g}'
    for old in robot.findall('gazebo'):
        robot.remove(old)
    gz_plugin = _sub(_sub(robot, 'gazebo'), 'plugin', filename=GZ_PLUGIN_FILE, name=GZ_PLUGIN_NAME)
    _sub(gz_plugin, 'parameters', str(controllers_file))
    _camera_sensor(robot)
    return ET.tostring(robot, encoding='unicode')
