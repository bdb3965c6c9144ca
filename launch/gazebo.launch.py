"""The cell against Gazebo (gz sim): gz_ros2_control arm, gz camera; paper and ink stay virtual.

    ros2 launch calligraphy_bringup gazebo.launch.py

Needs ros_gz_sim, ros_gz_bridge, gz_ros2_control, ros2_controllers and robot_state_publisher from
a ROS 2 distribution. What runs:

- gz sim with urdf/calligraphy_world.sdf (physics, the Sensors system for the camera);
- robot_state_publisher with the cell's Gazebo description (calligraphy_bringup.gazebo_description:
  calligraphy_cell.urdf posed from urdf/cell.yaml, gz_ros2_control's system plugin, a camera
  sensor), so TF carries the arm, brush tip, sheet, ink well and camera; ros_gz_sim `create`
  spawns the cell from its robot_description topic;
- controller spawners (after the spawn) for joint_state_broadcaster and
  joint_trajectory_controller (urdf/gazebo_controllers.yaml); the motion executor sends it
  FollowJointTrajectory goals;
- ros_gz_bridge (urdf/gazebo_bridge.yaml): /clock and the gz camera's image and camera_info;
- the cell's nodes on simulated time, tip_pose_node (the brush tip on the sheet from the joint
  states, which the virtual paper inks from) and sim_camera_node (the inked virtual sheet as the
  overhead camera sees it, which the camera feedback observes: Gazebo renders no ink).
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import IncludeLaunchDescription, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch_ros.actions import Node

from calligraphy_bringup.gazebo_description import gazebo_urdf
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
    ('calligraphy_sim', 'virtual_paper_node'),
    ('calligraphy_sim', 'sim_camera_node'),
    ('calligraphy_sim', 'tip_pose_node'),
]
CONTROLLERS = ('joint_state_broadcaster', 'joint_trajectory_controller')


def generate_launch_description():
    share = get_package_share_directory('calligraphy_bringup')
    config = os.path.join(share, 'config', 'gazebo.yaml')
    controllers = os.path.join(share, 'urdf', 'gazebo_controllers.yaml')
    robot_description = gazebo_urdf(
        controllers,
        urdf=os.path.join(share, 'urdf', 'calligraphy_cell.urdf'),
        # The cell description every node reads (calibration writes it).
        cell=default_cell_yaml_path(),
    )
    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            os.path.join(get_package_share_directory('ros_gz_sim'), 'launch', 'gz_sim.launch.py')
        ),
        launch_arguments={
            'gz_args': '-r ' + os.path.join(share, 'urdf', 'calligraphy_world.sdf')
        }.items(),
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
    spawners = [
        Node(
            package='controller_manager',
            executable='spawner',
            arguments=[controller, '--param-file', controllers],
            parameters=[{'use_sim_time': True}],
        )
        for controller in CONTROLLERS
    ]
    bridge = Node(
        package='ros_gz_bridge',
        executable='parameter_bridge',
        parameters=[
            {
                'config_file': os.path.join(share, 'urdf', 'gazebo_bridge.yaml'),
                'use_sim_time': True,
            }
        ],
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
    return LaunchDescription(
        [
            gazebo,
            bridge,
            state_publisher,
            spawn,
            # Controllers load once the cell (and with it gz_ros2_control's manager) exists.
            RegisterEventHandler(OnProcessExit(target_action=spawn, on_exit=spawners)),
            *cell,
        ]
    )
