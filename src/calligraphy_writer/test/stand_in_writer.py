"""A stand-in writer for the client's graph tests: serves /write_text like writer_node's main()
(default context, multi-threaded executor) and holds every goal until it is cancelled, then
answers CANCELED with one character written. Prints `ready` and `goal` on stdout. With the
argument `--never-answer` it prints `goal` when a goal arrives and never answers it (a writer
killed before its acceptance reached the client)."""

import sys
import threading

import rclpy
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

from calligraphy_interfaces.action import WriteText


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
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        stop.set()
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
