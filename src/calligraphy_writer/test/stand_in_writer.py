"""A stand-in writer for the client's graph tests: serves /write_text like writer_node's main()
(calligraphy_ros_kit.runner.run_node: default context and signal handlers, a multi-threaded
executor spun by spin_until_stopped) and holds every goal until it is cancelled, then answers
CANCELED with one character written. Prints `ready` and `goal` on stdout. With the argument
`--never-answer` it prints `goal` when a goal arrives and never answers it (a writer killed
before its acceptance reached the client).

It spun with Executor.spin() before, and once in a full test run it was still alive 30 s after
its SIGTERM, with its goal callback blocked: spin_until_stopped sees the shut-down context at its
next turn (0.1 s here) whatever wakes the executor's wait, as the writer's own main() does."""

import sys
import threading

import rclpy
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor

from calligraphy_interfaces.action import WriteText
from calligraphy_ros_kit.spinning import spin_until_stopped


def main() -> None:
    rclpy.init()
    node = rclpy.create_node('writer_node')
    stop = threading.Event()

    def execute(goal_handle):
        print('goal', flush=True)
        while not goal_handle.is_cancel_requested and not stop.wait(0.05):
            pass
        result = WriteText.Result(
            error_code=WriteText.Result.CANCELED, error_msg='canceled', characters=['永'],
            characters_written=1, character_count=2,
        )  # fmt: skip
        goal_handle.canceled()
        return result

    def hold(_goal):
        print('goal', flush=True)
        stop.wait()
        return GoalResponse.REJECT

    ActionServer(
        node, WriteText, 'write_text', execute, callback_group=ReentrantCallbackGroup(),
        cancel_callback=lambda _: CancelResponse.ACCEPT,
        **({'goal_callback': hold} if '--never-answer' in sys.argv else {}),
    )  # fmt: skip
    executor = MultiThreadedExecutor()
    executor.add_node(node)
    print('ready', flush=True)
    try:
        spin_until_stopped(executor, threading.Event(), 0.1, name='stand-in writer')
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()  # the held goal callbacks return, so the executor's threads can end
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
