"""`calligraphy write`'s checks and report, without bringing the cell up: the command line is
refused before anything starts, and the report and output say how the run ended and what the
writer warned about."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from calligraphy_bringup.write_cmd import _usage_error
from calligraphy_bringup.write_report import announce, build_report
from calligraphy_bringup.write_watch import MotionClock


def _args(out: Path, size_mm: float = 0.0, timeout_s: float = 900.0) -> argparse.Namespace:
    return argparse.Namespace(
        out=out, size_mm=size_mm, timeout_s=timeout_s, brush_file=None, brush_seed=None,
        model=None, param=[],
    )  # fmt: skip


def _result(**fields):
    values = dict(
        success=False, error_code=20, error_msg='canceled after 2 strokes', characters=['永'],
        scores=[SimpleNamespace(iou=0.81234)], stroke_counts=[5], character_dips=[1],
        characters_written=1, character_count=2, warnings=[], CANCELED=20,
    )  # fmt: skip
    values.update(fields)
    return SimpleNamespace(**values)


@pytest.mark.parametrize(
    ('size_mm', 'timeout_s', 'message'),
    [
        (-5.0, 900.0, '--size-mm must be positive'),
        (math.nan, 900.0, '--size-mm must be positive'),
        (math.inf, 900.0, '--size-mm must be positive'),
        (0.0, 0.0, '--timeout-s must be a positive number of seconds, got 0'),
        (0.0, -1.0, '--timeout-s must be a positive number of seconds, got -1'),
        (0.0, math.nan, '--timeout-s must be a positive number of seconds, got nan'),
    ],
)
def test_sizes_and_timeouts_that_are_not_positive_numbers_are_refused(
    tmp_path, size_mm, timeout_s, message
):
    assert message in _usage_error(_args(tmp_path, size_mm, timeout_s), '永')


@pytest.mark.parametrize('out', ['/proc/x', '/etc/hostname', '/dev/null/x', '/proc/self'])
def test_an_output_folder_that_cannot_be_written_is_refused_in_one_line(out):
    problem = _usage_error(_args(Path(out)), '永')
    assert problem.startswith(f'--out {out}: cannot write there (') and '\n' not in problem


def test_a_writable_output_folder_is_created_with_its_observations_folder(tmp_path):
    assert _usage_error(_args(tmp_path / 'a' / 'b', 60.0, 8.0), '永') is None
    assert (tmp_path / 'a' / 'b' / 'observations').is_dir()
    assert list((tmp_path / 'a' / 'b').iterdir()) == [tmp_path / 'a' / 'b' / 'observations']


def test_a_timed_out_run_reports_what_was_written_and_that_it_timed_out():
    motion = SimpleNamespace(of=lambda index: {0: (12.345, 0.4)}.get(index, (0.0, 0.0)))
    report = build_report('永永', _result(), motion, 20.0, 31.4, 'no result within 8 s')
    assert report['status'] == 'timed_out' and report['timed_out'] and not report['success']
    assert report['error_msg'] == 'no result within 8 s (canceled after 2 strokes)'
    assert report['characters'] == [
        {
            'char': '永',
            'iou': 0.8123,
            'strokes': 5,
            'dips': 1,
            'motion_time_s': 12.35,
            'writing_share': 0.4,
        }
    ]
    assert report['characters_written'] == 1 and report['character_count'] == 2


def test_a_timed_out_run_without_a_result_still_reports():
    motion = SimpleNamespace(of=lambda index: (0.0, 0.0))
    report = build_report('永', None, motion, 50.0, math.nan, 'no result within 8 s')
    assert report['status'] == 'timed_out' and report['characters'] == []
    assert report['error_code'] is None and report['sim_time_s'] is None
    assert report['warnings'] == []


def test_the_writers_warnings_are_reported_and_printed_one_line_each(tmp_path, capsys):
    warnings = ['the camera was lost at stroke 3 of 永: the rest written open loop', 'ink low']
    result = _result(success=True, error_code=0, error_msg='', warnings=warnings)
    motion = SimpleNamespace(of=lambda index: (0.0, 0.0))
    report = build_report('永', result, motion, 20.0, 31.0, '')
    assert report['status'] == 'succeeded' and report['warnings'] == warnings
    announce(report, str(tmp_path / 'paper.png'), None, tmp_path)
    printed = capsys.readouterr().out.splitlines()
    assert [line for line in printed if line.startswith('warning: ')] == [
        f'warning: {warning}' for warning in warnings
    ]


class _Subscriptions:
    """Stands in for a node: keeps each subscription's callback by topic."""

    def __init__(self) -> None:
        self.callbacks = {}

    def create_subscription(self, _type, topic, callback, _qos):
        self.callbacks[topic] = callback


