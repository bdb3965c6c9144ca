"""Record a writing session as a rosbag2 bag folder (MCAP storage), from the live graph.

The subscriptions take each message's CDR bytes as received (raw) and hand them to
`session_bag.SessionBagWriter`, which writes the bag with `rosbags`; `session_bag.read_session`
reads it back. The bag opens with `ros2 bag info`, `ros2 bag play` and Foxglove.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from rclpy.qos import DurabilityPolicy, QoSProfile

from calligraphy_bringup.session_bag import (
    LATCHED_TOPICS,
    QUEUE_DEPTH,
    SESSION_TOPICS,
    SessionBagWriter,
)


def message_class(full_type: str) -> type:
    package, kind, name = full_type.split('/')
    return getattr(importlib.import_module(f'{package}.{kind}'), name)


class SessionRecorder:
    """Subscribes to the session's topics (raw CDR) and writes them to the bag folder `path`."""

    def __init__(self, node, path: Path, topics: dict[str, str] | None = None) -> None:
        topics = topics or SESSION_TOPICS
        self.path = Path(path)
        self._bag = SessionBagWriter(self.path, topics)
        self.counts = self._bag.counts
        latched = QoSProfile(depth=10, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        for topic, full_type in topics.items():
            node.create_subscription(
                message_class(full_type), topic,
                lambda data, topic=topic: self._bag.write(topic, data),
                latched if topic in LATCHED_TOPICS else QUEUE_DEPTH, raw=True,
            )  # fmt: skip

    def close(self) -> None:
        self._bag.close()
