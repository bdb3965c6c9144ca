"""SubscriptionLane over a real graph: a node's high-rate topic is taken on the lane's own thread
while the node's executor is busy with a long callback, under the node's namespace; destroy()
leaves no thread and no helper node behind."""

from __future__ import annotations

import threading

from builtin_interfaces.msg import Time
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import JointState

from calligraphy_model.polling import wait_until
from calligraphy_ros_kit.lane import SubscriptionLane


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
        assert wait_until(
            lambda: ('lane_owner_lane', '/cell_a') in talker.get_node_names_and_namespaces(), 10.0
        ), "the lane is a node of its own, in the owner's namespace"
        publisher = talker.create_publisher(JointState, 'joint_states', QoSProfile(depth=200))
        assert wait_until(lambda: publisher.get_subscription_count() > 0, 10.0)
        for i in range(100):
            publisher.publish(JointState(name=['j'], position=[float(i)]))
        assert wait_until(lambda: len(received) == 100, 10.0), len(received)
        assert received == [float(i) for i in range(100)], 'in order, none lost'
        assert threads == {'lane_owner_lane'}, threads
    finally:
        release.set()
        spinner.join(timeout=10.0)
        lane.destroy()
    assert not lane._thread.is_alive()
    assert wait_until(
        lambda: ('lane_owner_lane', '/cell_a') not in talker.get_node_names_and_namespaces(), 10.0
    ), 'the helper node left the graph'
    executor.shutdown()
    owner.destroy_node()
    talker.destroy_node()


def test_a_simulated_time_node_takes_its_clock_from_a_lane(rclpy_context):
    from rclpy.parameter import Parameter
    from rosgraph_msgs.msg import Clock

    from calligraphy_ros_kit.lane import lane_for_clock

    wall = Node('lane_wall_clock', context=rclpy_context)
    assert lane_for_clock(wall) is None, 'a node on wall time has no /clock to move'
    owner = Node(
        'lane_sim_clock',
        context=rclpy_context,
        parameter_overrides=[Parameter('use_sim_time', value=True)],
    )
    assert [s.topic_name for s in owner.subscriptions] == ['/clock']
    lane = lane_for_clock(owner)
    talker = Node('lane_clock_talker', context=rclpy_context)
    try:
        assert [s.topic_name for s in owner.subscriptions] == [], 'its own /clock is gone'
        publisher = talker.create_publisher(Clock, '/clock', 10)
        assert wait_until(lambda: publisher.get_subscription_count() > 0, 10.0)
        # Nothing spins the owner: its clock follows /clock through the lane alone.
        for seconds in (12, 13):
            publisher.publish(Clock(clock=Time(sec=seconds, nanosec=500_000_000)))
            assert wait_until(
                lambda s=seconds: owner.get_clock().now().nanoseconds == s * 10**9 + 500_000_000,
                10.0,
            ), owner.get_clock().now()
    finally:
        lane.destroy()
        for node in (owner, wall, talker):
            node.destroy_node()


def test_a_lane_closes_quietly_after_its_context_shut_down():
    """Ctrl-C shuts the context down before the nodes are destroyed (run_node): the lane's
    thread has ended by then, and destroy() does not raise."""
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context)
    owner = Node('lane_after_shutdown', context=context)
    lane = SubscriptionLane(owner)
    lane.create_subscription(JointState, 'joint_states', lambda msg: None, 10)
    context.try_shutdown()
    lane.destroy()
    owner.destroy_node()
    assert not lane._thread.is_alive()
