"""Sessions as rosbag2 bags, written and read with `rosbags` (no rclpy here).

A session of `calligraphy write --record` is the bag folder `OUT/session/`: `metadata.yaml` and
`session.mcap` (rosbag2 MCAP storage, zstd-compressed chunks, ros2msg definitions and RIHS01
type hashes per topic), which `ros2 bag info`, `ros2 bag play` and Foxglove open. Messages go in
as the CDR bytes received, never re-serialised. `read_session` reads such a bag back, or one a
real cell recorded with `ros2 bag record` (MCAP or sqlite3 storage), as rosbags dataclasses of
one typestore: ROS 2 Kilted's standard types and ours, parsed from the installed .msg files.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from rosbags.interfaces import (
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2 import (
    CompressionFormat,
    CompressionMode,
    Reader,
    ReaderError,
    StoragePlugin,
    Writer,
    WriterError,
)
from rosbags.typesys import Stores, TypesysError, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

# What the brush model learns from: the commands sent to the arm, the brush paths executed,
# where the tip really went, the ink load, every camera observation with its scores, and the dips.
SESSION_TOPICS = {
    '/arm_controller/joint_trajectory': 'trajectory_msgs/msg/JointTrajectory',
    '/writer/brush_path': 'calligraphy_interfaces/msg/BrushPath',
    '/brush_tip_pose': 'geometry_msgs/msg/PoseStamped',
    '/joint_states': 'sensor_msgs/msg/JointState',
    '/virtual_paper/ink_load': 'std_msgs/msg/Float64',
    '/paper_observation': 'calligraphy_interfaces/msg/PaperObservation',
    # The ink dipping action's own status topic: when each dip ended (for ink use).
    '/dip_ink/_action/status': 'action_msgs/msg/GoalStatusArray',
}
LATCHED_TOPICS = frozenset({'/paper_observation'})  # transient local, depth 10
QUEUE_DEPTH = 50  # of the other topics (reliable, volatile)
INTERFACES_PACKAGE = 'calligraphy_interfaces'
STORE = Stores.ROS2_KILTED  # the distribution the cell runs
_BAG_FILES = ('metadata.yaml', '.mcap', '.db3', '.db3-shm', '.db3-wal')


class SessionBagError(RuntimeError):
    """A session bag that cannot be written or read; the message says which and why."""


@functools.cache
def session_typestore() -> Typestore:
    """ROS 2 Kilted's types and every message type of calligraphy_interfaces, from the .msg
    files of the package installed on AMENT_PREFIX_PATH (what `source env.sh` sets)."""
    for prefix in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep):
        folder = Path(prefix) / 'share' / INTERFACES_PACKAGE / 'msg'
        if prefix and folder.is_dir():
            break
    else:
        raise SessionBagError(
            f'no {INTERFACES_PACKAGE} message files on AMENT_PREFIX_PATH (source env.sh first)'
        )
    store = get_typestore(STORE)
    types = {}
    for path in sorted(folder.glob('*.msg')):
        types.update(get_types_from_msg(path.read_text(), f'{INTERFACES_PACKAGE}/msg/{path.stem}'))
    store.register(types)
    return store


def topic_qos(topic: str) -> Qos:
    """The QoS the recorder subscribes with, stored as the topic's offered QoS for replay."""
    latched = topic in LATCHED_TOPICS
    default = QosTime(0, 0)  # the middleware's default: no deadline, lifespan or lease
    return Qos(
        QosHistory.KEEP_LAST, 10 if latched else QUEUE_DEPTH, QosReliability.RELIABLE,
        QosDurability.TRANSIENT_LOCAL if latched else QosDurability.VOLATILE,
        default, default, QosLiveliness.AUTOMATIC, default, avoid_ros_namespace_conventions=False,
    )  # fmt: skip


