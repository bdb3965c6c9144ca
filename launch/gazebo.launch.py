"""The cell against Gazebo: gz_ros2_control arm and gz camera; paper and ink stay virtual.

    ros2 launch calligraphy_bringup gazebo.launch.py

Needs ros_gz_sim and gz_ros2_control from a ROS 2 distribution.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch_ros.actions import Node

from launch import LaunchDescription

NODES = [
    ('stroke_planner', 'stroke_planner_node'),
    ('brush_policy_node', 'brush_policy_node'),
    ('motion_executor', 'motion_executor_node'),
    ('ink_dipping', 'ink_dipping_node'),
    ('camera_feedback', 'camera_feedback_node'),
    ('calligraphy_writer', 'writer_node'),
    ('calligraphy_sim', 'virtual_paper_node'),
]


def generate_launch_description():
    share = get_package_share_directory('calligraphy_bringup')
    config = os.path.join(share, 'config', 'gazebo.yaml')
    with open(os.path.join(share, 'urdf', 'calligraphy_cell.urdf')) as urdf:
        robot_description = urdf.read()
    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            os.path.join(get_package_share_directory('ros_gz_sim'), 'launch', 'gz_sim.launch.py')
        ),
        launch_arguments={'gz_args': '-r empty.sdf'}.items(),
    )
    state_publisher = Node(
        package='robot_state_publisher',
        executable='robot_state_publisher',
        parameters=[{'robot_description': robot_description, 'use_sim_time': True}],
    )
    spawn = Node(
        package='ros_gz_sim',
        executable='create',
        arguments=['-topic', 'robot_description', '-name', 'calligraphy_cell'],
    )
    cell = [
        Node(
            package=package,
            executable=executable,
            name=executable,
            parameters=[config, {'use_sim_time': True}],
            output='screen',
        )
        for package, executable in NODES
    ]
    return LaunchDescription([gazebo, state_publisher, spawn, *cell])
