"""tip_pose_node (Gazebo's arm publishes joint states only): joint states in, the brush tip on the
sheet out, so the virtual paper inks where the arm writes."""

from __future__ import annotations

import os
import random
import threading

import numpy as np
import pytest
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import JointState

from calligraphy_model.cell_description import ARM_JOINTS, HOME_POSITIONS_RAD
from calligraphy_model.polling import wait_until
from calligraphy_sim.tip_pose_node import TipPoseNode


@pytest.fixture
def graph():
    context = Context()
    rclpy.init(context=context, domain_id=random.Random(f'{os.getpid()}-tip').randint(150, 230))
    node = TipPoseNode(context=context)
    arm = Node('stand_in_arm', context=context)
    poses: list[PoseStamped] = []
    arm.create_subscription(PoseStamped, 'brush_tip_pose', poses.append, 10)
    states = arm.create_publisher(JointState, 'joint_states', 10)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    executor.add_node(arm)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: states.get_subscription_count() > 0, 10.0)
        yield states, poses
    finally:
        executor.shutdown()
        thread.join(timeout=10.0)
        arm.destroy_node()
        node.destroy_node()
        context.try_shutdown()
        context.destroy()


def _state(names, positions, sec=12) -> JointState:
    msg = JointState(name=list(names), position=[float(p) for p in positions])
    msg.header.stamp.sec = sec
    return msg


def test_home_puts_the_tip_a_decimetre_above_the_sheets_centre(graph):
    states, poses = graph
    # Joint states in the driver's order (alphabetical in ros2_control), not the chain's.
    order = sorted(range(6), key=lambda i: ARM_JOINTS[i])
    states.publish(_state([ARM_JOINTS[i] for i in order], [HOME_POSITIONS_RAD[i] for i in order]))
    assert wait_until(lambda: poses, 10.0), 'no tip pose'
    pose = poses[-1]
    assert pose.header.frame_id == 'paper' and pose.header.stamp.sec == 12
    tip = np.array([pose.pose.position.x, pose.pose.position.y, pose.pose.position.z])
    # urdf/cell.yaml: home is the brush upright 0.1 m above the A4 sheet's centre.
    np.testing.assert_allclose(tip, [0.1485, 0.105, 0.1], atol=1e-3)


def test_joint_states_missing_an_arm_joint_publish_nothing(graph):
    states, poses = graph
    states.publish(_state(ARM_JOINTS[:5], HOME_POSITIONS_RAD[:5]))
    states.publish(_state(ARM_JOINTS, HOME_POSITIONS_RAD, sec=13))
    assert wait_until(lambda: poses, 10.0)
    assert [p.header.stamp.sec for p in poses] == [13]
