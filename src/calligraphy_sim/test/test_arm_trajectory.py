"""The simulated arm's trajectory following: interpolation, replacement, rejection, physics."""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_model.cell_description import ARM_JOINTS, HOME_POSITIONS_RAD
from calligraphy_sim.arm import ArmSimConfig, ArmSimulation
from calligraphy_sim.arm_trajectory import (
    JointTrajectory,
    TrajectoryFollower,
    TrajectoryRejectedError,
)

HOME = np.array(HOME_POSITIONS_RAD)


def _trajectory(times, positions, velocities=None, names=ARM_JOINTS) -> JointTrajectory:
    return JointTrajectory(
        tuple(names),
        np.array(times, float),
        np.array(positions, float),
        None if velocities is None else np.array(velocities, float),
    )


def test_cubic_segments_pass_through_points_with_their_velocities():
    follower = TrajectoryFollower(ARM_JOINTS, HOME)
    goal = HOME + 0.2
    follower.set_trajectory(
        _trajectory(
            [0.0, 1.0, 2.0], [HOME, HOME + 0.1, goal], [np.zeros(6), np.full(6, 0.1), np.zeros(6)]
        ),
        start_time_s=10.0,
    )
    np.testing.assert_allclose(follower.sample(5.0)[0], HOME)  # holds before the start
    position, velocity, _ = follower.sample(11.0)
    np.testing.assert_allclose(position, HOME + 0.1, atol=1e-12)
    np.testing.assert_allclose(velocity, 0.1, atol=1e-12)
    # Cubic Hermite midpoint: mean of the ends plus h/8 of the slope difference.
    np.testing.assert_allclose(follower.sample(11.5)[0], HOME + 0.15 + 0.1 / 8, atol=1e-12)
    np.testing.assert_allclose(follower.sample(30.0)[0], goal)  # holds the last point


def test_first_point_after_start_is_bridged_from_the_commanded_state_without_a_jump():
    follower = TrajectoryFollower(ARM_JOINTS, HOME)
    follower.sample(0.0)
    follower.set_trajectory(_trajectory([2.0], [HOME + 1.0]), start_time_s=0.0)
    np.testing.assert_allclose(follower.sample(0.0)[0], HOME)
    np.testing.assert_allclose(follower.sample(1.0)[0], HOME + 0.5)


def test_new_trajectory_replaces_the_active_one_at_its_start_time():
    follower = TrajectoryFollower(ARM_JOINTS, HOME)
    follower.set_trajectory(_trajectory([0.0, 10.0], [HOME, HOME + 1.0]), 0.0)
    follower.sample(1.0)
    follower.set_trajectory(_trajectory([1.0], [HOME - 0.5]), 2.0)
    np.testing.assert_allclose(follower.sample(2.0)[0], HOME + 0.2, atol=1e-12)  # old until 2 s
    np.testing.assert_allclose(follower.sample(3.0)[0], HOME - 0.5, atol=1e-12)
    np.testing.assert_allclose(follower.sample(20.0)[0], HOME - 0.5, atol=1e-12)


def test_joint_order_of_the_message_is_mapped_to_the_arm():
    follower = TrajectoryFollower(ARM_JOINTS, HOME)
    reversed_names = tuple(reversed(ARM_JOINTS))
    target = np.arange(6) * 0.1
    follower.set_trajectory(_trajectory([0.5], [target[::-1]], names=reversed_names), 0.0)
    np.testing.assert_allclose(follower.sample(1.0)[0], target)


@pytest.mark.parametrize(
    ('trajectory', 'message'),
    [
        (_trajectory([1.0], [np.zeros(6)], names=ARM_JOINTS[:5] + ('gripper',)), 'arm joints'),
        (_trajectory([1.0, 1.0], [np.zeros(6), np.zeros(6)]), 'strictly increasing'),
        (_trajectory([1.0], [np.zeros(5)]), 'positions must be'),
        (_trajectory([1.0], [[np.nan] * 6]), 'non-finite'),
    ],
)
def test_bad_trajectories_are_rejected_with_the_reason(trajectory, message):
    follower = TrajectoryFollower(ARM_JOINTS, HOME)
    with pytest.raises(TrajectoryRejectedError, match=message):
        follower.set_trajectory(trajectory, 0.0)


def test_servoed_arm_reaches_and_holds_a_commanded_pose_against_gravity():
    simulation = ArmSimulation()
    goal = HOME + np.array([0.3, -0.2, 0.25, 0.1, -0.2, 0.4])
    times = np.linspace(0.0, 2.0, 41)
    s = 0.5 - 0.5 * np.cos(np.pi * times / 2.0)
    simulation.set_trajectory(_trajectory(times, HOME + np.outer(s, goal - HOME)))
    simulation.advance(3.0)
    np.testing.assert_allclose(simulation.joint_positions, goal, atol=2e-4)
    assert np.max(np.abs(simulation.joint_velocities)) < 1e-3


def test_a_holding_arm_stepped_in_one_call_moves_exactly_as_stepped_one_by_one():
    # Steps taken in one MuJoCo call while the arm holds (before, after and between
    # trajectories) give the same physics as the step-by-step loop, to the last bit.
    one_by_one, batched = ArmSimulation(), ArmSimulation()
    goal = HOME + np.array([0.2, -0.1, 0.15, 0.05, -0.1, 0.2])
    for simulation in (one_by_one, batched):
        simulation.set_trajectory(_trajectory([0.0, 0.4], [HOME, goal]), start_time_s=0.3)
    for _ in range(500):  # 0.3 s holding, the 0.4 s move, 0.3 s holding
        one_by_one.step()
    batched.step(150)
    batched.step(350)  # the move (one by one) and the hold after it (in one call)
    assert batched.time_s == one_by_one.time_s
    np.testing.assert_array_equal(batched.joint_positions, one_by_one.joint_positions)
    np.testing.assert_array_equal(batched.joint_velocities, one_by_one.joint_velocities)
    np.testing.assert_allclose(batched.joint_positions, goal, atol=2e-3)
    # A trajectory set while it holds is followed from its start.
    back = _trajectory([0.0, 0.4], [goal, HOME])
    for simulation in (one_by_one, batched):
        simulation.set_trajectory(back, start_time_s=1.1)
    for _ in range(400):
        one_by_one.step()
    batched.step(400)
    np.testing.assert_array_equal(batched.joint_positions, one_by_one.joint_positions)
    np.testing.assert_allclose(batched.joint_positions, HOME, atol=2e-3)


def test_without_gravity_compensation_the_servo_sags_measurably():
    simulation = ArmSimulation(ArmSimConfig(gravity_compensation=False))
    simulation.advance(1.0)
    # The stiff servo alone leaves a steady-state error under the arm's weight.
    assert np.max(np.abs(simulation.joint_positions - HOME)) > 1e-4


def test_config_rejects_wrong_gain_counts():
    with pytest.raises(ValueError, match='stiffness needs 6'):
        ArmSimConfig(stiffness=(1.0,))
