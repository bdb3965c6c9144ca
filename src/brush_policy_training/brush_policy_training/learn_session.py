"""Reading recorded sessions for `calligraphy learn` (rosbags; no rclpy, no calligraphy_bringup).

A session is the `--out` folder of `calligraphy write --record` (the bag is its `session/`) or a
rosbag2 bag folder a real cell recorded. Only what a real cell records is read:

- `/writer/brush_path` (BrushPath): the commanded path of each stroke, one point per planned
  centreline point (every controller returns one path point per centreline point);
- `/paper_observation` (PaperObservation): per stroke of the character, the planned and the
  measured width at each planned centreline point, coverage and darkness;
- `/dip_ink/_action/status` (action_msgs/GoalStatusArray, the ink dipping action's own status
  topic): when a dip ended. Optional: without it ink use cannot be identified.

Strokes are matched by `stroke_index` within a character; a path with stroke_index 0 (or one not
above the previous) starts a new character. Each stroke takes its widths from the first
observation after its path that measured it (as the writer's feedback does), before later strokes
can cross it. The commanded depth at each centreline point is the path's depth at the same index,
or interpolated along the path by index fraction when the counts differ (a bag from another
controller). `report.json` beside the bag is read for the characters and the simulated brush
(never used to fit: only to report the fit error against it, in simulation).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

PATH_TOPIC = '/writer/brush_path'
OBSERVATION_TOPIC = '/paper_observation'
DIP_STATUS_TOPIC = '/dip_ink/_action/status'
# action_msgs/GoalStatus codes: a goal seen accepted, executing or canceling, then succeeded.
_GOAL_RUNNING = (1, 2, 3)
_GOAL_SUCCEEDED = 4
INTERFACES_PACKAGE = 'calligraphy_interfaces'


class SessionError(ValueError):
    """A folder that is not a readable session with observations; the message says why."""


@dataclass
class StrokeRecord:
    """One written stroke: commanded depth and camera widths at its planned centreline points."""

    character: int
    stroke_index: int
    depth_m: np.ndarray
    planned_width_m: np.ndarray
    measured_width_m: np.ndarray
    coverage: float
    darkness: float
    duration_s: float
    # Arc length along the path of each path point and its depth, and the arc length of each
    # centreline point (taken as the path's at the same index, or by index fraction).
    path_s_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    path_depth_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    centre_s_m: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class InkStep:
    """One written stroke in writing order, for ink use: the dips done before it (in the
    session), its path length, and once the camera measured it, the inked area (measured width
    integrated along the centreline), its mean darkness and coverage, and the share of its
    centreline points with a measured width (NaN until measured)."""

    character: int
    stroke_index: int
    dips_before: int
    path_length_m: float
    area_m2: float = math.nan
    darkness: float = math.nan
    coverage: float = math.nan
    measured_share: float = math.nan


@dataclass
class Session:
    folder: Path
    bag: Path
    mcap_sha256: dict[str, str]
    date_utc: str
    characters: str
    paths: int
    strokes: list[StrokeRecord] = field(default_factory=list)
    simulated_brush: dict | None = None
    # Every written stroke in order, and whether the bag recorded the dips (DIP_STATUS_TOPIC).
    ink_steps: list[InkStep] = field(default_factory=list)
    dips_recorded: bool = False

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(depth, measured width) at every centreline point with a width and a pressing depth."""
        depths, widths = [], []
        for stroke in self.strokes:
            ok = (
                np.isfinite(stroke.measured_width_m)
                & (stroke.measured_width_m > 0)
                & np.isfinite(stroke.depth_m)
                & (stroke.depth_m > 0)
            )
            depths.append(stroke.depth_m[ok])
            widths.append(stroke.measured_width_m[ok])
        if not depths:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(depths), np.concatenate(widths)

    def provenance(self) -> dict:
        return {
            'folder': str(self.folder),
            'mcap_sha256': self.mcap_sha256,
            'date_utc': self.date_utc,
            'characters': self.characters,
            'strokes': self.paths,
            'strokes_observed': len(self.strokes),
        }


