"""Record a writing session to MCAP (ROS 2 profile, CDR messages with ros2msg schemas).

What is recorded is what the brush model will later learn from: the commands sent to the arm,
the brush paths executed, where the tip really went, the ink load, and every camera observation
with its scores. The file opens in Foxglove or with `mcap` / `rosbag2` readers.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
import time
from pathlib import Path

from mcap.writer import Writer
from rclpy.qos import DurabilityPolicy, QoSProfile

RECORDED_TOPICS = {
    '/arm_controller/joint_trajectory': 'trajectory_msgs/msg/JointTrajectory',
    '/writer/brush_path': 'calligraphy_interfaces/msg/BrushPath',
    '/brush_tip_pose': 'geometry_msgs/msg/PoseStamped',
    '/joint_states': 'sensor_msgs/msg/JointState',
    '/virtual_paper/ink_load': 'std_msgs/msg/Float64',
    '/paper_observation': 'calligraphy_interfaces/msg/PaperObservation',
}
_PRIMITIVES = {
    'bool', 'byte', 'char', 'float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32',
    'uint32', 'int64', 'uint64', 'string', 'wstring',
}  # fmt: skip
_SEPARATOR = '=' * 80


def _msg_file(package: str, name: str) -> Path:
    for prefix in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep):
        path = Path(prefix) / 'share' / package / 'msg' / f'{name}.msg'
        if path.exists():
            return path
    raise FileNotFoundError(f'no definition of {package}/msg/{name} on AMENT_PREFIX_PATH')


def message_definition(full_type: str) -> str:
    """The ros2msg schema text of `pkg/msg/Type`: its .msg followed by every type it uses."""
    package, _, name = full_type.split('/')
    root = _msg_file(package, name).read_text()
    parts, seen, pending = [root], set(), [(package, root)]
    while pending:
        owner, text = pending.pop()
        for line in text.splitlines():
            line = line.split('#', 1)[0].strip()
            if not line or '=' in line.split()[0] or len(line.split()) < 2:
                continue
            base = re.sub(r'(\[.*\]|<=\d+)$', '', line.split()[0])
            if base in _PRIMITIVES or re.match(r'^(w?string)<=\d+$', line.split()[0]):
                continue
            dep_package, dep_name = base.split('/') if '/' in base else (owner, base)
            if dep_name == 'Header' and '/' not in base:
                dep_package = 'std_msgs'
            key = f'{dep_package}/{dep_name}'
            if key in seen:
                continue
            seen.add(key)
            dep_text = _msg_file(dep_package, dep_name).read_text()
            parts.append(f'{_SEPARATOR}\nMSG: {key}\n{dep_text}')
            pending.append((dep_package, dep_text))
    return '\n'.join(parts)


def message_class(full_type: str) -> type:
    package, kind, name = full_type.split('/')
    return getattr(importlib.import_module(f'{package}.{kind}'), name)


class SessionRecorder:
    """Subscribes to the session's topics (raw CDR) and writes them to an MCAP file."""

    def __init__(self, node, path: Path, topics: dict[str, str] | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open('wb')
        self._writer = Writer(self._file)
        self._writer.start(profile='ros2', library='calligraphy-cell')
        self._lock = threading.Lock()
        self._closed = False
        self.counts: dict[str, int] = {}
        latched = QoSProfile(depth=10, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        for topic, full_type in (topics or RECORDED_TOPICS).items():
            schema = self._writer.register_schema(
                name=full_type, encoding='ros2msg', data=message_definition(full_type).encode()
            )
            channel = self._writer.register_channel(
                topic=topic, message_encoding='cdr', schema_id=schema
            )
            self.counts[topic] = 0
            qos = latched if topic == '/paper_observation' else 50
            node.create_subscription(
                message_class(full_type), topic,
                lambda data, topic=topic, channel=channel: self._write(topic, channel, data),
                qos, raw=True,
            )  # fmt: skip

    def _write(self, topic: str, channel: int, data: bytes) -> None:
        now = time.time_ns()
        with self._lock:
            if self._closed:
                return
            self._writer.add_message(channel, log_time=now, data=data, publish_time=now)
            self.counts[topic] += 1

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._writer.finish()
            self._file.close()
