"""Waiting for a condition, not for a time: the one polling helper of the cell and its tests."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    condition: Callable[[], object], timeout_s: float, interval_s: float = 0.01
) -> bool:
    """Poll `condition()` until it is true (True) or `timeout_s` of wall time pass (False)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return bool(condition())
        time.sleep(interval_s)
