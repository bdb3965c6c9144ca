"""Sessions as rosbag2 bags, without a running cell: real messages serialised by rclpy go in as
raw CDR, come back equal through rosbags, from MCAP (ours) and sqlite3 (older `ros2 bag record`)
storage; what is not a bag, or not readable, is a clear error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from action_msgs.msg import GoalStatus, GoalStatusArray
from geometry_msgs.msg import PoseStamped
from rclpy.serialization import serialize_message
from rosbags.rosbag2 import StoragePlugin, Writer
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64

from calligraphy_bringup.session_bag import (
    SESSION_TOPICS,
    SessionBagError,
    SessionBagWriter,
    read_session,
    session_typestore,
)
from calligraphy_interfaces.msg import BrushPath, PaperObservation, StrokeMetrics


def _brush_path() -> BrushPath:
    path = BrushPath(stroke_index=2, controller='learned')
    path.header.frame_id = 'paper'
    path.header.stamp.sec, path.header.stamp.nanosec = 12, 345
    path.x_m, path.y_m = [0.10, 0.11, 0.12], [0.20, 0.20, 0.21]
    path.pressing_depth_m, path.time_from_start_s = [0.0, 0.003, -0.001], [0.0, 0.1, 0.25]
    return path


def _observation() -> PaperObservation:
    seen = PaperObservation(region_x_m=0.05, region_width_m=0.06, metres_per_pixel=2.5e-4)
    seen.header.frame_id = 'paper'
    seen.ink_mask.height, seen.ink_mask.width, seen.ink_mask.step = 2, 3, 3
    seen.ink_mask.encoding, seen.ink_mask.data = 'mono8', bytes([0, 255, 0, 255, 255, 0])
    seen.score.iou = 0.83
    seen.strokes = [
        StrokeMetrics(
            stroke_index=0, measured_width_mean_m=0.004, measured_width_m=[0.0041, 0.0039]
        )
    ]
    return seen


def _messages() -> list[tuple[str, object]]:
    tip = PoseStamped()
    tip.pose.position.x, tip.pose.position.z = 0.31, -0.002
    joints = JointState(name=['shoulder_pan_joint', 'wrist_3_joint'], position=[0.5, -1.25])
    return [
        ('/writer/brush_path', _brush_path()),
        ('/brush_tip_pose', tip),
        ('/joint_states', joints),
        ('/virtual_paper/ink_load', Float64(data=0.75)),
        ('/paper_observation', _observation()),
        ('/dip_ink/_action/status', _dip_status()),
    ]


def _dip_status() -> GoalStatusArray:
    done = GoalStatus(status=GoalStatus.STATUS_SUCCEEDED)
    done.goal_info.goal_id.uuid = list(range(16))
    return GoalStatusArray(status_list=[done])


def _check_read_back(found: list[tuple[str, int, object]]) -> None:
    by_topic = {topic: message for topic, _, message in found}
    path = by_topic['/writer/brush_path']
    assert path.header.frame_id == 'paper' and path.stroke_index == 2
    assert (path.header.stamp.sec, path.header.stamp.nanosec) == (12, 345)
    assert path.controller == 'learned'
    np.testing.assert_array_equal(path.x_m, [0.10, 0.11, 0.12])
    np.testing.assert_array_equal(path.pressing_depth_m, [0.0, 0.003, -0.001])
    np.testing.assert_array_equal(path.time_from_start_s, [0.0, 0.1, 0.25])
    assert len(path.tilt_x_rad) == 0
    assert by_topic['/brush_tip_pose'].pose.position.z == -0.002
    assert list(by_topic['/joint_states'].name) == ['shoulder_pan_joint', 'wrist_3_joint']
    np.testing.assert_array_equal(by_topic['/joint_states'].position, [0.5, -1.25])
    assert by_topic['/virtual_paper/ink_load'].data == 0.75
    seen = by_topic['/paper_observation']
    assert seen.metres_per_pixel == 2.5e-4 and seen.score.iou == pytest.approx(0.83)
    assert seen.ink_mask.encoding == 'mono8' and bytes(seen.ink_mask.data) == bytes(
        [0, 255, 0, 255, 255, 0]
    )
    (stroke,) = seen.strokes
    assert stroke.measured_width_mean_m == 0.004
    np.testing.assert_array_equal(stroke.measured_width_m, [0.0041, 0.0039])
    (dip,) = by_topic['/dip_ink/_action/status'].status_list
    assert dip.status == GoalStatus.STATUS_SUCCEEDED
    assert bytes(dip.goal_info.goal_id.uuid) == bytes(range(16))


def _installed_type_hash(msgtype: str) -> str:
    """The RIHS01 hash rosidl generated for the type (what `ros2 bag record` stores)."""
    package, _, name = msgtype.split('/')
    for prefix in os.environ['AMENT_PREFIX_PATH'].split(os.pathsep):
        found = Path(prefix) / 'share' / package / 'msg' / f'{name}.json'
        if found.exists():
            return json.loads(found.read_text())['type_hashes'][0]['hash_string']
    raise AssertionError(f'no type description of {msgtype}')


def test_a_session_bag_holds_the_raw_messages_and_reads_back_equal(tmp_path):
    bag = SessionBagWriter(tmp_path / 'session')
    for stamp, (topic, message) in enumerate(_messages(), start=1000):
        bag.write(topic, serialize_message(message), timestamp_ns=stamp)
    bag.close()
    bag.close()  # a second close does nothing
    bag.write('/joint_states', serialize_message(JointState()))  # ignored once closed

    assert sorted(p.name for p in (tmp_path / 'session').iterdir()) == [
        'metadata.yaml', 'session.mcap'
    ]  # fmt: skip
    info = yaml.safe_load((tmp_path / 'session' / 'metadata.yaml').read_text())
    info = info['rosbag2_bagfile_information']
    assert info['storage_identifier'] == 'mcap' and info['message_count'] == 6
    topics = {t['topic_metadata']['name']: t for t in info['topics_with_message_count']}
    assert set(topics) == set(SESSION_TOPICS)
    for name, topic in topics.items():
        meta = topic['topic_metadata']
        assert meta['type'] == SESSION_TOPICS[name] and meta['serialization_format'] == 'cdr'
        # The hash rosidl computed for the installed type: ros2 bag play finds the same type.
        assert meta['type_description_hash'] == _installed_type_hash(meta['type'])
    assert topics['/arm_controller/joint_trajectory']['message_count'] == 0
    latched = topics['/paper_observation']['topic_metadata']['offered_qos_profiles'][0]
    assert latched['durability'] == 'transient_local' and latched['reliability'] == 'reliable'

    found = list(read_session(tmp_path / 'session'))
    assert [(topic, stamp) for topic, stamp, _ in found] == [
        (topic, stamp) for stamp, (topic, _) in enumerate(_messages(), start=1000)
    ]
    _check_read_back(found)
    # The `calligraphy write --record` output folder names its bag too; topics filter.
    only = list(read_session(tmp_path, topics=['/virtual_paper/ink_load']))
    assert [(topic, message.data) for topic, _, message in only] == [
        ('/virtual_paper/ink_load', 0.75)
    ]
    assert list(read_session(tmp_path, topics=['/not/recorded'])) == []


def test_a_sqlite3_bag_as_ros2_bag_record_writes_reads_the_same(tmp_path):
    store = session_typestore()
    bag = Writer(tmp_path / 'cell', version=8, storage_plugin=StoragePlugin.SQLITE3)
    bag.open()
    connections = {
        topic: bag.add_connection(topic, SESSION_TOPICS[topic], typestore=store)
        for topic, _ in _messages()
    }
    # A vendor type this workspace does not have, as `ros2 bag record -a` would meet one.
    vendor = bag.add_connection(
        '/io_and_status_controller/robot_mode', 'ur_dashboard_msgs/msg/RobotMode',
        msgdef='int8 mode', rihs01='RIHS01_' + '0' * 64,
    )  # fmt: skip
    for stamp, (topic, message) in enumerate(_messages(), start=50):
        bag.write(connections[topic], stamp, serialize_message(message))
    bag.write(vendor, 99, b'\x00\x01\x00\x00\x07')
    bag.close()
    assert (tmp_path / 'cell' / 'cell.db3').exists()

    with pytest.raises(SessionBagError, match='ur_dashboard_msgs/msg/RobotMode.*does not know'):
        list(read_session(tmp_path / 'cell'))
    found = list(read_session(tmp_path / 'cell', topics=SESSION_TOPICS))
    assert [stamp for _, stamp, _ in found] == list(range(50, 50 + len(_messages())))
    _check_read_back(found)


def test_what_is_not_a_readable_session_bag_is_a_clear_error(tmp_path):
    (tmp_path / 'notes').mkdir()
    (tmp_path / 'notes' / 'session.mcap').write_bytes(b'not a bag')
    with pytest.raises(SessionBagError, match='not a rosbag2 bag folder'):
        list(read_session(tmp_path / 'notes'))
    with pytest.raises(SessionBagError, match='does not exist'):
        list(read_session(tmp_path / 'missing'))

    bag = SessionBagWriter(tmp_path / 'cut')
    bag.write('/virtual_paper/ink_load', serialize_message(Float64(data=1.0)))
    bag.close()
    storage = tmp_path / 'cut' / 'cut.mcap'
    storage.write_bytes(storage.read_bytes()[:40])  # a file cut short
    with pytest.raises(SessionBagError, match='cannot read the bag'):
        list(read_session(tmp_path / 'cut'))


def test_a_new_session_replaces_an_old_bag_but_nothing_else(tmp_path):
    for value in (1.0, 2.0):  # the same --out folder twice
        bag = SessionBagWriter(tmp_path / 'session')
        bag.write('/virtual_paper/ink_load', serialize_message(Float64(data=value)))
        bag.close()
    assert [m.data for _, _, m in read_session(tmp_path / 'session')] == [2.0]

    (tmp_path / 'mine').mkdir()
    (tmp_path / 'mine' / 'thesis.tex').write_text('keep me')
    with pytest.raises(SessionBagError, match='not a session bag folder'):
        SessionBagWriter(tmp_path / 'mine')
    assert (tmp_path / 'mine' / 'thesis.tex').read_text() == 'keep me'