def test_robot_time_and_the_share_spent_writing_are_kept_per_character():
    from geometry_msgs.msg import PoseStamped

    node = _Subscriptions()
    clock = MotionClock(node)
    assert list(node.callbacks) == ['/brush_tip_pose'], 'one 400 Hz stream, not two'

    def at(seconds: float, x: float, tip_z: float) -> None:
        tip = PoseStamped()
        tip.header.stamp.sec = int(seconds)
        tip.header.stamp.nanosec = int(round((seconds % 1) * 1e9))
        tip.pose.position.x, tip.pose.position.z = x, tip_z
        node.callbacks['/brush_tip_pose'](tip)

    # Character 0: 1 s moving in the air (10 cm/s), then 3 s moving with the brush on the paper
    # (z < 0), then 2 s standing still (computation): 4 s of robot time, 75 % of it writing.
    times = np.round(np.arange(0.0, 6.001, 0.01), 2)
    for t in times:
        moving = t <= 4.0
        at(t, 0.1 * min(t, 4.0) if moving else 0.4, -0.001 if 1.0 <= t <= 4.0 else 0.01)
    moving_s, share = clock.of(0)
    assert moving_s == pytest.approx(4.0, abs=0.02)
    assert share == pytest.approx(0.75, abs=0.01)
    assert clock.of(1) == (0.0, 0.0)
    # Character 1: 0.5 s of travel in the air, then the brush pressed and held still for 1 s:
    # robot time 0.5 s, none of it writing (standing is not the robot's time).
    clock.character = 1
    for t in np.arange(601, 750) / 100:  # 6.01 ... 7.49 s
        at(t, 0.4 + 0.05 * min(t - 6.0, 0.5), -0.002 if t > 6.5 else 0.01)
    moving_s, share = clock.of(1)
    assert moving_s == pytest.approx(0.5, abs=0.02)
    assert share == pytest.approx(0.0, abs=0.05)
    # The robot time the report's sim_time_s counts: from the first tip pose to the newest.
    assert clock.last == pytest.approx(7.49)
    assert clock.elapsed_since(None) == pytest.approx(7.49)
    assert clock.elapsed_since(2.5) == pytest.approx(4.99)


