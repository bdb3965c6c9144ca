"""`calligraphy write`, the main job, as a user runs it: the whole simulated cell comes up, writes,
and leaves the sheet, the animation, the report and the recorded session behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

CLI = [sys.executable, '-m', 'calligraphy_ros_kit.cli', 'write']


def _write(*args: str, timeout_s: float = 280.0) -> subprocess.CompletedProcess:
    # A domain of its own: nodes other tests left on the run's domain must not answer.
    env = dict(os.environ)
    env['ROS_DOMAIN_ID'] = str((int(env.get('ROS_DOMAIN_ID', '0')) + 151) % 232)
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout_s, env=env
    )


def _cell_processes(parent_pid: int) -> list[int]:
    """The simulated cell's processes that the `calligraphy write` of `parent_pid` started and
    that are still running."""
    marker = f'--parent-pid\0{parent_pid}\0'.encode()
    found = []
    for entry in Path('/proc').iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / 'cmdline').read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue  # ended meanwhile
    return found


@pytest.mark.timeout(300)
def test_write_saves_the_sheet_the_animation_the_report_and_the_session(tmp_path):
    import yaml

    from calligraphy_bringup.session_bag import SESSION_TOPICS, read_session

    brush_file = tmp_path / 'brush.yaml'  # a brush of one's own: the virtual paper writes with it
    brush_file.write_text('brush:\n  streak_noise: 0.1\n')
    run = _write('一', '--out', str(tmp_path), '--record', '--brush-file', str(brush_file))
    assert run.returncode == 0, run.stderr[-2000:]
    for name in ('paper.png', 'writing.gif', 'report.json'):
        assert str((tmp_path / name).resolve()) in run.stdout, f'{name} not announced'

    report = json.loads((tmp_path / 'report.json').read_text())
    assert report['success'] and report['error_code'] == 0
    assert report['simulated_brush']['file'] == str(brush_file.resolve())
    assert report['simulated_brush']['streak_noise'] == 0.1
    assert report['model']['shipped'] and report['model']['path'].endswith('brush_policy.onnx')
    (character,) = report['characters']
    assert character['char'] == '一' and character['strokes'] == 1
    assert character['iou'] > 0.6, f'IoU {character["iou"]} below the floor'
    assert 0.0 < report['sim_time_s'] and 0.0 < report['duration_s'] < 280.0
    # The arm moved for 一 (travel, descent, the stroke, the lift), part of it writing: the
    # stroke is about 40 mm at writing speed, well under the whole motion.
    assert character['motion_time_s'] > 1.0, character
    assert 0.1 < character['writing_share'] < 0.9, character

    # The sheet shows one horizontal stroke: much wider than tall, a few mm thick.
    sheet = cv2.imread(str(tmp_path / 'paper.png'), cv2.IMREAD_GRAYSCALE)
    rows, cols = np.nonzero(sheet < 128)
    assert rows.size > 0, 'nothing written on the sheet'
    assert np.ptp(cols) > 4 * np.ptp(rows)

    with Image.open(tmp_path / 'writing.gif') as animation:
        assert animation.n_frames >= 2, 'the animation does not show the writing'

    # The session is a rosbag2 bag folder (metadata.yaml + MCAP storage) naming every topic.
    info = yaml.safe_load((tmp_path / 'session' / 'metadata.yaml').read_text())
    info = info['rosbag2_bagfile_information']
    assert info['storage_identifier'] == 'mcap'
    assert {t['topic_metadata']['name'] for t in info['topics_with_message_count']} == set(
        SESSION_TOPICS
    )
    counts: dict[str, int] = {}
    paths = []
    for topic, _, message in read_session(tmp_path / 'session'):
        counts[topic] = counts.get(topic, 0) + 1
        if topic == '/writer/brush_path':
            paths.append(message)
    assert counts.get('/brush_tip_pose', 0) > 100, counts
    assert counts.get('/arm_controller/joint_trajectory', 0) >= 1, counts
    assert counts.get('/paper_observation', 0) >= 1, counts
    assert len(paths) == 1 and paths[0].header.frame_id == 'paper'
    assert len(paths[0].x_m) > 10 and max(paths[0].pressing_depth_m) > 0.0


def _interrupt_when(tmp_path, domain_offset: int, marker: bytes):
    """Run `calligraphy write 永`, send Ctrl-C once `marker` shows on its stderr; its return code,
    whole stderr and the seconds from Ctrl-C to exit."""
    env = dict(os.environ)
    env['ROS_DOMAIN_ID'] = str((int(env.get('ROS_DOMAIN_ID', '0')) + domain_offset) % 232)
    # In a session of its own, so that Ctrl-C can go to its whole process group as a terminal's
    # does (the simulated cell's processes too) and not to the test runner.
    run = subprocess.Popen(
        [*CLI, '永', '--out', str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    stderr = bytearray()
    try:
        deadline = time.monotonic() + 200.0
        while marker not in stderr:
            assert time.monotonic() < deadline and run.poll() is None, stderr[-2000:]
            stderr += os.read(run.stderr.fileno(), 4096)
        os.killpg(run.pid, signal.SIGINT)
        interrupted = time.monotonic()
        _, rest = run.communicate(timeout=60.0)
        waited_s = time.monotonic() - interrupted
    finally:
        if run.poll() is None:
            run.kill()
    return run, bytes(stderr + rest), waited_s


@pytest.mark.timeout(300)
def test_ctrl_c_cancels_lifts_the_brush_and_keeps_what_was_written(tmp_path):
    # The progress bar on stderr tells when the second stroke is being written.
    run, stderr, waited_s = _interrupt_when(tmp_path, 152, b'stroke 2/5 executing')
    assert run.returncode == 130, stderr[-2000:]
    assert b'interrupted' in stderr and b'the brush lifted' in stderr
    assert waited_s < 30.0, f'{waited_s:.1f} s from Ctrl-C to exit'
    report = json.loads((tmp_path / 'report.json').read_text())
    assert report['error_code'] == 20 and not report['success']  # WriteText CANCELED
    assert report['characters'] == []  # 永 was not finished
    assert 'canceled' in report['error_msg'], report['error_msg']
    # The first stroke, 永's dot (about 500 px at 0.25 mm/px), stays on the saved sheet.
    sheet = cv2.imread(str(tmp_path / 'paper.png'), cv2.IMREAD_GRAYSCALE)
    assert np.count_nonzero(sheet < 128) > 200


@pytest.mark.timeout(300)
def test_write_reports_bad_input_with_a_message_and_a_non_zero_exit(tmp_path):
    # Refused before the cell comes up: one line on stderr, exit 2, in seconds.
    zero_ink, typo = tmp_path / 'zero_ink.yaml', tmp_path / 'typo.yaml'
    zero_ink.write_text('brush:\n  ink_capacity_m2: 0\n')
    typo.write_text('brush:\n  belly_diameter: 0.01\n')
    for args, message in (
        ([''], 'the text is empty'),
        (['一', '--size-mm', '-5'], '--size-mm must be positive'),
        (['一', '--size-mm', 'nan'], '--size-mm must be positive'),
        (['一', '--size-mm', 'inf'], '--size-mm must be positive'),
        (['一', '--timeout-s', '0'], '--timeout-s must be a positive number of seconds'),
        (['一', '--timeout-s', '-1'], '--timeout-s must be a positive number of seconds'),
        (['一', '--timeout-s', 'nan'], '--timeout-s must be a positive number of seconds'),
        (['一', '--out', '/proc/x'], '--out /proc/x: cannot write there'),
        (['一', '--out', '/etc/hostname'], '--out /etc/hostname: cannot write there'),
        (['一', '--out', '/dev/null/x'], '--out /dev/null/x: cannot write there'),
        (['一', '--out', '/proc/self'], '--out /proc/self: cannot write there'),  # read-only
        (['一', '--brush-file', str(zero_ink)], 'ink_capacity_m2 must be a positive'),
        (['一', '--brush-file', str(typo)], 'unknown brush parameter(s) belly_diameter'),
        (['一', '--brush-file', str(tmp_path / 'none.yaml')], 'cannot read it'),
        (['一', '--brush-file', str(typo), '--brush-seed', '1'], 'give one'),
        (['一', '--model', str(tmp_path / 'none.onnx')], 'none.onnx: no such file'),
    ):
        if '--out' not in args:
            args = [*args, '--out', str(tmp_path / 'refused')]
        started = time.monotonic()
        run = _write(*args, timeout_s=60.0)
        took_s = time.monotonic() - started
        assert run.returncode == 2 and message in run.stderr, (args, run.stderr[-2000:])
        assert run.stderr.count('\n') == 1, f'{args}: not one line: {run.stderr[-2000:]}'
        assert took_s < 30.0, f'{args}: {took_s:.1f} s to refuse (did the cell come up?)'

    # A character the font lacks: the cell comes up, the writer refuses it with its code, and
    # the report says so.
    run = _write('\U0001fae0', '--out', str(tmp_path))
    assert run.returncode == 1, run.stderr[-2000:]
    assert 'calligraphy write: error:' in run.stderr and '(code ' in run.stderr
    report = json.loads((tmp_path / 'report.json').read_text())
    assert not report['success'] and report['error_code'] != 0 and report['error_msg']


@pytest.mark.timeout(300)
def test_timeout_cancels_saves_what_was_written_and_exits_1_without_an_abort(tmp_path):
    # 永永永永 takes 30 s or more to write (one 永 8-9 s, observed once from the clear view);
    # 10 s into the goal the first strokes are on the sheet.
    env = dict(os.environ)
    env['ROS_DOMAIN_ID'] = str((int(env.get('ROS_DOMAIN_ID', '0')) + 153) % 232)
    run = subprocess.Popen(
        [*CLI, '永永永永', '--timeout-s', '10', '--out', str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        stdout, stderr = run.communicate(timeout=240.0)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 1, stderr[-3000:]
    assert 'terminate called' not in stderr and 'Traceback' not in stderr, stderr[-3000:]
    (message,) = [line for line in stderr.splitlines() if 'calligraphy write: error:' in line]
    assert 'timed out after 10 s (--timeout-s)' in message and 'the brush lifted' in message
    assert str((tmp_path / 'paper.png').resolve()) in stdout
    assert _cell_processes(run.pid) == [], 'processes of the cell left running'

    report = json.loads((tmp_path / 'report.json').read_text())
    assert report['status'] == 'timed_out' and report['timed_out'] and not report['success']
    assert 'within 10 s' in report['error_msg'] and report['error_code'] == 20  # CANCELED
    assert report['character_count'] == 4 and report['characters_written'] < 4
    assert report['warnings'] == []
    # What was written before the timeout is on the saved sheet and in the animation.
    sheet = cv2.imread(str(tmp_path / 'paper.png'), cv2.IMREAD_GRAYSCALE)
    assert np.count_nonzero(sheet < 128) > 200, 'no ink on the saved sheet'
    with Image.open(tmp_path / 'writing.gif') as animation:
        assert animation.n_frames >= 2


@pytest.mark.timeout(300)
def test_ctrl_c_during_start_up_exits_130_without_a_traceback_or_processes_left(tmp_path):
    # The planner is up (the cell's nodes are being started); nothing has been written yet.
    run, stderr, waited_s = _interrupt_when(tmp_path, 154, b'serving /plan_strokes')
    assert run.returncode == 130, stderr[-2000:]
    assert b'Traceback' not in stderr and b'Exception in thread' not in stderr, stderr[-3000:]
    assert b'terminate called' not in stderr, stderr[-2000:]
    assert waited_s < 30.0, f'{waited_s:.1f} s from Ctrl-C to exit'
    assert _cell_processes(run.pid) == [], 'processes of the cell left running'
