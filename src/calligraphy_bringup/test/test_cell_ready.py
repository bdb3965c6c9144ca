"""The calls `calligraphy write` makes to the cell's processes, against stand-in servers in a
real graph: an answer that never arrives (a new client's first, dropped while Fast DDS matches
its endpoints) is asked for again, not waited on until the deadline."""

from __future__ import annotations

import threading
import time

import pytest
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node

import calligraphy_bringup.graph as graph
from calligraphy_bringup.write_watch import save_paper
from calligraphy_interfaces.srv import ObservePaper, SavePaper


class FirstAnswerLost:
    """Serves `name`; the first request is never answered in time (as when the server's
    response writer has not matched the client yet), later ones succeed."""

    def __init__(self, context, service_type, name: str) -> None:
        self.node = Node('stand_in', context=context)
        self.requests = 0
        self.release = threading.Event()
        self.type = service_type
        self.node.create_service(
            service_type, name, self._on_request, callback_group=ReentrantCallbackGroup()
        )

    def _on_request(self, request, response):
        self.requests += 1
        if self.requests == 1:
            self.release.wait(30.0)  # answered only after the client has given up on it
        response.error_code = self.type.Response.SUCCESS
        if self.type is SavePaper:
            response.saved_path = request.path
        return response


@pytest.fixture
def graph_with(rclpy_context):
    """A stand-in server and a probe node, spun on threads until the test ends."""
    made = []

    def make(service_type, name: str):
        server = FirstAnswerLost(rclpy_context, service_type, name)
        probe = Node('probe', context=rclpy_context)
        executor = MultiThreadedExecutor(num_threads=3, context=rclpy_context)
        executor.add_node(server.node)
        executor.add_node(probe)
        stop = threading.Event()

        def spin() -> None:
            while not stop.is_set():
                executor.spin_once(timeout_sec=0.05)

        spinner = threading.Thread(target=spin, daemon=True)
        spinner.start()
        made.append((server, probe, executor, stop, spinner))
        return server, probe

    yield make
    for server, probe, executor, stop, spinner in made:
        server.release.set()
        stop.set()
        spinner.join(timeout=5.0)
        executor.shutdown(timeout_sec=5.0)
        probe.destroy_node()
        server.node.destroy_node()


@pytest.mark.timeout(60)
def test_a_readiness_call_left_unanswered_is_sent_again(graph_with, monkeypatch):
    monkeypatch.setattr(graph, 'OBSERVE_ATTEMPT_S', 1.0)
    server, probe = graph_with(ObservePaper, '/observe_paper')
    started = time.monotonic()
    graph.wait_until_cell_sees_now(probe, timeout_s=20.0)
    # Ready after the second call, a second after the first; waiting on the first call alone
    # would have taken the whole 20 s and failed.
    assert server.requests == 2
    assert time.monotonic() - started < 10.0


@pytest.mark.timeout(60)
def test_saving_the_sheet_asks_again_when_the_first_answer_is_lost(graph_with, tmp_path):
    server, probe = graph_with(SavePaper, '/virtual_paper/save')
    path = str(tmp_path / 'paper.png')
    assert save_paper(probe, tmp_path / 'paper.png', timeout_s=1.0) == (path, 0.0)
    assert server.requests == 2
