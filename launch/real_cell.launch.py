"""The real cell: vendor ros2_control driver, MoveIt, RealSense camera and the cell's nodes.

    ros2 launch calligraphy_bringup real_cell.launch.py robot_ip:=192.168.1.10 \
        ur_type:=ur5e camera_serial:=<serial>

Needs a ROS 2 distribution with ur_robot_driver, moveit_py and realsense2_camera (see docker/).
The paper pose in base_link comes from config/real_cell.yaml (touch-off calibration).
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription

NODES = [
    ('stroke_planner', 'stroke_planner_node'),
    ('brush_policy_node', 'brush_policy_node'),
    ('motion_executor', 'motion_executor_node'),
    ('ink_dipping', 'ink_dipping_node'),
    ('camera_feedback', 'camera_feedback_node'),
    ('calligraphy_writer', 'writer_node'),
]


def generate_launch_description():
    share = get_package_share_directory('calligraphy_bringup')
    config = os.path.join(share, 'config', 'real_cell.yaml')
    robot_ip = LaunchConfiguration('robot_ip')
    ur_type = LaunchConfiguration('ur_type')
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
        }.items(),
    )
    camera = Node(
        package='realsense2_camera',
        executable='realsense2_camera_node',
        name='camera',
        namespace='camera',
        parameters=[
            {
                'serial_no': LaunchConfiguration('camera_serial'),
                'rgb_camera.color_profile': '1280x720x30',
                'enable_depth': False,
            }
        ],
    )
    cell = [
        Node(
            package=package,
            executable=executable,
            name=executable,
            parameters=[config],
            output='screen',
        )
        for package, executable in NODES
    ]
    return LaunchDescription(
        [
            DeclareLaunchArgument('robot_ip', description='IP address of the arm controller'),
            DeclareLaunchArgument('ur_type', default_value='ur5e'),
            DeclareLaunchArgument('camera_serial', default_value="''"),
            driver,
            camera,
            *cell,
        ]
    )
