"""A small Python API over the writer's actions, for scripts and other nodes.

    from calligraphy_writer.client import CalligraphyClient
    with CalligraphyClient() as cell:
        result = cell.write('永')
        print(result.success, result.score.iou)

    with CalligraphyClient(namespace='cell_a') as cell_a:   # /cell_a/write_character
        cell_a.write('永')

It owns a node and an executor thread of its own (or uses the node it is given, which its owner
must spin, and only once the client exists: see __init__), and every wait has a timeout. Ctrl-C
while a goal runs cancels it (the writer lifts the brush) before the KeyboardInterrupt goes on;
the cancelled goal's result is kept in `interrupted_result`. A goal that runs past its timeout is
cancelled the same way and raises GoalTimeoutError, which carries that result. A writer that goes
away while a goal runs (its action server leaves the graph) raises WriterLostError within seconds,
not at the goal's timeout.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import rclpy
from rclpy.action import ActionClient
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from calligraphy_interfaces.action import WriteCharacter, WriteText
from calligraphy_model.errors import CalligraphyError
from calligraphy_ros_kit.futures import FutureTimeoutError, ServerGoneError, wait_for_future
from calligraphy_ros_kit.goals import GoalStatusWatch, send_goal
from calligraphy_ros_kit.spinning import spin_until_stopped
from calligraphy_writer.sequencer import SERVICE_UNAVAILABLE


class CalligraphyClientError(CalligraphyError, RuntimeError):
    """The writer could not be reached or did not answer in time (code SERVICE_UNAVAILABLE; a
    RuntimeError too, for callers that catch those)."""

    def __init__(self, message: str, code: int = SERVICE_UNAVAILABLE) -> None:
        super().__init__(code, message)


class GoalTimeoutError(CalligraphyClientError):
    """The goal ran past its timeout and was cancelled (the writer lifts the brush).

    `result` is the cancelled goal's result (what was written until then), or None when the
    writer did not answer the cancel in time.
    """

    def __init__(self, message: str, result=None) -> None:
        super().__init__(message)
        self.result = result


class WriterLostError(CalligraphyClientError):
    """The writer's action server left the graph while a goal was running."""


def _namespace_prefix(namespace: str) -> str:
    """'cell_a' or '/cell_a/' → '/cell_a/'; '' → '' (names stay relative to the node)."""
    parts = [part for part in namespace.strip().split('/') if part]
    for part in parts:
        if not (part[0].isalpha() or part[0] == '_') or not all(
            c.isalnum() or c == '_' for c in part
        ):
            raise ValueError(
                f'namespace {namespace!r}: each part must start with a letter or _ and hold only '
                'letters, digits and _'
            )
    return '/' + '/'.join(parts) + '/' if parts else ''


