"""One main() for every node: a node that cannot start says why (exit 2) and never aborts."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import rclpy
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

from calligraphy_model.errors import CalligraphyError
from calligraphy_ros_kit.spinning import spin_until_stopped

# What a node raises when its parameters or files are wrong: a clear one-line error, exit 2.
START_ERRORS: tuple[type[BaseException], ...] = (
    CalligraphyError,
    ValueError,
    FileNotFoundError,
)


def make_executor(threads: int | None, context=None):
    """The executor for `threads` threads (None = one per CPU).

    One thread: the single-threaded executor. rclpy's multi-threaded one, given one worker,
    keeps polling while its worker runs a callback: the virtual paper beside a standing arm
    took 36 % of a core on it, 13 % on the single-threaded one (and 23 % on four workers).
    """
    if threads == 1:
        return SingleThreadedExecutor(context=context)
    return MultiThreadedExecutor(num_threads=threads, context=context)


def run_node(
    make_node: Callable[[], Node],
    name: str,
    args: list[str] | None = None,
    threads: int | None = None,
    start_errors: tuple[type[BaseException], ...] = (),
) -> int:
    """rclpy.init, make the node, spin it on a multi-threaded executor (`threads` None = one per
    CPU) until Ctrl-C or shutdown, then destroy it; the exit status. A start error of
    START_ERRORS or `start_errors` is printed as `name: error: message`, status 2."""
    rclpy.init(args=args)
    try:
        node = make_node()
    except START_ERRORS + tuple(start_errors) as error:
        print(f'{name}: error: {error}', file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    executor = make_executor(threads)
    executor.add_node(node)
    try:
        # Until Ctrl-C or shutdown; an error in one turn is reported and the node serves on.
        spin_until_stopped(executor, threading.Event(), 0.5, name=name)
    except KeyboardInterrupt:
        pass
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
