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
from typing import Protocol

import numpy as np

from motion_executor.brush_motion import MotionPlan
from motion_executor.errors import MotionError, MotionErrorCode


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


class ArmLink(Protocol):
    """How trajectories reach the arm; the node implements it over ROS."""

    # True: trajectories go as FollowJointTrajectory goals (no topic, no TrajectoryAck).
    uses_controller: bool

    def trajectory_listened(self) -> bool:
        """Something subscribes to the trajectory topic."""

    def ack_published(self) -> bool:
        """Something publishes the arm's TrajectoryAck."""

    def publish(self, plan: MotionPlan, start_ns: int) -> None:
        """Publish `plan` on the trajectory topic, stamped `start_ns` (robot time)."""

    def publish_stop(self, joint_names: tuple[str, ...]) -> None:
        """Publish an empty trajectory: hold where the arm is."""

    def send_to_controller(self, plan: MotionPlan, start_ns: int, wait: bool) -> float:
        """Send `plan` as a controller goal; with `wait`, MotionError CONTROLLER_UNAVAILABLE
        unless accepted in time. Returns the start on the plan clock (s)."""

    def controller_outcome(self) -> tuple[bool, str] | None:
        """(succeeded, what the controller said) once its goal has ended; None before."""


class TrajectoryHandoff:
    """Sends plans to the arm timed in its future and learns the start the arm took."""

    def __init__(self, link: ArmLink, start_lead_s: float, ack: bool, ack_timeout_s: float):
        self.link = link
        self.tracker = HandoffTracker()
        self._lead_s = start_lead_s
        # The simulated arm's TrajectoryAck (topic hand-off only).
        self.uses_ack = ack and not link.uses_controller
        self._ack_timeout_s = ack_timeout_s

    def send(
        self, plan: MotionPlan, newest_stamp_s: float | None, is_lift: bool, wait_ack: bool
    ) -> float:
        """Send `plan` to start `start_lead_s` after `newest_stamp_s` (the newest joint state's
        robot time); the robot time it starts at.

        With an acknowledging arm the start is the one the arm acknowledged (later than stamped
        when the trajectory arrived late); no acknowledgement within the timeout stops the arm
        and raises CONTROLLER_UNAVAILABLE, so tracking is never judged against a trajectory the
        arm does not follow. A lift is never stopped: should it still arrive, the brush goes up,
        which is where it must end. Without `wait_ack` (a lift nobody waits for) the requested
        start is returned at once.
        """
        stamp_s = newest_stamp_s + self._lead_s if newest_stamp_s is not None else 0.0
        start_ns = self.tracker.unique_start_ns(stamp_s)
        if self.link.uses_controller:
            return self.link.send_to_controller(plan, start_ns, wait_ack)
        self.link.publish(plan, start_ns)
        if not (self.uses_ack and wait_ack):
            return start_ns * 1e-9
        ack = self.tracker.wait(start_ns, self._ack_timeout_s)
        if ack is not None and ack.accepted:
            return ack.start_s
        if not is_lift:
            # Hold where the arm is: should the trajectory still arrive, the stop comes after it.
            self.link.publish_stop(plan.joint_names)
        raise MotionError(
            MotionErrorCode.CONTROLLER_UNAVAILABLE,
            f'the arm rejected the trajectory: {ack.reason}'
            if ack is not None
            else f'the arm did not acknowledge the trajectory within {self._ack_timeout_s:g} s',
        )