class CalligraphyClient:
    """Writes through the writer's actions.

    Args:
        node: a node to create the action clients on (its owner spins it); None: a node, a
            context and an executor thread of the client's own.
        server_timeout_s: how long to wait for the writer to appear and to accept a goal.
        cancel_timeout_s: how long to wait for the result of a goal cancelled on a timeout or
            Ctrl-C (the writer lifts the brush first).
        server_lost_s: how long the writer's action server must have been missing from the
            graph, continuously, before a running goal is given up as lost.
        namespace: the cell's namespace ('cell_a' or '/cell_a': its actions are
            /cell_a/write_character and /cell_a/write_text); '' = the node's own namespace
            (the root for the client's own node), as a cell launched without one.
    """

    def __init__(
        self,
        node: Node | None = None,
        server_timeout_s: float = 30.0,
        cancel_timeout_s: float = 30.0,
        server_lost_s: float = 2.0,
        namespace: str = '',
    ) -> None:
        prefix = _namespace_prefix(namespace)  # a bad namespace: ValueError before anything
        self.namespace = prefix.rstrip('/')
        self._own_context: Context | None = None
        self._executor: SingleThreadedExecutor | None = None
        self._thread: threading.Thread | None = None
        if node is None:
            self._own_context = Context()
            rclpy.init(context=self._own_context)
            node = Node('calligraphy_client', context=self._own_context)
        self.node = node
        self.server_timeout_s = server_timeout_s
        self.cancel_timeout_s = cancel_timeout_s
        self.server_lost_s = server_lost_s
        self._stop_spinning = threading.Event()
        # Before any spinning: rclpy's ActionClient joins the node's waitables before it has
        # its lock, and an executor spinning the node meanwhile dies on the missing attribute.
        self._character = ActionClient(node, WriteCharacter, f'{prefix}write_character')
        self._text = ActionClient(node, WriteText, f'{prefix}write_text')
        # The goals each server accepted, for a goal whose answer Fast DDS drops (goals.py).
        self._watches = {
            client: GoalStatusWatch(node, name)
            for client, name in (
                (self._character, f'{prefix}write_character'),
                (self._text, f'{prefix}write_text'),
            )
        }
        if self._own_context is not None:
            self._executor = SingleThreadedExecutor(context=self._own_context)
            self._executor.add_node(node)
            self._thread = threading.Thread(
                target=self._spin, name='calligraphy_client_spin', daemon=True
            )
            self._thread.start()
        self._active_goal = None
        # The result of the goal that Ctrl-C cancelled (strokes written, scores so far).
        self.interrupted_result = None

    def write(
        self,
        character: str,
        *,
        font: str = '',
        box_m: tuple[float, float] | None = None,
        size_m: float = 0.0,
        controller: str = '',
        use_feedback: bool = True,
        timeout_s: float = 300.0,
        on_feedback: Callable[[WriteCharacter.Feedback], None] | None = None,
    ) -> WriteCharacter.Result:
        """Write one character at `box_m` (lower-left corner in paper, m) or the next free cell."""
        goal = WriteCharacter.Goal(
            character=character, font=font, next_free_cell=box_m is None, size_m=size_m,
            controller=controller, use_feedback=use_feedback,
        )  # fmt: skip
        if box_m is not None:
            goal.box_x_m, goal.box_y_m = box_m
        return self._run(self._character, goal, timeout_s, on_feedback)

    def write_text(
        self,
        text: str,
        *,
        font: str = '',
        size_m: float = 0.0,
        layout: str = '',
        controller: str = '',
        use_feedback: bool = True,
        timeout_s: float = 1800.0,
        on_feedback: Callable[[WriteText.Feedback], None] | None = None,
    ) -> WriteText.Result:
        goal = WriteText.Goal(
            text=text, font=font, size_m=size_m, layout=layout, controller=controller,
            use_feedback=use_feedback,
        )  # fmt: skip
        return self._run(self._text, goal, timeout_s, on_feedback)

    def cancel(self) -> None:
        """Cancel the goal being written (the writer lifts the brush)."""
        if self._active_goal is not None:
            self._wait(self._active_goal.cancel_goal_async(), 10.0, 'cancel')

    def _run(self, client: ActionClient, goal, timeout_s: float, on_feedback):
        if not (timeout_s > 0.0 and math.isfinite(timeout_s)):
            raise ValueError(f'timeout_s must be a positive number of seconds, got {timeout_s}')
        if not client.wait_for_server(timeout_sec=self.server_timeout_s):
            raise CalligraphyClientError(
                f'no writer serving {client._action_name} within {self.server_timeout_s:.0f} s'
            )
        callback = (lambda msg: on_feedback(msg.feedback)) if on_feedback else None
        # A loaded machine can take seconds to answer: wait as long as for the server itself.
        alive = _ServerWatch(client, self.server_lost_s)
        try:
            handle = send_goal(
                client, goal, self.server_timeout_s, self._watches[client], callback,
                server_alive=alive,
            )  # fmt: skip
        except FutureTimeoutError:
            raise CalligraphyClientError(
                f'no goal from the writer within {self.server_timeout_s:.0f} s'
            ) from None
        except ServerGoneError:
            # Killed before its answer reached us (or before it was sent): none will come.
            raise WriterLostError(
                f'the writer went away before answering the goal: no {client._action_name} '
                f'action server for {alive.missing_s():.1f} s'
            ) from None
        if not handle.accepted:
            raise CalligraphyClientError('the writer rejected the goal')
        self._active_goal, self.interrupted_result = handle, None
        result = handle.get_result_async()
        try:
            return self._wait_for_result(client, result, timeout_s)
        except FutureTimeoutError:
            # Giving up on a goal stops the robot too: cancel (the writer lifts the brush) and
            # hand over what was written, so that the caller can save it.
            self.interrupted_result = self._cancel_and_collect(client, result)
            raise GoalTimeoutError(
                f'no result from the writer within {timeout_s:g} s: the goal was cancelled',
                self.interrupted_result,
            ) from None
        except KeyboardInterrupt:
            # Ctrl-C stops the robot, not only this script: cancel (the writer lifts the brush),
            # keep the cancelled goal's result (strokes written) and let the interrupt go on.
            # None when the writer did not answer the cancel within cancel_timeout_s.
            self.interrupted_result = self._cancel_and_collect(client, result)
            raise
        finally:
            self._active_goal = None

    def _cancel_and_collect(self, client: ActionClient, result):
        """Cancel the active goal and wait a bounded time for its result (None if none came)."""
        try:
            self.cancel()
            return self._wait_for_result(client, result, self.cancel_timeout_s)
        except (FutureTimeoutError, CalligraphyClientError):
            return None

    def _wait_for_result(self, client: ActionClient, future, timeout_s: float):
        """The goal's result. Raises FutureTimeoutError after `timeout_s`, WriterLostError once
        the action server has been missing from the graph for `server_lost_s` on end."""
        alive = _ServerWatch(client, self.server_lost_s)
        try:
            return wait_for_future(future, timeout_s, alive).result
        except ServerGoneError:
            raise WriterLostError(
                f'the writer went away: no {client._action_name} action server for '
                f'{alive.missing_s():.1f} s while the goal was running'
            ) from None

    @staticmethod
    def _wait(future, timeout_s: float, what: str):
        try:
            return wait_for_future(future, timeout_s)
        except FutureTimeoutError:
            message = f'no {what} from the writer within {timeout_s:.0f} s'
            raise CalligraphyClientError(message) from None

    def _spin(self) -> None:
        # Ends on close() first, so close() can join it before anything is destroyed.
        spin_until_stopped(self._executor, self._stop_spinning, name='calligraphy client')

    def close(self) -> None:
        """Stop spinning (joined), then destroy the action clients, the node and the context."""
        if self._thread is not None:
            self._stop_spinning.set()
            self._thread.join(timeout=5.0)
        self._character.destroy()
        self._text.destroy()
        for watch in self._watches.values():
            watch.destroy()
        if self._own_context is not None:
            self._executor.shutdown(timeout_sec=5.0)
            self.node.destroy_node()
            self._own_context.try_shutdown()
            # Destroyed, not only shut down: a DDS participant still alive when the interpreter
            # exits aborts the process ('terminate called without an active exception').
            self._own_context.destroy()

    def __enter__(self) -> CalligraphyClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _ServerWatch:
    """Called while waiting on the writer: False once its action server has been missing from
    the graph for `lost_s` on end (a writer that died; a moment's absence is not one)."""

    def __init__(self, client: ActionClient, lost_s: float) -> None:
        self.client, self.lost_s = client, lost_s
        self.missing_since: float | None = None

    def __call__(self) -> bool:
        if self.client.server_is_ready():
            self.missing_since = None
            return True
        now = time.monotonic()
        self.missing_since = now if self.missing_since is None else self.missing_since
        return now - self.missing_since < self.lost_s

    def missing_s(self) -> float:
        return 0.0 if self.missing_since is None else time.monotonic() - self.missing_since
