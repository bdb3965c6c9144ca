"""CalligraphyClient(namespace=...) reaches the writer of that cell only: several cells share one
network, each under its own namespace (real_cell.launch.py namespace:=cell_a)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

STAND_IN = Path(__file__).with_name('stand_in_writer.py')


@pytest.fixture
def cell_a_writer(monkeypatch):
    """The stand-in writer started as a node under /cell_a (as the launch's namespace does)."""
    domain_id = (int(os.environ.get('ROS_DOMAIN_ID', '0')) + 167) % 232
    monkeypatch.setenv('ROS_DOMAIN_ID', str(domain_id))
    process = subprocess.Popen(
        [sys.executable, str(STAND_IN), '--ros-args', '-r', '__ns:=/cell_a'],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert process.stdout.readline().strip() == 'ready'
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30.0)


@pytest.mark.timeout(120)
def test_the_client_reaches_the_writer_of_its_namespace_only(cell_a_writer):
    from calligraphy_writer.client import (
        CalligraphyClient,
        CalligraphyClientError,
        GoalTimeoutError,
    )

    for namespace in ('cell_a', '/cell_a/'):
        with CalligraphyClient(namespace=namespace, server_timeout_s=30.0) as cell_a:
            assert cell_a.namespace == '/cell_a'
            # The stand-in holds the goal until it is cancelled: reached, then cancelled.
            with pytest.raises(GoalTimeoutError) as raised:
                cell_a.write_text('永永', timeout_s=2.0)
            assert raised.value.result.error_code == raised.value.result.CANCELED
    with CalligraphyClient(server_timeout_s=2.0) as root:
        with pytest.raises(CalligraphyClientError, match='write_text'):
            root.write_text('永', timeout_s=5.0)
    with CalligraphyClient(namespace='cell_b', server_timeout_s=2.0) as cell_b:
        with pytest.raises(CalligraphyClientError, match='/cell_b/write_text'):
            cell_b.write_text('永', timeout_s=5.0)


@pytest.mark.parametrize('namespace', ['cell a', '1cell', 'cell-a'])
def test_a_namespace_ros_cannot_name_is_refused_before_anything_starts(namespace):
    from calligraphy_writer.client import CalligraphyClient

    with pytest.raises(ValueError, match='namespace'):
        CalligraphyClient(namespace=namespace)
