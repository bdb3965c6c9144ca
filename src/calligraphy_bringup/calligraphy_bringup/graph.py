"""Bring the cell's nodes up with one command, with the same YAML as the launch files.

`ros2 launch` is not available on every machine (PLATFORM.md); this runs the same node classes,
named as in launch/, with their parameters read from calligraphy_bringup/config/*.yaml. Nodes run
on one multi-threaded executor in the caller's process, except the groups named in
`SIM_PROCESS_GROUPS`, which get a process each: Python threads share one interpreter lock, and
with the MuJoCo arm streaming tip poses in the same interpreter the virtual paper and camera fell
seconds behind (observations timed out; measured with `calligraphy write`).

    python -m calligraphy_bringup.graph mujoco_arm_node [--config sim]   # run nodes standalone
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter

from calligraphy_bringup.cell_layout import (  # noqa: F401 - the cell's layout, named here too
    RENDERING_NODES,
    SIM_CELL,
    SIM_PROCESS_GROUPS,
    WRITE_CELL,
    NodeSpec,
    config_path,
    load_parameters,
    spawn_group,
    tell_to_stop,
    wait_for,
)
from calligraphy_ros_kit.futures import call_once
from calligraphy_ros_kit.runner import make_executor
from calligraphy_ros_kit.spinning import spin_until_stopped

# How long one readiness call may take: longer than sim.yaml's frame_timeout_s (10 s), the
# feedback node's wait for a frame.
OBSERVE_ATTEMPT_S = 15.0


def wait_until_cell_sees_now(node: Node, timeout_s: float = 90.0) -> None:
    """Block until the camera sees the sheet, or raise TimeoutError.

    `node` must be spinning elsewhere. The check is an `/observe_paper` call that succeeds: the
    feedback node answers with a frame of the sheet with its markers found, and the virtual paper
    publishes no sheet before the arm's first tip pose has reached it, so the arm is publishing,
    the paper hears it, and the camera and feedback nodes pass frames on. A goal sent before that
    could write its first stroke while the paper process was still starting (seen on a loaded
    machine: a 十 scored without its first stroke; and 一 written on a sheet that stayed blank
    while the paper still stamped its sheets with its own clock).

    A call not answered within OBSERVE_ATTEMPT_S is sent again (`call_once`: a new client's
    first answer can be dropped, "failed to send response (timeout)"). Waiting on that call alone
    failed a `make demo` after 90 s, once, right after a test run.
    """
    from calligraphy_interfaces.srv import ObservePaper

    client = node.create_client(ObservePaper, '/observe_paper')
    deadline = time.monotonic() + timeout_s
    last = 'the /observe_paper service did not appear'
    try:
        while time.monotonic() < deadline:
            if not client.wait_for_service(timeout_sec=min(1.0, timeout_s)):
                continue
            wait_s = min(OBSERVE_ATTEMPT_S, max(0.0, deadline - time.monotonic()))
            # Any frame in robot time will do, one the feedback node already holds included: the
            # virtual paper publishes no sheet before the arm's first tip pose reached it.
            request = ObservePaper.Request()
            request.not_before.nanosec = 1
            response = call_once(client, request, wait_s)
            if response is None:
                last = f'/observe_paper calls went unanswered ({wait_s:.0f} s each)'
                continue
            if response.error_code == ObservePaper.Response.SUCCESS:
                return
            last = response.error_msg
            time.sleep(0.2)
    finally:
        node.destroy_client(client)
    raise TimeoutError(f'the simulated cell was not ready within {timeout_s:.0f} s: {last}')


class SimNodeGraph:
    """The simulated cell's node graph brought up from Python: the nodes spinning in this
    process, the `process_groups` in processes of their own. Use as a context manager."""

    def __init__(
        self,
        context: Context,
        config: str | Path = 'sim',
        overrides: dict[str, dict] | None = None,
        nodes: tuple[NodeSpec, ...] = SIM_CELL,
        threads: int = 8,
        process_groups: tuple[tuple[str, ...], ...] = (),
        processes: list[subprocess.Popen] | None = None,
    ) -> None:
        """`processes`: those of `process_groups`, already started by the caller (`calligraphy
        write` starts them before it imports rclpy: cell_layout); from now on this graph's to
        stop."""
        path = Path(config) if isinstance(config, Path) else config_path(config)
        self.processes: list[subprocess.Popen] = list(processes or [])
        separate = {name for group in process_groups for name in group}
        parameters = load_parameters(path)
        for node, values in (overrides or {}).items():
            parameters.setdefault(node, {}).update(values)
        self.context = context
        self.nodes: dict[str, Node] = {}
        self.executor = make_executor(threads, context)
        self._stop = threading.Event()
        self._wake = None  # a guard condition that close() triggers, once there is a node
        self._thread = threading.Thread(target=self._spin, daemon=True)
        try:
            if processes is None:
                for group in process_groups:
                    self.processes.append(spawn_group(group, path, overrides or {}))
            for spec in nodes:
                if spec.name in separate:
                    continue
                cls = getattr(importlib.import_module(spec.module), spec.cls)
                values = parameters.get(spec.name, {})
                node = cls(
                    context=context,
                    parameter_overrides=[Parameter(k, value=v) for k, v in values.items()],
                )
                self.nodes[spec.name] = node
                self.executor.add_node(node)
                if self._wake is None:
                    # Ends the executor's wait when close() triggers it (as a lane's does).
                    self._wake = node.create_guard_condition(lambda: None)
        except BaseException:  # Ctrl-C while nodes start too: no process of the cell left
            self.close()
            raise

    def start(self) -> SimNodeGraph:
        self._thread.start()
        return self

    def _spin(self) -> None:
        # rclpy's spin() ends only by shutdown(); this loop ends on close() first (see close).
        name = 'calligraphy cell: ' + ', '.join(self.nodes)
        spin_until_stopped(self.executor, self._stop, 0.5, name=name)

    def close(self, wait_for_processes: bool = True) -> None:
        """Stop and destroy the nodes in this process, then tell the cell's processes to stop;
        with `wait_for_processes` False, the caller waits for them later (wait_for_processes).

        Not the processes first: stopped before this process's nodes, they left
        test_cell_graph's teardown spinning for ever in rclpy's destroy_node (waiting, with the
        interpreter lock held, for a node still in use), presumably behind a callback still
        waiting on them.
        """
        # rclpy's Executor.shutdown (Kilted) destroys its guard condition without waiting for the
        # callbacks still running, which then fail on it and print 'The following exception was
        # never retrieved' (ros2/rclpy#968, #1666). So: stop spinning, let the running callbacks
        # finish (bounded: one may be waiting on a reply nobody spins for now), then shut down.
        self._stop.set()
        # rclpy's wake() only makes the wait start over (it would end at its 0.5 s timeout): a
        # guard condition of a spun node ends it at once.
        if self._wake is not None:
            self._wake.trigger()
        self.executor.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        _finish_running_callbacks(self.executor, timeout_s=2.0)
        self.executor.shutdown(timeout_sec=5.0)
        for node in reversed(list(self.nodes.values())):
            node.destroy_node()
        self.nodes.clear()
        tell_to_stop(self.processes)
        if wait_for_processes:
            self.wait_for_processes()

    def wait_for_processes(self, timeout_s: float = 10.0) -> None:
        """Wait for the cell's processes, told to stop by close(), to end (killed after
        `timeout_s`)."""
        wait_for(self.processes, timeout_s)
        self.processes.clear()

    def __enter__(self) -> SimNodeGraph:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def _finish_running_callbacks(executor, timeout_s: float) -> None:
    """Wait up to `timeout_s` for the callbacks already running on the executor's threads.

    The thread pool is not public rclpy API: where it is missing this returns at once.
    """
    pool = getattr(executor, '_executor', None)
    if not hasattr(pool, 'shutdown'):
        return
    waiter = threading.Thread(target=pool.shutdown, kwargs={'wait': True}, daemon=True)
    waiter.start()
    waiter.join(timeout=timeout_s)


def main(argv: list[str] | None = None) -> int:
    """Run the named nodes of the cell in this process until Ctrl-C / SIGTERM."""
    import json

    import rclpy

    parser = argparse.ArgumentParser(prog='python -m calligraphy_bringup.graph')
    parser.add_argument('nodes', nargs='+', choices=[spec.name for spec in SIM_CELL])
    parser.add_argument('--config', default='sim', help='config name or YAML path')
    parser.add_argument('--overrides', default='{}', help='JSON {node: {param: value}}')
    parser.add_argument(
        '--parent-pid', type=int, default=0,
        help='run for this process: ignore Ctrl-C (the parent cancels the goal while this '
        'process lifts the brush, then stops it with SIGTERM) and end when the parent ends',
    )  # fmt: skip
    args = parser.parse_args(argv)
    config = Path(args.config) if args.config.endswith('.yaml') else args.config
    specs = tuple(spec for spec in SIM_CELL if spec.name in args.nodes)
    context = Context()
    rclpy.init(context=context)
    # SIGTERM (and SIGINT when run on its own) ends the process cleanly: the handler only stops
    # the loop; callbacks still running finish before the nodes and then the context go.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.parent_pid:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        # The virtual paper alone spins on one thread (its callbacks share one lock anyway).
        threads = 1 if args.nodes == ['virtual_paper_node'] else 4
        graph = SimNodeGraph(
            context, config, json.loads(args.overrides), nodes=specs, threads=threads
        )
        try:
            graph.start()
            # Python runs signal handlers in the main thread: wake up at least twice a second.
            # A parent that died without stopping this process (killed) ends it too.
            while not stop.wait(0.5) and context.ok():
                if args.parent_pid and os.getppid() != args.parent_pid:
                    break
        finally:
            graph.close()
    except KeyboardInterrupt:
        pass
    except Exception as error:  # noqa: BLE001 — a node that cannot start says why, exit 2
        print(f'calligraphy graph: error: {error}', file=sys.stderr)
        return 2
    finally:
        context.try_shutdown()
        context.destroy()  # no DDS participant left for the interpreter's exit to abort on
    return 0


if __name__ == '__main__':
    # main() has destroyed the nodes and the context: no interpreter teardown after it (0.2-0.45
    # s of each cell process's stop).
    from calligraphy_ros_kit.cli import exit_process

    exit_process(main())
