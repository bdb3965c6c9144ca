"""The real cell: vendor ros2_control driver, MoveIt, RealSense camera and the cell's nodes.

    ros2 launch calligraphy_bringup real_cell.launch.py robot_ip:=192.168.1.10 \
        ur_type:=ur5e camera_serial:=<serial>

Needs a ROS 2 distribution with ur_robot_driver, ur_moveit_config, moveit_py and
realsense2_camera (see docker/).

The robot description is urdf/calligraphy_ur.urdf.xacro: the UR driver's own description (with the
arm's calibration when kinematics_params_file names the file ur_calibration extracted from the
robot) plus the brush tool, sheet, ink well and camera frames from urdf/cell.yaml, the one cell
description that every node reads and calibration writes (CALLIGRAPHY_CELL_YAML tells xacro which
file that is). The driver's robot_state_publisher publishes it all to TF. The same description,
ur_moveit_config's SRDF and kinematics and the planning pipelines (MoveItConfigsBuilder) go to the
motion executor, whose moveit backend asks MoveIt for IK on brush_tip.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import (
    DeclareLaunchArgument,
    GroupAction,
    IncludeLaunchDescription,
    SetEnvironmentVariable,
)
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node, PushRosNamespace
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from calligraphy_model.cell_description import default_cell_yaml_path
from launch import LaunchDescription

NODES = [
    ('stroke_planner', 'stroke_planner_node'),
    ('brush_policy_node', 'brush_policy_node'),
    ('motion_executor', 'motion_executor_node'),
    ('ink_dipping', 'ink_dipping_node'),
    ('camera_feedback', 'camera_feedback_node'),
    ('calligraphy_writer', 'writer_node'),
    ('calligraphy_bringup', 'calibration_node'),
]

# The cell's nodes use relative names, resolved in the launch's `namespace`. The UR driver's
# ur_control.launch.py runs at the root (its spawners name /controller_manager), so what the cell
# reads from it is remapped to the driver's global names; the controller's action and the speed
# scaling are absolute in real_cell.yaml.
HARDWARE_REMAPPINGS = [('joint_states', '/joint_states')]
# The description the driver's robot_state_publisher and MoveIt load (UR arm + the cell's frames).
DESCRIPTION = 'calligraphy_ur.urdf.xacro'


def moveit_parameters(description_file: str, ur_type, kinematics_params) -> dict:
    """MoveItPy's parameters: ur_moveit_config's SRDF (group ur_manipulator, base_link..tool0),
    kinematics (KDL) and planning pipelines, our description (brush_tip), and urdf/moveit_py.yaml
    (the planning scene monitor on /joint_states)."""
    from pathlib import Path

    from moveit_configs_utils import MoveItConfigsBuilder

    share = get_package_share_directory('calligraphy_bringup')
    return (
        MoveItConfigsBuilder(robot_name='ur', package_name='ur_moveit_config')
        .robot_description(
            file_path=description_file,
            mappings={
                'name': 'ur',
                'ur_type': ur_type,
                'kinematics_params': kinematics_params,
                'cell_yaml': str(default_cell_yaml_path()),
            },
        )
        .robot_description_semantic(Path('srdf') / 'ur.srdf.xacro', {'name': 'ur'})
        .moveit_cpp(file_path=os.path.join(share, 'urdf', 'moveit_py.yaml'))
        .to_moveit_configs()
        .to_dict()
    )


def generate_launch_description():
    share = get_package_share_directory('calligraphy_bringup')
    config = os.path.join(share, 'config', 'real_cell.yaml')
    robot_ip = LaunchConfiguration('robot_ip')
    ur_type = LaunchConfiguration('ur_type')
    kinematics_params = LaunchConfiguration('kinematics_params_file')
    description_file = os.path.join(share, 'urdf', DESCRIPTION)
    driver = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            os.path.join(
                get_package_share_directory('ur_robot_driver'), 'launch', 'ur_control.launch.py'
            )
        ),
        launch_arguments={
            'robot_ip': robot_ip,
            'ur_type': ur_type,
            'launch_rviz': 'false',
            'initial_joint_controller': 'scaled_joint_trajectory_controller',
            # ur_rsp.launch.py's arguments: our description, the arm's calibration.
            'description_file': description_file,
            'kinematics_params_file': kinematics_params,
        }.items(),
    )
    moveit = moveit_parameters(description_file, ur_type, kinematics_params)
    # realsense2_camera 4.x (Kilted: 4.58), as its rs_launch.py starts it: node `camera` in
    # namespace `camera` publishes ~/color/image_raw and ~/color/camera_info, i.e.
    # /camera/camera/color/... (under the cell's namespace when one is given); real_cell.yaml's
    # camera_feedback_node listens there. `serial_no` is a string parameter (realsense_node_factory
    # .cpp): a serial of digits is passed as a string, never as an integer, whatever the command
    # line looks like (the driver also strips a leading '_', its README's workaround).
    camera = Node(
        package='realsense2_camera',
        executable='realsense2_camera_node',
        name='camera',
        namespace='camera',
        parameters=[
            {
                'serial_no': ParameterValue(LaunchConfiguration('camera_serial'), value_type=str),
                'enable_color': True,
                'rgb_camera.color_profile': '1280x720x30',
                'rgb_camera.color_format': 'RGB8',
                'enable_depth': False,
                # The optical frame's parent is the cell description's (robot_state_publisher);
                # the driver's own TF would give it a second one.
                'publish_tf': False,
            }
        ],
    )
    cell = [
        Node(
            package=package,
            executable=executable,
            name=executable,
            parameters=[config, moveit] if executable == 'motion_executor_node' else [config],
            remappings=HARDWARE_REMAPPINGS,
            output='screen',
        )
        for package, executable in NODES
    ]
    return LaunchDescription(
        [
            DeclareLaunchArgument('robot_ip', description='IP address of the arm controller'),
            DeclareLaunchArgument('ur_type', default_value='ur5e'),
            DeclareLaunchArgument(
                'kinematics_params_file',
                default_value=PathJoinSubstitution(
                    [
                        FindPackageShare('ur_description'),
                        'config',
                        ur_type,
                        'default_kinematics.yaml',
                    ]
                ),
                description="the arm's calibration (ur_calibration's output; default: nominal)",
            ),
            # The cell description the nodes read is the one xacro reads (calligraphy_cell.xacro).
            SetEnvironmentVariable('CALLIGRAPHY_CELL_YAML', str(default_cell_yaml_path())),
            DeclareLaunchArgument(
                'camera_serial',
                default_value='',
                description="the RealSense's serial number ('' = the first camera found)",
            ),
            DeclareLaunchArgument(
                'namespace',
                default_value='',
                description="the cell's namespace (e.g. cell_a: /cell_a/write_character), so "
                'several cells share one network; the arm driver stays global',
            ),
            driver,
            GroupAction([PushRosNamespace(LaunchConfiguration('namespace')), camera, *cell]),
        ]
    )
