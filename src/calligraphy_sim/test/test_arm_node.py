"""mujoco_arm_node in a live rclpy graph: follows trajectories; publishes state, clock, tip."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from types import SimpleNamespace

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


@contextmanager
def _arm_graph(context, depth: int, **parameters):
    """The arm node and a probe node spinning together: the probe's lists of /joint_states,
    /clock and /brush_tip_pose (queues of `depth`) and its trajectory publisher."""
    arm = MujocoArmNode(
        context=context,
        parameter_overrides=[Parameter(name, value=value) for name, value in parameters.items()],
    )
    probe = Node('arm_probe', context=context)
    seen = SimpleNamespace(arm=arm, states=[], clocks=[], tips=[])
    probe.create_subscription(JointState, '/joint_states', seen.states.append, depth)
    probe.create_subscription(Clock, '/clock', seen.clocks.append, depth)
    probe.create_subscription(PoseStamped, '/brush_tip_pose', seen.tips.append, depth)
    seen.publisher = probe.create_publisher(
        JointTrajectory, '/arm_controller/joint_trajectory', 10
    )
    executor = MultiThreadedExecutor(context=context)
    executor.add_node(arm)
    executor.add_node(probe)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        executor.shutdown()
        arm.destroy_node()
        probe.destroy_node()


def _send(seen, trajectory: JointTrajectory) -> None:
    """Publish until the arm has taken it: the graph can show the subscription a moment before
    DDS has matched it, and the first message is then lost (same goal, from arrival)."""
    assert wait_until(lambda: seen.publisher.get_subscription_count() > 0, 10.0)
    for _ in range(5):
        seen.publisher.publish(trajectory)
        if wait_until(lambda: seen.arm.simulation.follower.busy_until_s > 0.0, 2.0):
            break


def _to(goal: np.ndarray) -> JointTrajectory:
    trajectory = JointTrajectory(joint_names=list(ARM_JOINTS))
    trajectory.points.append(
        JointTrajectoryPoint(positions=goal.tolist(), time_from_start=Duration(sec=1))
    )
    return trajectory


@pytest.mark.timeout(60)
def test_arm_node_follows_a_trajectory_and_publishes_state_clock_and_tip(rclpy_context):
    with _arm_graph(rclpy_context, 10, real_time_factor=5.0) as seen:
        states, clocks, tips, arm = seen.states, seen.clocks, seen.tips, seen.arm
        assert wait_until(lambda: states and tips and clocks, 20.0), 'no state published'
        assert list(states[-1].name) == list(ARM_JOINTS)
        assert tips[-1].header.frame_id == 'paper'
        # Home: brush upright 0.1 m above the sheet's centre.
        assert tips[-1].pose.position.z == pytest.approx(0.1, abs=1e-3)

        goal = np.array(HOME_POSITIONS_RAD) + np.array([0.2, 0.1, -0.1, 0.05, 0.0, 0.3])
        bad = JointTrajectory(joint_names=['elbow_joint'])
        bad.points.append(JointTrajectoryPoint(positions=[0.0], time_from_start=Duration(sec=1)))
        assert wait_until(lambda: seen.publisher.get_subscription_count() > 0, 10.0)
        seen.publisher.publish(bad)  # rejected: not all arm joints; the arm keeps holding
        _send(seen, _to(goal))

        def arrived() -> bool:
            return np.max(np.abs(np.array(states[-1].position) - goal)) < 1e-3

        assert wait_until(arrived, 20.0), f'arm at {states[-1].position}'
        assert arm.simulation.follower.busy_until_s > 0.0
        stamp = states[-1].header.stamp.sec + states[-1].header.stamp.nanosec * 1e-9

        def clock() -> float:
            return clocks[-1].clock.sec + clocks[-1].clock.nanosec * 1e-9

        # One simulated time base: /clock (one cycle in ten while the arm moves, every cycle
        # once it stops) reaches the stamp of the state that showed the arm arrived.
        assert wait_until(lambda: clock() >= stamp - 1e-9, 10.0), (clock(), stamp)
        assert clock() > 1.0 and abs(clock() - stamp) < 0.5
        assert abs(tips[-1].pose.position.x - 0.1485) > 0.01  # the tip moved across the sheet
        assert arm.simulation.joint_positions == pytest.approx(goal, abs=1e-3)
        with pytest.raises(Exception, match='read at start'):
            from rclpy.exceptions import InvalidParameterValueException

            result = arm.set_parameters([Parameter('real_time_factor', value=2.0)])[0]
            if not result.successful:
                raise InvalidParameterValueException('real_time_factor', 2.0, result.reason)


def _stamp(msg: JointState) -> float:
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


@pytest.mark.timeout(60)
def test_a_still_arm_publishes_at_a_tenth_of_the_rate_and_its_state_right_before_it_moves(
    rclpy_context,
):
    """Standing still, the arm's topics go out at one cycle in idle_divider (their readers woke
    400 times a second for nothing); once it moves, every cycle, the last still one first, but
    /clock, which stays at one cycle in idle_divider until the arm stops."""
    with _arm_graph(rclpy_context, 1000, real_time_factor=5.0, idle_divider=10) as seen:
        states, tips = seen.states, seen.tips
        # The arm settles on its start position first (full rate while it moves).
        assert wait_until(lambda: len(states) >= 40, 20.0), 'no state published'
        assert np.diff([_stamp(m) for m in states[30:40]]) == pytest.approx(0.1, abs=1e-6)

        home = np.array(HOME_POSITIONS_RAD)
        goal = home + np.array([0.2, 0.0, 0.0, 0.0, 0.0, 0.0])
        _send(seen, _to(goal))
        assert wait_until(
            lambda: np.max(np.abs(np.array(states[-1].position) - goal)) < 1e-3, 20.0
        ), f'arm at {states[-1].position}'

        def tenth_rate() -> bool:
            stamps = [_stamp(m) for m in states[-10:]]
            return np.allclose(np.diff(stamps), 0.1, atol=1e-6)

        # Once it has settled on the goal, the rate drops again.
        assert wait_until(tenth_rate, 20.0), 'the rate did not drop after the move'
        snapshot = list(states)
        moving = [np.max(np.abs(m.velocity)) > 1e-3 for m in snapshot]
        first = moving.index(True)
        stamps = np.array([_stamp(m) for m in snapshot])
        # The state one cycle before the first moving one, still at home.
        assert stamps[first] - stamps[first - 1] == pytest.approx(0.01, abs=1e-6)
        assert np.array(snapshot[first - 1].position) == pytest.approx(home, abs=1e-4)
        last = len(moving) - 1 - moving[::-1].index(True)
        assert np.diff(stamps[first - 1 : last + 1]) == pytest.approx(0.01, abs=1e-6)
        # Still again: the full rate for idle_divider cycles before it drops.
        assert np.diff(stamps[last : last + 11]) == pytest.approx(0.01, abs=1e-6)
        # /clock: one cycle in idle_divider while the arm moves too, the full rate for
        # idle_divider cycles after it stops, so the newest time a reader holds is never older
        # than the moment the arm stood.
        clocks = np.array([c.clock.sec + c.clock.nanosec * 1e-9 for c in seen.clocks])
        during = clocks[(clocks > stamps[first] + 1e-6) & (clocks < stamps[last] - 1e-6)]
        assert len(during) > 2 and np.diff(during) == pytest.approx(0.1, abs=1e-6)
        after = clocks[(clocks > stamps[last] + 1e-6) & (clocks <= stamps[last] + 0.1 + 1e-6)]
        assert np.diff(after) == pytest.approx(0.01, abs=1e-6) and len(after) == 10
        # The tip poses go out with the joint states: the same stamps.
        tip_stamps = {round(t.header.stamp.sec + t.header.stamp.nanosec * 1e-9, 6) for t in tips}
        assert {round(s, 6) for s in stamps[first - 1 : last + 11]} <= tip_stamps
