"""The one loop that spins an executor until told to stop, and survives what one turn raises.

rclpy's executors rebuild their wait set from every entity of every node at each turn. An
action client created or destroyed on another thread meanwhile makes that turn raise: a client
not yet fully built (`'ActionClient' object has no attribute '_lock'`, ros2/rclpy#1589), or one
destroyed while it was being added (`RCLError: ... action client pointer is invalid`, as in
RobotWebTools/rosbridge_suite#1144). Creating and destroying an action client and a service
client 2,000 times beside a spinning thread raised each of the two about twice. A spin thread
that ended there left its node deaf for good: the soak benchmark's client then waited 30 s for
goal answers that had come (two hangs in one run). Nothing was taken in the turn that raised, so
the next turn, with a fresh wait set, goes on where it stopped. A callback that raises (a bug
of ours) is reported the same way, and the node keeps serving its other callbacks.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback

# At most one report a second: an error that repeats at every turn must not flood the log.
REPORT_INTERVAL_S = 1.0
# After a second turn in a row that raised: a pause, so that an error that comes back at every
# turn does not also spin a core. A one-off error (the races above) is not delayed.
REPEAT_PAUSE_S = 0.01


class SpinErrors:
    """What one spin loop reported: the count, and the first error's line."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.first: str | None = None
        self._reported_at = -REPORT_INTERVAL_S
        self._unreported = 0

    def report(self, error: Exception) -> None:
        self.count += 1
        frame = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
        where = f' at {frame[0].filename}:{frame[0].lineno} in {frame[0].name}' if frame else ''
        line = f'{type(error).__name__}: {error}{where}'
        if self.first is None:
            self.first = line
        now = time.monotonic()
        if now - self._reported_at < REPORT_INTERVAL_S:
            self._unreported += 1
            return
        more = f' ({self._unreported} more since the last report)' if self._unreported else ''
        print(
            f'{self.name}: warning: one turn of the executor raised {line}{more}; spinning on',
            file=sys.stderr,
            flush=True,
        )
        self._reported_at, self._unreported = now, 0


def spin_until_stopped(
    executor, stop: threading.Event, timeout_s: float = 0.2, name: str = 'spin'
) -> SpinErrors:
    """Spin `executor` until `stop` is set or its context is shut down; what it reported.

    Not Executor.spin(): that ends only when the executor or its context is shut down under the
    thread (its guard condition destroyed while the wait set may still use it), and it ends at
    the first error. A caller stops this loop (set `stop`, then join the thread) before it
    destroys anything the executor spins. rclpy's `executor.wake()` only makes the wait start
    over, so the loop ends by `timeout_s` at the latest; a guard condition of a spun node ends
    it at once (as SubscriptionLane does).
    """
    from rclpy.executors import ExternalShutdownException

    errors = SpinErrors(name)
    context = executor.context
    failed_last_turn = False
    while not stop.is_set() and context.ok():
        try:
            executor.spin_once(timeout_sec=timeout_s)
            failed_last_turn = False
        except ExternalShutdownException:
            break  # the context was shut down under it: nothing left to spin
        except Exception as error:  # noqa: BLE001 - one turn lost, not the node (module doc)
            if stop.is_set() or not context.ok():
                break  # closing: the error is the closing's, not news
            errors.report(error)
            if failed_last_turn:
                time.sleep(REPEAT_PAUSE_S)
            failed_last_turn = True
    return errors