def typestore():
    """ROS 2 Kilted's types plus calligraphy_interfaces' message types from their installed
    .msg files (on AMENT_PREFIX_PATH)."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    for prefix in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep):
        folder = Path(prefix) / 'share' / INTERFACES_PACKAGE / 'msg'
        if prefix and folder.is_dir():
            break
    else:
        raise SessionError(f'no {INTERFACES_PACKAGE} message files found (source env.sh first)')
    store = get_typestore(Stores.ROS2_KILTED)
    types = {}
    for path in sorted(folder.glob('*.msg')):
        types.update(get_types_from_msg(path.read_text(), f'{INTERFACES_PACKAGE}/msg/{path.stem}'))
    store.register(types)
    return store


def bag_folder(path: Path) -> Path:
    path = Path(path)
    for folder in (path, path / 'session'):
        if (folder / 'metadata.yaml').is_file():
            return folder
    if not path.exists():
        raise SessionError(f'{path} does not exist')
    raise SessionError(
        f'{path} is not a session: no rosbag2 bag (metadata.yaml) in it or in {path / "session"}'
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open('rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _deserialize(store, raw: bytes, msgtype: str):
    # Bytes after the message are ignored, as ROS's readers do (rclpy's serialize_message leaves
    # slack there that rosbags' own strict check would refuse).
    if len(raw) < 4 or bytes(raw[:2]) not in {b'\x00\x00', b'\x00\x01'}:
        raise ValueError('not CDR (unknown encapsulation header)')
    msgdef = store.get_msgdef(msgtype)
    read = msgdef.deserialize_cdr_le if raw[1] else msgdef.deserialize_cdr_be
    message, _ = read(memoryview(raw)[4:], 0, msgdef.cls, store)
    return message


def _messages(folder: Path, store) -> list[tuple[str, int, object]]:
    """The wanted topics' messages in time order, then ('', bag start ns, set of the wanted
    topics the bag has)."""
    from rosbags.rosbag2 import Reader, ReaderError

    wanted = {PATH_TOPIC, OBSERVATION_TOPIC, DIP_STATUS_TOPIC}
    out = []
    present: set[str] = set()
    try:
        with Reader(folder) as bag:
            connections = [c for c in bag.connections if c.topic in wanted]
            present = {c.topic for c in connections}
            for c in connections:
                if c.msgtype not in store.fielddefs:
                    raise SessionError(f'{folder}: {c.topic} has unknown type {c.msgtype}')
            if not connections:
                return [('', 0, present)]
            for connection, stamp, raw in bag.messages(connections=connections):
                try:
                    message = _deserialize(store, raw, connection.msgtype)
                except Exception as error:  # whatever the generated deserialiser raised
                    raise SessionError(
                        f'{folder}: a message on {connection.topic} is not a valid '
                        f'{connection.msgtype} ({type(error).__name__}: {error})'
                    ) from None
                out.append((connection.topic, stamp, message))
            start_ns = bag.start_time
    except SessionError:
        raise
    except (ReaderError, OSError) as error:
        raise SessionError(f'{folder}: cannot read the bag: {error}') from None
    except Exception as error:  # a corrupt file surfaces as anything from the MCAP parser
        raise SessionError(f'{folder}: corrupt bag ({type(error).__name__}: {error})') from None
    out.sort(key=lambda item: item[1])
    out.append(('', start_ns, present))
    return out


def _at_centreline(depth: np.ndarray, count: int) -> np.ndarray:
    """Path depths at `count` centreline points: same index, or interpolated by index fraction."""
    if len(depth) == count:
        return depth.astype(float)
    if len(depth) < 2 or count < 1:
        return np.full(count, np.nan)
    return np.interp(np.linspace(0, 1, count), np.linspace(0, 1, len(depth)), depth)


def _arc_length(path) -> np.ndarray:
    """Distance along a BrushPath's points from its first (m), one per point."""
    xy = np.column_stack([path.x_m, path.y_m]).astype(float)
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])


def _inked_area(width_m: np.ndarray, centre_s_m: np.ndarray) -> float:
    """Measured width integrated along the centreline (m²); unmeasurable points (NaN) take
    their neighbours' width. NaN with fewer than two measured points."""
    along = np.isfinite(centre_s_m)
    seen = along & np.isfinite(width_m)
    if seen.sum() < 2:
        return math.nan
    s = centre_s_m[along]
    return float(np.trapezoid(np.interp(s, centre_s_m[seen], width_m[seen]), s))