class SessionBagWriter:
    """Writes raw CDR messages of the session's topics to a new rosbag2 bag folder (MCAP).

    `write` may be called from any thread; after `close` it ignores what still arrives. A bag
    folder left at `path` by an earlier session is replaced; any other folder there is an error.
    """

    def __init__(self, path: Path, topics: dict[str, str] | None = None) -> None:
        self.path = Path(path)
        store = session_typestore()
        _remove_old_bag(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        bag = Writer(self.path, version=Writer.VERSION_LATEST, storage_plugin=StoragePlugin.MCAP)
        bag.set_compression(CompressionMode.STORAGE, CompressionFormat.ZSTD)
        try:
            bag.open()
            self._connections = {
                topic: bag.add_connection(
                    topic, msgtype, typestore=store, offered_qos_profiles=[topic_qos(topic)]
                )
                for topic, msgtype in (topics or SESSION_TOPICS).items()
            }
        except (WriterError, TypesysError, KeyError) as error:
            raise SessionBagError(f'cannot write the session bag {self.path}: {error}') from None
        self._bag = bag
        self._lock = threading.Lock()
        self._closed = False
        self.counts = dict.fromkeys(self._connections, 0)

    def write(self, topic: str, data: bytes, timestamp_ns: int | None = None) -> None:
        """Append one message as received (CDR bytes), stamped now unless told otherwise."""
        stamp = time.time_ns() if timestamp_ns is None else timestamp_ns
        with self._lock:
            if self._closed:
                return
            self._bag.write(self._connections[topic], stamp, data)
            self.counts[topic] += 1

    def close(self) -> None:
        """Finish the MCAP file and write metadata.yaml; a second call does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._bag.close()


def _remove_old_bag(path: Path) -> None:
    if not path.exists():
        return
    entries = list(path.iterdir()) if path.is_dir() else [path]
    if not path.is_dir() or any(not e.name.endswith(_BAG_FILES) or e.is_dir() for e in entries):
        raise SessionBagError(f'{path} exists and is not a session bag folder: not replacing it')
    for entry in entries:
        entry.unlink()
    path.rmdir()


def bag_folder(path: Path) -> Path:
    """The bag folder of `path`: a rosbag2 bag folder, or a `calligraphy write --record` output
    folder holding one as `session/`."""
    path = Path(path)
    for folder in (path, path / 'session'):
        if (folder / 'metadata.yaml').is_file():
            return folder
    if not path.exists():
        raise SessionBagError(f'{path} does not exist')
    raise SessionBagError(
        f'{path} is not a rosbag2 bag folder (no metadata.yaml in it or in {path / "session"}); '
        'a bag whose recording was cut off can be repaired with `ros2 bag reindex`'
    )


def read_session(
    path: Path, topics: Iterable[str] | None = None
) -> Iterator[tuple[str, int, object]]:
    """Yield (topic, timestamp in ns, message) for each message of the bag at `path`, in time
    order; `topics` keeps only those (default: every topic of the bag). Messages are rosbags
    dataclasses of `session_typestore()`. A bag that is not one, cannot be read, or holds a type
    this workspace does not know or defines differently raises SessionBagError."""
    folder, store = bag_folder(path), session_typestore()
    wanted = None if topics is None else set(topics)
    try:
        with Reader(folder) as bag:
            connections = [c for c in bag.connections if wanted is None or c.topic in wanted]
            for connection in connections:
                _check_type(store, connection.topic, connection.msgtype, connection.digest)
            if not connections:
                return  # (an empty filter would mean every connection to rosbags)
            for connection, stamp, raw in bag.messages(connections=connections):
                try:
                    message = _deserialize(store, raw, connection.msgtype)
                except Exception as error:  # whatever the generated deserialiser raised
                    raise SessionBagError(
                        f'{folder}: a message on {connection.topic} at {stamp} ns is not a '
                        f'valid {connection.msgtype} ({type(error).__name__}: {error})'
                    ) from None
                yield connection.topic, stamp, message
    except (ReaderError, OSError) as error:
        raise SessionBagError(f'{folder}: cannot read the bag: {error}') from None


def _deserialize(store: Typestore, raw: bytes, msgtype: str) -> object:
    """`store.deserialize_cdr`, but bytes after the message are ignored, as ROS's own readers
    do: rclpy's `serialize_message` leaves Fast-CDR's size estimate's slack there (8 to 20
    bytes seen here), which rosbags' check would refuse; what a subscription receives has none."""
    if len(raw) < 4 or bytes(raw[:2]) not in {b'\x00\x00', b'\x00\x01'}:
        raise ValueError('not CDR (unknown encapsulation header)')
    msgdef = store.get_msgdef(msgtype)
    read = msgdef.deserialize_cdr_le if raw[1] else msgdef.deserialize_cdr_be
    message, _ = read(memoryview(raw)[4:], 0, msgdef.cls, store)
    return message


def _check_type(store: Typestore, topic: str, msgtype: str, digest: str) -> None:
    if msgtype not in store.fielddefs:
        raise SessionBagError(
            f'{topic} has type {msgtype}, which this workspace does not know; '
            'pass the topics to read'
        )
    # Bags of Iron and later carry each type's RIHS01 hash; older ones carry none.
    if digest.startswith('RIHS01_') and digest != store.hash_rihs01(msgtype):
        raise SessionBagError(
            f'{topic} was recorded with another definition of {msgtype} than this workspace '
            f'has (type hash {digest} vs {store.hash_rihs01(msgtype)})'
        )
