"""The ROS 2 plumbing is real: WriteCharacter goals cross process boundaries over DDS."""

from __future__ import annotations

import math
import os
import threading

import pytest
import rclpy
from rclpy.action import ActionClient
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from calligraphy_interfaces.action import WriteCharacter
from calligraphy_model.polling import wait_until
from calligraphy_ros_kit.futures import wait_for_future
from calligraphy_ros_kit.goals import GoalStatusWatch, send_goal
from conftest import REPO_ROOT

SERVER = str(REPO_ROOT / 'test' / 'fixtures' / 'write_character_test_server.py')


def _send(client: ActionClient, watch: GoalStatusWatch, character: str) -> tuple[object, list]:
    """Send a goal as the cell's clients do (`send_goal`: a goal whose acceptance Fast DDS does
    not deliver, as it may not to a new client, is followed from the action's status topic) and
    wait for its result; the node spins on another thread."""
    feedback: list = []
    goal_handle = send_goal(
        client,
        WriteCharacter.Goal(character=character),
        30.0,
        watch,
        feedback_callback=lambda m: feedback.append(m),
    )
    assert goal_handle.accepted
    result = wait_for_future(goal_handle.get_result_async(), 30.0)
    return result.result, feedback


@pytest.mark.timeout(60)
def test_write_character_goal_crosses_processes_and_bad_goal_gets_its_code(
    spawn_process, monkeypatch
):
    # A domain of its own, so no writer of another test can answer for the test server.
    domain = (int(os.environ.get('ROS_DOMAIN_ID', '0')) + 117) % 232
    monkeypatch.setenv('ROS_DOMAIN_ID', str(domain))
    rclpy_context = Context()
    rclpy.init(context=rclpy_context, domain_id=domain)
    server = spawn_process(SERVER)
    node = Node('plumbing_test_client', context=rclpy_context)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(node)
    client = ActionClient(node, WriteCharacter, 'write_character')
    watch = GoalStatusWatch(node, 'write_character')
    spinning = threading.Event()
    spinning.set()

    def spin() -> None:
        while spinning.is_set() and rclpy_context.ok():
            executor.spin_once(timeout_sec=0.05)

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    try:
        assert client.wait_for_server(timeout_sec=40.0), 'server process not discovered'
        # DDS matches the feedback topic a moment after the server's services are discovered:
        # a first goal can finish before it is. One goal to warm up, then the checked one.
        _send(client, watch, '永')

        result, feedback = _send(client, watch, '永')
        assert result.success and result.error_code == WriteCharacter.Result.SUCCESS
        assert result.strokes_written == 3
        # Feedback travels on its own topic and may trail the result by a moment.
        wait_until(lambda: len(feedback) >= 3, 5.0)
        assert [f.feedback.stroke_index for f in feedback] == [0, 1, 2]
        assert all(f.feedback.stroke_count == 3 for f in feedback)
        assert math.isclose(feedback[-1].feedback.ink_load, 0.8)

        result, _ = _send(client, watch, '')
        assert not result.success
        assert result.error_code == WriteCharacter.Result.EMPTY_CHARACTER
        assert 'one character' in result.error_msg

        result, _ = _send(client, watch, '永')
        assert result.success, 'server did not serve the goal after a bad one'
        assert server.poll() is None
    finally:
        spinning.clear()
        spinner.join(timeout=5.0)
        watch.destroy()
        client.destroy()
        executor.shutdown()
        node.destroy_node()
        rclpy_context.try_shutdown()
