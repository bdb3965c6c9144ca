"""mujoco_arm_node in a live rclpy graph: follows trajectories; publishes state, clock, tip."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import PoseStamped
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from calligraphy_model.cell_description import ARM_JOINTS, HOME_POSITIONS_RAD
from calligraphy_model.polling import wait_until
from calligraphy_sim.mujoco_arm_node import MujocoArmNode


@pytest.mark.timeout(60)
def test_arm_node_follows_a_trajectory_and_publishes_state_clock_and_tip(rclpy_context):
    arm = MujocoArmNode(
        context=rclpy_context, parameter_overrides=[Parameter('real_time_factor', value=5.0)]
    )
    probe = Node('arm_probe', context=rclpy_context)
    states: list[JointState] = []
    clocks: list[Clock] = []
    tips: list[PoseStamped] = []
    probe.create_subscription(JointState, '/joint_states', states.append, 10)
    probe.create_subscription(Clock, '/clock', clocks.append, 10)
    probe.create_subscription(PoseStamped, '/brush_tip_pose', tips.append, 10)
    publisher = probe.create_publisher(JointTrajectory, '/arm_controller/joint_trajectory', 10)
    executor = MultiThreadedExecutor(context=rclpy_context)
    executor.add_node(arm)
    executor.add_node(probe)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: states and tips and clocks, 20.0), 'no state published'
        assert list(states[-1].name) == list(ARM_JOINTS)
        assert tips[-1].header.frame_id == 'paper'
        # Home: brush upright 0.1 m above the sheet's centre.
        assert tips[-1].pose.position.z == pytest.approx(0.1, abs=1e-3)

        goal = np.array(HOME_POSITIONS_RAD) + np.array([0.2, 0.1, -0.1, 0.05, 0.0, 0.3])
        bad = JointTrajectory(joint_names=['elbow_joint'])
        bad.points.append(JointTrajectoryPoint(positions=[0.0], time_from_start=Duration(sec=1)))
        publisher.publish(bad)  # rejected: not all arm joints; the arm keeps holding
        trajectory = JointTrajectory(joint_names=list(ARM_JOINTS))
        trajectory.points.append(
            JointTrajectoryPoint(positions=goal.tolist(), time_from_start=Duration(sec=1))
        )
        assert wait_until(lambda: publisher.get_subscription_count() > 0, 10.0)
        # The graph can show the subscription a moment before DDS has matched it and the first
        # message is then lost: send again until the arm has taken it (same goal, from arrival).
        for _ in range(5):
            publisher.publish(trajectory)
            if wait_until(lambda: arm.simulation.follower.busy_until_s > 0.0, 2.0):
                break

        def arrived() -> bool:
            return np.max(np.abs(np.array(states[-1].position) - goal)) < 1e-3

        assert wait_until(arrived, 20.0), f'arm at {states[-1].position}'
        assert arm.simulation.follower.busy_until_s > 0.0
        stamp = states[-1].header.stamp.sec + states[-1].header.stamp.nanosec * 1e-9
        clock = clocks[-1].clock.sec + clocks[-1].clock.nanosec * 1e-9
        assert clock > 1.0 and abs(clock - stamp) < 0.5  # one simulated time base
        assert abs(tips[-1].pose.position.x - 0.1485) > 0.01  # the tip moved across the sheet
        assert arm.simulation.joint_positions == pytest.approx(goal, abs=1e-3)
        with pytest.raises(Exception, match='read at start'):
            from rclpy.exceptions import InvalidParameterValueException

            result = arm.set_parameters([Parameter('real_time_factor', value=2.0)])[0]
            if not result.successful:
                raise InvalidParameterValueException('real_time_factor', 2.0, result.reason)
    finally:
        executor.shutdown()
        arm.destroy_node()
        probe.destroy_node()
