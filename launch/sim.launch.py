"""The whole cell in simulation: MuJoCo arm, virtual paper, simulated camera and the cell's nodes.

    ros2 launch calligraphy_bringup sim.launch.py [realtime_factor:=0.0]

Where `ros2 launch` is not installed, `calligraphy write` brings up the same nodes with the same
YAML in one process.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument
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
    ('calligraphy_bringup', 'calibration_node'),
    ('calligraphy_sim', 'virtual_paper_node'),
    ('calligraphy_sim', 'sim_camera_node'),
]


def generate_launch_description():
    config = os.path.join(get_package_share_directory('calligraphy_bringup'), 'config', 'sim.yaml')
    arm = Node(
        package='calligraphy_sim',
        executable='mujoco_arm_node',
        name='mujoco_arm_node',
        parameters=[config, {'real_time_factor': LaunchConfiguration('realtime_factor')}],
        output='screen',
    )
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                'realtime_factor',
                default_value='1.0',
                description='simulation speed: 1.0 = real time, 0.0 = as fast as possible',
            ),
            arm,
            *[
                Node(
                    package=package,
                    executable=executable,
                    name=executable,
                    parameters=[config],
                    output='screen',
                )
                for package, executable in NODES
            ],
        ]
    )
