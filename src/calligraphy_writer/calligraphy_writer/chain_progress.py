"""Which strokes of a chained motion goal are written, from the motion executor's feedback (no
ROS: the feedback messages are read by attribute)."""

from __future__ import annotations

import numpy as np


class ChainProgress:
    """Which paths of a chained goal are written, from the executor's feedback: its point index
    counts the points of all the goal's paths in order, so a path is written once the index has
    reached its last point. The feedback arrives on the executor's thread (`on_feedback` only
    records it); `tick`, on the writer's thread, calls `on_stroke(k)` as k paths are written."""

    def __init__(self, paths: list, on_stroke) -> None:
        self._ends = np.cumsum([len(path.x_m) for path in paths]) - 1
        self._on_stroke = on_stroke or (lambda written: None)
        self._reached = -1
        self._told = 0

    def on_feedback(self, message) -> None:
        self._reached = max(self._reached, int(message.feedback.point_index))

    def tick(self) -> None:
        written = int(np.searchsorted(self._ends, self._reached, side='right'))
        self._tell(written)

    def finish(self) -> None:
        self._tell(len(self._ends))

    def _tell(self, written: int) -> None:
        while self._told < written:
            self._told += 1
            self._on_stroke(self._told)
