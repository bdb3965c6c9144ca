"""A small Python API over the writer's actions, for scripts and other nodes.

    from calligraphy_writer.client import CalligraphyClient
    with CalligraphyClient() as cell:
        result = cell.write('永')
        print(result.success, result.score.iou)

It owns a node and an executor thread of its own (or uses the node it is given, which its owner
must spin, and only once the client exists: see __init__), and every wait has a timeout. Ctrl-C
while a goal runs cancels it (the writer lifts the brush) before the KeyboardInterrupt goes on;
the cancelled goal's result is kept in `interrupted_result`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import rclpy
from rclpy.action import ActionClient
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from calligraphy_interfaces.action import WriteCharacter, WriteText


class CalligraphyClientError(RuntimeError):
    """The writer could not be reached or did not answer in time."""


class CalligraphyClient:
    def __init__(self, node: Node | None = None, server_timeout_s: float = 30.0) -> None:
        self._own_context: Context | None = None
        self._executor: SingleThreadedExecutor | None = None
        self._thread: threading.Thread | None = None
        if node is None:
            self._own_context = Context()
            rclpy.init(context=self._own_context)
            node = Node('calligraphy_client', context=self._own_context)
        self.node = node
        self.server_timeout_s = server_timeout_s
        # Before any spinning: rclpy's ActionClient joins the node's waitables before it has
        # its lock, and an executor spinning the node meanwhile dies on the missing attribute.
        self._character = ActionClient(node, WriteCharacter, 'write_character')
        self._text = ActionClient(node, WriteText, 'write_text')
        if self._own_context is not None:
            self._executor = SingleThreadedExecutor(context=self._own_context)
            self._executor.add_node(node)
            self._thread = threading.Thread(target=self._executor.spin, daemon=True)
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
        if not client.wait_for_server(timeout_sec=self.server_timeout_s):
            raise CalligraphyClientError(
                f'no writer serving {client._action_name} within {self.server_timeout_s:.0f} s'
            )
        callback = (lambda msg: on_feedback(msg.feedback)) if on_feedback else None
        # A loaded machine can take seconds to answer: wait as long as for the server itself.
        sent = client.send_goal_async(goal, feedback_callback=callback)
        handle = self._wait(sent, self.server_timeout_s, 'goal')
        if not handle.accepted:
            raise CalligraphyClientError('the writer rejected the goal')
        self._active_goal, self.interrupted_result = handle, None
        result = handle.get_result_async()
        try:
            return self._wait(result, timeout_s, 'result').result
        except KeyboardInterrupt:
            # Ctrl-C stops the robot, not only this script: cancel (the writer lifts the brush),
            # keep the cancelled goal's result (strokes written) and let the interrupt go on.
            self.cancel()
            self.interrupted_result = self._wait(result, 60.0, 'result after the cancel').result
            raise
        finally:
            self._active_goal = None

    @staticmethod
    def _wait(future, timeout_s: float, what: str):
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout_s):
            raise CalligraphyClientError(f'no {what} from the writer within {timeout_s:.0f} s')
        return future.result()

    def close(self) -> None:
        self._character.destroy()
        self._text.destroy()
        if self._own_context is not None:
            self._executor.shutdown()
            self.node.destroy_node()
            self._own_context.try_shutdown()
            self._thread.join(timeout=5.0)

    def __enter__(self) -> CalligraphyClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
