"""Blocking a worker thread on a future that an executor completes: the one wait helper."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class FutureTimeoutError(TimeoutError):
    """No answer within the time given."""


class ServerGoneError(ConnectionError):
    """The server left the graph while we waited."""


def wait_for_future(future, timeout_s: float, server_alive: Callable[[], bool] | None = None):
    """`future.result()` once done. FutureTimeoutError after `timeout_s`; ServerGoneError as soon
    as `server_alive()` turns false (checked ten times a second). Never spins anything itself:
    an executor on another thread must be spinning the node the future belongs to."""
    done = threading.Event()
    future.add_done_callback(lambda _: done.set())
    deadline = time.monotonic() + timeout_s
    while not done.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            raise FutureTimeoutError(f'no answer within {timeout_s:g} s')
        if server_alive is not None and not server_alive():
            raise ServerGoneError('the server went away')
    return future.result()


def call_once(client, request, timeout_s: float):
    """The answer to one call of the service `client` with `request`, or None when none came
    within `timeout_s`; the unanswered request is dropped from the client, so a late answer is
    not kept. With Fast DDS a new client's first answer can be lost while the server's response
    writer is still being matched (ros2/rmw_fastrtps#842): a caller whose call may safely be
    repeated calls again on None."""
    future = client.call_async(request)
    try:
        return wait_for_future(future, timeout_s)
    except FutureTimeoutError:
        client.remove_pending_request(future)
        return None