def test_the_model_and_brush_options_are_checked_before_the_cell_and_named_in_the_report(
    tmp_path,
):
    import hashlib
    import shutil

    from brush_policy_node.runtime import SHIPPED_MODEL
    from calligraphy_bringup.write_inputs import WriteInputs

    missing = WriteInputs(None, None, tmp_path / 'none.onnx')
    assert missing.problem() == f'--model {tmp_path / "none.onnx"}: no such file'
    lonely = tmp_path / 'lonely.onnx'
    shutil.copy(SHIPPED_MODEL, lonely)
    assert 'its model card' in WriteInputs(None, None, lonely).problem()
    brush = tmp_path / 'brush.yaml'
    brush.write_text('brush:\n  streak_noise: 0.1\n')
    assert 'give one' in WriteInputs(3, brush, None).problem()

    # A copy of the shipped model with its card: run by path, named with both hashes.
    model = tmp_path / 'mine.onnx'
    shutil.copy(SHIPPED_MODEL, model)
    shutil.copy(SHIPPED_MODEL.with_name('brush_policy.card.json'), tmp_path / 'mine.card.json')
    inputs = WriteInputs(None, brush, model)
    assert inputs.problem() is None
    overrides = inputs.overrides()
    assert overrides['brush_policy_node'] == {'model_path': str(model.resolve())}
    assert overrides['virtual_paper_node']['brush.streak_noise'] == 0.1
    report = inputs.report()
    assert report['model']['shipped'] is False and report['model']['path'] == str(model)
    card_hash = hashlib.sha256((tmp_path / 'mine.card.json').read_bytes()).hexdigest()
    assert report['model']['card_sha256'] == card_hash
    assert report['simulated_brush']['streak_noise'] == 0.1

    # A model `calligraphy learn` trained around an identified brush: the writer starts from
    # that brush's width gain, says so, and an explicit parameter wins.
    card = json.loads((tmp_path / 'mine.card.json').read_text())
    card['identified_brush'] = {'prior_width_gain': 1.41}
    (tmp_path / 'mine.card.json').write_text(json.dumps(card))
    learned = WriteInputs(None, None, model)
    assert learned.problem() is None
    assert learned.overrides()['writer_node'] == {'prior_width_gain': 1.41}
    assert '1.41' in learned.notes[0] and learned.report()['parameters']['writer_node']
    told = WriteInputs(None, None, model, ['writer_node:prior_width_gain=1'], ('writer_node',))
    assert told.problem() is None and told.overrides()['writer_node'] == {'prior_width_gain': 1}
    assert not told.notes
    card['identified_brush'] = {'prior_width_gain': -1}
    (tmp_path / 'mine.card.json').write_text(json.dumps(card))
    assert 'bad prior_width_gain' in WriteInputs(None, None, model).problem()

    shipped = WriteInputs(None, None, None)
    assert shipped.problem() is None and shipped.overrides() == {}
    assert shipped.report()['model']['shipped'] is True
    assert shipped.report()['simulated_brush'] == 'nominal'


@pytest.mark.parametrize(
    ('param', 'message'),
    [
        ('motion_executor_node.limits=1', 'expected NODE:NAME=VALUE'),
        ('motion_executor_node:limits.joint_velocity_rad_s=', 'expected NODE:NAME=VALUE'),
        ('arm_node:publish_rate_hz=5.0', "no node 'arm_node' in the cell"),
        ('writer_node:hop_height_m=[1, 2', 'not valid YAML'),
        ('writer_node:hop_height_m={a: 1}', 'takes a number, text, bool or list'),
    ],
)
def test_a_malformed_node_parameter_is_refused_before_the_cell_comes_up(tmp_path, param, message):
    args = _args(tmp_path)
    args.param = [param]
    problem = _usage_error(args, '永')
    assert problem is not None and message in problem and '\n' not in problem


def test_node_parameters_reach_their_nodes_typed_as_yaml_and_are_named_in_the_report(tmp_path):
    args = _args(tmp_path)
    args.param = [
        'motion_executor_node:limits.joint_acceleration_rad_s2=4.0',
        'brush_policy_node:speed.nominal_mps=0.02',
        'writer_node:use_feedback=false',
        'writer_node:controller=analytic',
    ]
    assert _usage_error(args, '永') is None
    overrides = args.inputs.overrides()
    assert overrides['motion_executor_node'] == {'limits.joint_acceleration_rad_s2': 4.0}
    assert overrides['writer_node'] == {'use_feedback': False, 'controller': 'analytic'}
    assert isinstance(overrides['brush_policy_node']['speed.nominal_mps'], float)
    assert args.inputs.report()['parameters'] == overrides


