"""The trajectory hand-off to the arm: the start the arm acknowledged for each trajectory (no ROS).

A JointTrajectory published on a topic gives the sender no word of delivery. On a loaded machine
it can arrive after the start it was stamped with (the arm then starts it late) or, before the
topic is matched, not at all; judging tracking against the stamped start then reads an arm that
has not moved yet as centimetres off the plan. The simulated arm answers each trajectory with a
`TrajectoryAck` (the start it really takes over at); the executor waits for that answer before
it judges tracking, and judges against the acknowledged start.

Trajectories are told apart by their requested start stamp (nanoseconds of robot time), which the
executor makes unique per trajectory.

A ros2_control cell (`controller_interface: follow_joint_trajectory`) is sent each trajectory as a
FollowJointTrajectory goal instead: the goal's acceptance is the acknowledgement, and the
controller's feedback says where along the trajectory it is (`controller_feedback_sample`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Acknowledgement:
    """The arm's answer to one trajectory."""

    requested_start_ns: int
    start_s: float
    accepted: bool
    reason: str = ''


class HandoffTracker:
    """Collects acknowledgements and lets a goal thread wait for the one of its trajectory."""

    def __init__(self, keep: int = 64) -> None:
        self._acks: dict[int, Acknowledgement] = {}
        self._keep = keep
        self._last_requested_ns = 0
        self._condition = threading.Condition()

    def unique_start_ns(self, start_s: float) -> int:
        """`start_s` in nanoseconds, nudged past every start handed out before, so that each
        trajectory's stamp names it alone."""
        with self._condition:
            start_ns = max(int(round(start_s * 1e9)), self._last_requested_ns + 1)
            self._last_requested_ns = start_ns
            return start_ns

    def record(self, ack: Acknowledgement) -> None:
        with self._condition:
            self._acks[ack.requested_start_ns] = ack
            while len(self._acks) > self._keep:
                self._acks.pop(next(iter(self._acks)))
            self._condition.notify_all()

    def wait(self, requested_start_ns: int, timeout_s: float) -> Acknowledgement | None:
        """The acknowledgement of the trajectory stamped `requested_start_ns`, or None when none
        came within `timeout_s` (wall clock)."""
        with self._condition:
            self._condition.wait_for(lambda: requested_start_ns in self._acks, timeout_s)
            return self._acks.get(requested_start_ns)


def controller_feedback_sample(
    feedback, joint_names: tuple[str, ...], start_s: float
) -> tuple[float, np.ndarray] | None:
    """A FollowJointTrajectory feedback as (time on the executor's plan clock, measured positions
    in `joint_names` order); None when it lacks one of the joints.

    ros2_control's joint_trajectory_controller sends, each control cycle, `actual` (the measured
    state) and `desired.time_from_start`: how far along the trajectory it is, in trajectory time,
    which advances with the speed scaling (a UR pendant's speed slider). Judging tracking at that
    time, and not at the stamp, a slowed-down arm is not read as lagging behind the plan.
    """
    names = list(feedback.joint_names)
    actual = list(feedback.actual.positions)
    if len(actual) != len(names) or not set(joint_names) <= set(names):
        return None
    along = feedback.desired.time_from_start
    positions = np.array([actual[names.index(name)] for name in joint_names], dtype=float)
    return start_s + along.sec + along.nanosec * 1e-9, positions
