"""SubscriptionLane over a real graph: a node's high-rate topic is taken on the lane's own thread
while the node's executor is busy with a long callback, under the node's namespace; destroy()
leaves no thread and no helper node behind."""

from __future__ import annotations

import threading
import time

from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import JointState

from calligraphy_ros_kit.lane import SubscriptionLane


def _wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_lane_takes_messages_while_the_nodes_executor_is_busy(rclpy_context):
    owner = Node('lane_owner', namespace='cell_a', context=rclpy_context)
    talker = Node('lane_talker', namespace='cell_a', context=rclpy_context)
    lane = SubscriptionLane(owner)
    received: list[float] = []
    threads: set[str] = set()

    def on_state(msg: JointState) -> None:
        threads.add(threading.current_thread().name)
        received.append(msg.position[0])

    subscription = lane.create_subscription(
        JointState, 'joint_states', on_state, QoSProfile(depth=200)
    )
    # The owner's executor is held in one callback for the whole exchange, as the writer's is
    # while it waits for a stroke; a subscription of the owner's own would get nothing meanwhile.
    release = threading.Event()
    owner.create_timer(0.01, lambda: release.wait(timeout=30.0))
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(owner)
    spinner = threading.Thread(target=executor.spin_once, kwargs={'timeout_sec': 5.0})
    spinner.start()
    try:
        assert subscription.topic_name == '/cell_a/joint_states'
        assert _wait_until(
            lambda: ('lane_owner_lane', '/cell_a') in talker.get_node_names_and_namespaces(), 10.0
        ), "the lane is a node of its own, in the owner's namespace"
        publisher = talker.create_publisher(JointState, 'joint_states', QoSProfile(depth=200))
        assert _wait_until(lambda: publisher.get_subscription_count() > 0, 10.0)
        for i in range(100):
            publisher.publish(JointState(name=['j'], position=[float(i)]))
        assert _wait_until(lambda: len(received) == 100, 10.0), len(received)
        assert received == [float(i) for i in range(100)], 'in order, none lost'
        assert threads == {'lane_owner_lane'}, threads
    finally:
        release.set()
        spinner.join(timeout=10.0)
        lane.destroy()
    assert not lane._thread.is_alive()
    assert _wait_until(
        lambda: ('lane_owner_lane', '/cell_a') not in talker.get_node_names_and_namespaces(), 10.0
    ), 'the helper node left the graph'
    executor.shutdown()
    owner.destroy_node()
    talker.destroy_node()
