"""A node's high-rate subscriptions, taken on a thread and executor of their own.

rclpy's executors rebuild their wait set from every entity of every node they spin each time
anything is ready: parameter services, QoS event handlers, action servers. A 400 Hz topic
(joint states at the simulator's 4x real time; the UR driver's joint states come at 500 Hz) then
costs the executor of a process whose other nodes have many entities a core, and it falls behind:
measured on this 2-core machine, seven bare nodes on an 8-thread MultiThreadedExecutor took 116
of 400 JointState messages a second with a full core busy; the same subscription on a lane took
all 400 for 0.24-0.32 of a core.

A lane is a helper node (`<node>_lane`, in the node's namespace and context, without parameter
services) spun by a SingleThreadedExecutor on a daemon thread. Its callbacks run on that thread,
concurrently with the node's own: they must be thread-safe as with a reentrant callback group.
Topic names resolve as the node's would (same namespace; the process's remappings apply to both).
`lane_for_clock` moves a simulated-time node's /clock subscription (rclpy makes one on every node
with use_sim_time) onto a lane the same way.
"""

from __future__ import annotations

import threading

from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.time_source import TimeSource

from calligraphy_ros_kit.spinning import spin_until_stopped


class SubscriptionLane:
    """Subscriptions of `owner` that its executor never wakes for. Close with destroy()."""

    def __init__(self, owner: Node) -> None:
        self._owner = owner
        self.node = Node(
            f'{owner.get_name()}_lane',
            namespace=owner.get_namespace(),
            context=owner.context,
            start_parameter_services=False,
        )
        self._executor = SingleThreadedExecutor(context=owner.context)
        self._executor.add_node(self.node)
        self._stop = threading.Event()
        # Triggered by destroy(): a node's guard condition ends the executor's wait (rclpy's
        # Executor.wake() only makes it wait again, until its 0.5 s timeout: up to 0.5 s for each
        # lane at every process's exit).
        self._wake = self.node.create_guard_condition(lambda: None)
        self._thread = threading.Thread(
            target=self._spin, name=f'{owner.get_name()}_lane', daemon=True
        )
        self._thread.start()

    def create_subscription(self, msg_type, topic: str, callback, qos_profile):
        """A subscription as Node.create_subscription makes it, on the lane's thread."""
        return self.node.create_subscription(msg_type, topic, callback, qos_profile)

    def drive_clock(self) -> None:
        """Keep the owner's ROS clock at the newest /clock from this lane instead of from a
        subscription of the owner's own (which rclpy made because the owner uses simulated
        time)."""
        owner = self._owner
        for subscription in list(owner.subscriptions):
            if subscription.topic_name == '/clock':
                owner.destroy_subscription(subscription)
        self._time_source = TimeSource(node=self.node)
        self._time_source.ros_time_is_active = True  # subscribes /clock on the lane's node
        self._time_source.attach_clock(owner.get_clock())

    def _spin(self) -> None:
        spin_until_stopped(self._executor, self._stop, 0.5, name=self.node.get_name())

    def destroy(self) -> None:
        """Stop the thread (a running callback finishes first), then destroy the helper node."""
        self._stop.set()
        try:
            self._wake.trigger()  # out of its wait now
        except Exception:  # noqa: BLE001 - the context already shut down: the loop has ended
            pass
        self._thread.join(timeout=5.0)
        self._executor.shutdown(timeout_sec=2.0)
        self.node.destroy_node()


def lane_for_clock(owner: Node) -> SubscriptionLane | None:
    """A lane driving `owner`'s clock from /clock when owner uses simulated time (None when it
    does not: nothing to move). The simulated arm publishes /clock 400 times a second at 4x real
    time; each woke the executor of every node with use_sim_time."""
    if not owner.get_parameter('use_sim_time').value:
        return None
    lane = SubscriptionLane(owner)
    lane.drive_clock()
    return lane
