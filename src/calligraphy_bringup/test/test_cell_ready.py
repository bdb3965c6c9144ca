"""`wait_until_cell_sees_now` against a stand-in camera feedback node in a real graph: an
/observe_paper answer that never arrives is asked for again, not waited on until the deadline."""

from __future__ import annotations

import threading
import time

import pytest
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node

import calligraphy_bringup.graph as graph
from calligraphy_interfaces.srv import ObservePaper


class FirstAnswerLost:
    """Serves /observe_paper; the first request is never answered in time (as when the
    server's response writer has not matched the client yet), later ones succeed."""

    def __init__(self, context) -> None:
        self.node = Node('observe_stand_in', context=context)
        self.requests = 0
        self.release = threading.Event()
        self.node.create_service(
            ObservePaper, '/observe_paper', self._on_observe,
            callback_group=ReentrantCallbackGroup(),
        )  # fmt: skip

    def _on_observe(self, request, response):
        self.requests += 1
        if self.requests == 1:
            self.release.wait(30.0)  # answered only after the client has given up on it
        response.error_code = ObservePaper.Response.SUCCESS
        return response


@pytest.mark.timeout(60)
def test_a_readiness_call_left_unanswered_is_sent_again(rclpy_context, monkeypatch):
    monkeypatch.setattr(graph, 'OBSERVE_ATTEMPT_S', 1.0)
    server = FirstAnswerLost(rclpy_context)
    probe = Node('ready_probe', context=rclpy_context)
    executor = MultiThreadedExecutor(num_threads=3, context=rclpy_context)
    executor.add_node(server.node)
    executor.add_node(probe)
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            executor.spin_once(timeout_sec=0.05)

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    try:
        started = time.monotonic()
        graph.wait_until_cell_sees_now(probe, timeout_s=20.0)
        # Ready after the second call, a second after the first; waiting on the first call
        # alone would have taken the whole 20 s and failed.
        assert server.requests == 2
        assert time.monotonic() - started < 10.0
    finally:
        server.release.set()
        stop.set()
        spinner.join(timeout=5.0)
        executor.shutdown(timeout_sec=5.0)
        probe.destroy_node()
        server.node.destroy_node()