def test_the_animation_shows_each_kept_sheet_in_its_colours(tmp_path):
    from PIL import Image

    from calligraphy_bringup.write_watch import SheetFrames

    frames = SheetFrames(_Subscriptions(), max_px=300)
    # A cream sheet gaining dark ink stroke by stroke, with every shade between at the edges.
    sheet = np.empty((210, 297, 3), np.uint8)
    sheet[:] = (250, 248, 242)
    shades = np.linspace(0.0, 1.0, 60)[:, None]
    ramp = np.rint((1 - shades) * (250, 248, 242) + shades * (18, 18, 20)).astype(np.uint8)
    for k in range(4):
        sheet[40 + 30 * k : 100 + 30 * k, 20 + 60 * k] = ramp
        sheet[50 + 30 * k : 60 + 30 * k, 30 + 60 * k : 60 + 60 * k] = (18, 18, 20)
        frames._add(sheet.copy())
    frames._add(sheet.copy())  # the same sheet again is not a new frame
    assert frames.save_gif(tmp_path / 'writing.gif')
    with Image.open(tmp_path / 'writing.gif') as animation:
        assert animation.n_frames == 4 and animation.info['loop'] == 0
        assert animation.info['duration'] == 250
        for k, kept in enumerate(frames.frames):
            animation.seek(k)
            shown = np.asarray(animation.convert('RGB'), int)
            assert np.abs(shown - kept).max() <= 6, k  # the sheet's colours, to a few levels
    assert not SheetFrames(_Subscriptions()).save_gif(tmp_path / 'none.gif')


def test_the_command_checks_its_options_and_starts_the_cell_before_importing_numpy_or_rclpy(
    tmp_path,
):
    # Everything `calligraphy write` imports before it starts the cell's processes delays the
    # camera's process, the last to be ready: numpy and YAML (0.12 s) come only after.
    import subprocess
    import sys

    code = (
        'import sys\n'
        'from calligraphy_ros_kit import cli\n'
        "args = cli.build_parser(only='write').parse_args(['write', '永', '--out', sys.argv[1]])\n"
        'from calligraphy_bringup.write_cmd import _overrides, _usage_error\n'
        "assert _usage_error(args, '永') is None\n"
        '_overrides(args)\n'
        'from calligraphy_bringup.cell_layout import config_path, spawn_groups\n'
        "config_path('sim')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'yaml', 'rclpy'}))\n"
    )
    run = subprocess.run(
        [sys.executable, '-c', code, str(tmp_path / 'out')],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == '[]', run.stdout


def test_the_sheet_is_saved_at_once_when_it_shows_the_end_and_again_once_the_paper_caught_up(
    monkeypatch, capsys
):
    from calligraphy_bringup import write_watch

    shows = [10.0]  # robot time of the newest tip pose the virtual paper has inked
    saves, waits = [], []

    def save_paper(node, path):
        saves.append(shows[0])
        return str(path), shows[0]

    monkeypatch.setattr(write_watch, 'save_paper', save_paper)

    class Frames:
        caught_up = True

        def wait_until_stamp(self, robot_time_s, timeout_s):
            waits.append(robot_time_s)
            if self.caught_up:
                shows[0] = robot_time_s + 0.01
            return self.caught_up

    frames = Frames()
    # The paper already shows the writing's end: one save, no wait.
    assert write_watch.save_sheet_as_of(None, frames, Path('/o/paper.png'), 9.5) == '/o/paper.png'
    assert saves == [10.0] and waits == []
    # Behind: wait for its image of the end, then save the sheet that shows it.
    write_watch.save_sheet_as_of(None, frames, Path('/o/paper.png'), 12.0)
    assert waits == [12.0] and saves[-1] == pytest.approx(12.01)
    # Never catching up: saved as it is, with a warning.
    frames.caught_up = False
    write_watch.save_sheet_as_of(None, frames, Path('/o/paper.png'), 20.0)
    assert len(saves) == 5 and 'had not caught up' in capsys.readouterr().err
