"""The soak benchmark's running cell: the simulated cell's processes, started as `calligraphy
write` starts them, with a client node in this process, and what counts as a crash or a hang."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

from calligraphy_ros_kit.futures import FutureTimeoutError, wait_for_future

CRASH_MARKS = ('Traceback (most recent call last)', 'terminate called', 'Aborted', 'core dumped')
CELL_START_TIMEOUT_S = 120.0


class HangError(Exception):
    """A case did not end within its bound."""


def crash_in(err: str) -> str | None:
    for mark in CRASH_MARKS:
        if mark in err:
            at = err.index(mark)
            return f'{mark!r} in stderr: {err[max(0, at - 200) : at + 1200].strip()}'
    return None


class LiveCell:
    """The simulated cell's processes, started as `calligraphy write` starts them, and a client
    node in this process."""

    def __init__(self, folder: Path) -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor

        from calligraphy_bringup.graph import (
            SIM_CELL,
            SIM_PROCESS_GROUPS,
            wait_until_cell_sees_now,
        )

        # The writer alone, so that it can be killed with the executor left to lift the brush.
        separate = {name for group in SIM_PROCESS_GROUPS for name in group} | {'writer_node'}
        rest = tuple(s.name for s in SIM_CELL if s.name not in separate)
        groups = [*SIM_PROCESS_GROUPS, rest, ('writer_node',)]
        overrides = json.dumps({'writer_node': {'save_dir': str(folder)}})
        self.processes: dict[tuple[str, ...], subprocess.Popen] = {}
        for group in groups:
            command = [sys.executable, '-m', 'calligraphy_bringup.graph', *group]
            command += ['--config', 'sim', '--overrides', overrides]
            self.processes[group] = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
        self.dropped_answers = 0
        # Executor turns that raised and were survived (calligraphy_ros_kit.spinning): this
        # client's, and those the cell's processes reported.
        self.spin_errors = 0
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('soak_client', context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()
        wait_until_cell_sees_now(self.node, CELL_START_TIMEOUT_S)

    def _spin(self) -> None:
        from calligraphy_ros_kit.spinning import spin_until_stopped

        # Each case makes and destroys its action clients on this node while it spins. The loop
        # that ended at the first error this raised (silently) left the node deaf: two goals
        # then went unanswered for 30 s and a tip-pose subscription heard nothing.
        errors = spin_until_stopped(self.executor, threading.Event(), name='soak client')
        self.spin_errors += errors.count

    def kill(self, node_name: str) -> None:
        for group, process in self.processes.items():
            if node_name in group:
                process.kill()
                process.wait()

    def call(self, service_type, name: str, request, timeout_s: float = 30.0):
        client = self.node.create_client(service_type, name)
        try:
            if not client.wait_for_service(timeout_sec=timeout_s):
                raise HangError(f'{name} not available within {timeout_s:.0f} s')
            try:
                return wait_for_future(client.call_async(request), timeout_s)
            except FutureTimeoutError:
                raise HangError(f'{name} did not answer within {timeout_s:.0f} s') from None
        finally:
            self.node.destroy_client(client)

    def goal(self, action_type, name: str, goal, timeout_s: float = 120.0, during=None):
        from rclpy.action import ActionClient

        from calligraphy_ros_kit.goals import GoalStatusWatch, send_goal

        client = ActionClient(self.node, action_type, name)
        watch = GoalStatusWatch(self.node, name)
        try:
            if not client.wait_for_server(timeout_sec=30.0):
                raise HangError(f'{name} not available within 30 s')
            try:
                # As the cell's own client does: a goal whose answer Fast DDS dropped is followed
                # from the action's status topic (calligraphy_ros_kit.goals).
                handle = send_goal(client, goal, 30.0, watch)
            except FutureTimeoutError:
                raise HangError(f'{name} did not answer the goal within 30 s') from None
            if not handle.accepted:
                raise RuntimeError(f'{name} rejected the goal')
            result_future = handle.get_result_async()
            if during is not None:
                during()
            try:
                return wait_for_future(result_future, timeout_s).result
            except FutureTimeoutError:
                handle.cancel_goal_async()
                raise HangError(f'{name} gave no result within {timeout_s:.0f} s') from None
        finally:
            client.destroy()
            watch.destroy()

    def close(self) -> list[str]:
        """Stop everything; what the processes printed that looks like a crash."""
        self.context.try_shutdown()
        self._thread.join(timeout=5.0)
        crashes = []
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for group, process in self.processes.items():
            try:
                _, err = process.communicate(timeout=20.0)
            except subprocess.TimeoutExpired:
                process.kill()
                _, err = process.communicate()
                crashes.append(f'{group} did not end within 20 s of SIGTERM')
            crash = crash_in(err or '') if process.returncode != -signal.SIGKILL else None
            if crash:
                crashes.append(f'{group}: {crash}')
            # Answers Fast DDS dropped before the server had matched the client (goals.py): not
            # a fault of the cell, but a figure worth keeping.
            self.dropped_answers += (err or '').count('failed to send response')
            self.spin_errors += (err or '').count('one turn of the executor raised')
        return crashes