def read_session(path: str | Path) -> Session:
    """The strokes of one session; SessionError when it is not one, is corrupt, or holds no
    camera observation of a written stroke."""
    folder = Path(path)
    bag = bag_folder(folder)
    mcaps = sorted(bag.glob('*.mcap')) + sorted(bag.glob('*.db3'))
    if not mcaps:
        raise SessionError(f'{bag}: no .mcap or .db3 storage file in the bag folder')
    hashes = {p.name: _sha256(p) for p in mcaps}
    messages = _messages(bag, typestore())
    _, start_ns, present = messages.pop()
    paths: list[tuple[int, object]] = []  # (character, BrushPath)
    # (character, stroke_index) -> path; pending strokes waiting for a measurement
    pending: dict[tuple[int, int], object] = {}
    strokes: list[StrokeRecord] = []
    steps: dict[tuple[int, int], InkStep] = {}
    running_dips: set[bytes] = set()
    dips = 0
    character, last_index = -1, None
    for topic, _, message in messages:
        if topic == PATH_TOPIC:
            index = int(message.stroke_index)
            if last_index is None or index <= last_index:
                character += 1
                pending = {}
            last_index = index
            paths.append((character, message))
            pending[(character, index)] = message
            length = float(_arc_length(message)[-1])
            steps[(character, index)] = InkStep(character, index, dips, length)
        elif topic == DIP_STATUS_TOPIC:
            # Each status array lists every goal the server still remembers; a dip counts once,
            # when a goal seen running is first seen succeeded (not one that ended before).
            for status in message.status_list:
                goal = bytes(status.goal_info.goal_id.uuid)
                if status.status in _GOAL_RUNNING:
                    running_dips.add(goal)
                elif status.status == _GOAL_SUCCEEDED and goal in running_dips:
                    running_dips.discard(goal)
                    dips += 1
        elif topic == OBSERVATION_TOPIC:
            for metrics in message.strokes:
                key = (character, int(metrics.stroke_index))
                path_msg = pending.get(key)
                measured = np.asarray(metrics.measured_width_m, dtype=float)
                if path_msg is None or not (np.isfinite(measured) & (measured > 0)).any():
                    continue
                del pending[key]
                depth = np.asarray(path_msg.pressing_depth_m, dtype=float)
                times = np.asarray(path_msg.time_from_start_s, dtype=float)
                path_s = _arc_length(path_msg)
                centre_s = _at_centreline(path_s, len(measured))
                step = steps[key]
                step.area_m2 = _inked_area(measured, centre_s)
                step.darkness = float(metrics.darkness)
                step.coverage = float(metrics.coverage)
                step.measured_share = float(np.mean(np.isfinite(measured) & (measured > 0)))
                strokes.append(
                    StrokeRecord(
                        character=character,
                        stroke_index=key[1],
                        depth_m=_at_centreline(depth, len(measured)),
                        planned_width_m=np.asarray(metrics.planned_width_m, dtype=float),
                        measured_width_m=measured,
                        coverage=float(metrics.coverage),
                        darkness=float(metrics.darkness),
                        duration_s=float(times[-1] - times[0]) if len(times) > 1 else 0.0,
                        path_s_m=path_s,
                        path_depth_m=depth,
                        centre_s_m=centre_s,
                    )
                )
    if not paths:
        raise SessionError(f'{folder}: no brush paths ({PATH_TOPIC}) recorded')
    if not strokes:
        raise SessionError(
            f'{folder}: no camera observation ({OBSERVATION_TOPIC}) measured a written stroke'
        )
    report = _report(folder)
    chars = ''.join(c.get('char', '') for c in report.get('characters', []) if isinstance(c, dict))
    brush = report.get('simulated_brush')
    return Session(
        folder=folder,
        bag=bag,
        mcap_sha256=hashes,
        date_utc=datetime.fromtimestamp(start_ns / 1e9, UTC).isoformat(timespec='seconds'),
        characters=chars or f'? ({character + 1} characters, no report.json)',
        paths=len(paths),
        strokes=strokes,
        simulated_brush=brush if isinstance(brush, dict) else None,
        ink_steps=list(steps.values()),
        dips_recorded=DIP_STATUS_TOPIC in present,
    )


def _report(folder: Path) -> dict:
    for candidate in (folder / 'report.json', folder.parent / 'report.json'):
        if candidate.is_file():
            try:
                data = json.loads(candidate.read_text(encoding='utf-8'))
            except (OSError, ValueError):
                return {}
            return data if isinstance(data, dict) else {}
    return {}
