"""Shared pytest fixtures for graph tests: a real rclpy context on the run's own ROS domain."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent


@pytest.fixture
def rclpy_context() -> Iterator[object]:
    """An initialised rclpy context, shut down after the test (own context: tests never share)."""
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        context.try_shutdown()


@pytest.fixture
def spawn_process() -> Iterator[callable]:
    """Start Python scripts/modules in separate processes; all are stopped after the test."""
    processes: list[subprocess.Popen] = []

    def spawn(*args: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, *args],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        return process

    yield spawn
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10.0
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
