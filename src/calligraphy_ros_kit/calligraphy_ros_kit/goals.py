"""Sending an action goal whose acceptance may never be answered.

With Fast DDS, an action server can receive a new client's goal before its response writer has
matched that client's reader. rmw_fastrtps then waits for the match only up to the writer's
`max_blocking_time` and drops the answer ("failed to send response (timeout)": see
`__rmw_send_response` in rmw_fastrtps_shared_cpp/src/rmw_response.cpp), while the server goes on
to execute the goal. A client that waits on the answer alone waits forever on a goal that is
running (the soak benchmark saw `/write_character` give no answer for 30 s). The server also
publishes every goal it accepted on `<action>/_action/status`, a reliable, transient-local topic:
`send_goal` follows the goal from there when the answer does not come, by its goal id. Sending
the goal again would not do: it may already be writing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from action_msgs.msg import GoalStatus, GoalStatusArray
from rclpy.action.client import ClientGoalHandle
from rclpy.qos import qos_profile_action_status_default
from unique_identifier_msgs.msg import UUID

from calligraphy_ros_kit.futures import FutureTimeoutError, ServerGoneError, wait_for_future

# How long a goal listed as accepted may still wait for its answer before it is followed from the
# status topic alone (the answer normally comes first, within milliseconds of the status).
ANSWER_GRACE_S = 1.0


class GoalStatusWatch:
    """The latest status of each goal of one action, from its status topic."""

    def __init__(self, node, action_name: str, callback_group=None) -> None:
        self._lock = threading.Lock()
        self._statuses: dict[bytes, GoalStatus] = {}
        self._node = node
        self._subscription = node.create_subscription(
            GoalStatusArray,
            f'{action_name}/_action/status',
            self._on_status,
            qos_profile_action_status_default,
            callback_group=callback_group,
        )

    def _on_status(self, msg: GoalStatusArray) -> None:
        with self._lock:
            for status in msg.status_list:
                self._statuses[bytes(status.goal_info.goal_id.uuid)] = status

    def status_of(self, goal_id: UUID) -> GoalStatus | None:
        with self._lock:
            return self._statuses.get(bytes(goal_id.uuid))

    def destroy(self) -> None:
        self._node.destroy_subscription(self._subscription)


def send_goal(
    client,
    goal,
    timeout_s: float,
    watch: GoalStatusWatch,
    feedback_callback=None,
    grace_s: float = ANSWER_GRACE_S,
    server_alive: Callable[[], bool] | None = None,
) -> ClientGoalHandle:
    """The goal handle of `goal` sent with `client` (an rclpy ActionClient whose node an
    executor spins elsewhere): from the server's answer, or, when the status topic lists the goal
    as accepted and no answer came within `grace_s` of that, one built from the status (its
    result is then asked for by goal id as usual). FutureTimeoutError when neither came within
    `timeout_s`; ServerGoneError as soon as `server_alive()` turns false (a server killed before
    its answer reached us, which no answer will come from)."""
    goal_id = UUID(uuid=list(uuid.uuid4().bytes))
    answer = client.send_goal_async(goal, feedback_callback=feedback_callback, goal_uuid=goal_id)
    deadline = time.monotonic() + timeout_s
    listed_at: float | None = None
    while True:
        try:
            return wait_for_future(answer, min(0.1, max(0.0, deadline - time.monotonic())))
        except FutureTimeoutError:
            pass
        if server_alive is not None and not server_alive():
            raise ServerGoneError('the server went away before answering the goal')
        now = time.monotonic()
        status = watch.status_of(goal_id)
        if status is not None and listed_at is None:
            listed_at = now
        if listed_at is not None and now - listed_at >= grace_s:
            response = client._action_type.Impl.SendGoalService.Response(
                accepted=True, stamp=status.goal_info.stamp
            )
            handle = ClientGoalHandle(client, goal_id, response)
            handle._status = status.status
            return handle
        if now >= deadline:
            raise FutureTimeoutError(f'no answer to the goal within {timeout_s:g} s')
