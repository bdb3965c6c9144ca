"""send_goal over a real graph: a goal whose acceptance answer is lost is followed from the
action's status topic to its result; a goal the server never took is not made up."""

from __future__ import annotations

import threading
import time

import pytest
from rclpy.action import ActionClient, ActionServer, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node

from calligraphy_interfaces.action import DipInk
from calligraphy_ros_kit.futures import FutureTimeoutError, wait_for_future
from calligraphy_ros_kit.goals import GoalStatusWatch, send_goal


class AnswerLosingClient(ActionClient):
    """An action client that never hears the server's answer to its first goal, as when Fast
    DDS drops it ("failed to send response (timeout)"); the server still takes the goal."""

    lost = 0

    async def execute(self, taken_data):
        if 'goal' in taken_data and self.lost == 0:
            self.lost += 1
            taken_data = {key: value for key, value in taken_data.items() if key != 'goal'}
        await super().execute(taken_data)


@pytest.fixture
def graph(rclpy_context):
    server_node = Node('goal_test_server', context=rclpy_context)
    client_node = Node('goal_test_client', context=rclpy_context)
    taken: list[str] = []

    def accept(goal) -> GoalResponse:
        return GoalResponse.REJECT if goal.mode == 'refused' else GoalResponse.ACCEPT

    def execute(handle):
        taken.append(handle.request.mode)
        time.sleep(0.3)  # a dip takes a while
        handle.succeed()
        return DipInk.Result(success=True, ink_load=0.75)

    group = ReentrantCallbackGroup()
    ActionServer(
        server_node, DipInk, 'dip_ink', execute, goal_callback=accept, callback_group=group
    )
    client = AnswerLosingClient(client_node, DipInk, 'dip_ink')
    watch = GoalStatusWatch(client_node, 'dip_ink')
    executor = MultiThreadedExecutor(num_threads=4, context=rclpy_context)
    executor.add_node(server_node)
    executor.add_node(client_node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        assert client.wait_for_server(timeout_sec=20.0)
        yield client, watch, taken
    finally:
        executor.shutdown()
        thread.join(timeout=5.0)
        client.destroy()
        server_node.destroy_node()
        client_node.destroy_node()


@pytest.mark.timeout(60)
def test_a_goal_whose_answer_is_lost_is_followed_to_its_result(graph):
    client, watch, taken = graph
    handle = send_goal(client, DipInk.Goal(mode='full'), 20.0, watch)
    assert client.lost == 1, 'the first answer was not lost: the test tests nothing'
    assert handle.accepted
    result = wait_for_future(handle.get_result_async(), 20.0).result
    assert result.success and result.ink_load == pytest.approx(0.75)
    assert taken == ['full'], 'the goal was not executed exactly once'
    # The next goal's answer comes as usual.
    handle = send_goal(client, DipInk.Goal(mode='quick'), 20.0, watch)
    assert handle.accepted
    assert wait_for_future(handle.get_result_async(), 20.0).result.success
    assert taken == ['full', 'quick']


@pytest.mark.timeout(60)
def test_a_refused_goal_with_its_answer_lost_times_out_and_is_not_made_up(graph):
    client, watch, taken = graph
    started = time.monotonic()
    with pytest.raises(FutureTimeoutError):
        send_goal(client, DipInk.Goal(mode='refused'), 3.0, watch)
    assert time.monotonic() - started >= 3.0
    assert client.lost == 1 and taken == []
    # A refusal that is heard is a handle that says so.
    handle = send_goal(client, DipInk.Goal(mode='refused'), 20.0, watch)
    assert not handle.accepted
