"""`calligraphy calibrate`: the cell description it writes, and bad input refused with a clear
error and nothing overwritten."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from calligraphy_bringup.calibration_common import update_cell_text, update_urdf_text
from calligraphy_model.cell_description import (
    default_cell_yaml_path,
    default_urdf_path,
    fixed_pose_in_base,
    load_cell_yaml,
)


def _calibrate(*args: str, timeout_s: float = 240.0) -> subprocess.CompletedProcess:
    command = [sys.executable, '-m', 'calligraphy_ros_kit.cli', 'calibrate', *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout_s, env=dict(os.environ)
    )


def test_the_written_cell_description_moves_the_sheet_and_keeps_the_rest():
    text = default_cell_yaml_path().read_text()
    fields = {
        'xyz_m': [0.302, 0.1461, 0.0021],
        'rpy_rad': [0.0, 0.0, -1.55],
        'quaternion_xyzw': [0.0, 0.0, -0.7, 0.714],
    }
    updated = update_cell_text(text, fields)
    cell, before = yaml.safe_load(updated), yaml.safe_load(text)
    assert cell['paper']['xyz_m'] == fields['xyz_m']
    assert cell['paper']['rpy_rad'] == fields['rpy_rad']
    assert {k: v for k, v in cell.items() if k != 'paper'} == {
        k: v for k, v in before.items() if k != 'paper'
    }
    assert cell['paper']['width_m'] == before['paper']['width_m']
    assert updated.count('#') == text.count('#')  # comments kept
    pose = fixed_pose_in_base(cell, 'paper')
    assert pose[:3, 3].tolist() == fields['xyz_m']
    urdf = update_urdf_text(default_urdf_path().read_text(), fields['xyz_m'], fields['rpy_rad'])
    assert 'xyz="0.302 0.1461 0.0021" rpy="0.0 0.0 -1.55"' in urdf


def test_bad_command_lines_exit_2_before_anything_starts(tmp_path):
    result = _calibrate('--timeout-s', '-1', '--out', str(tmp_path), timeout_s=60)
    assert result.returncode == 2
    assert '--timeout-s must be a positive number' in result.stderr
    result = _calibrate('--cell-yaml', str(tmp_path / 'none.yaml'), '--out', str(tmp_path))
    assert result.returncode == 2 and 'no such file' in result.stderr
    assert not (tmp_path / 'calibration.json').exists()


def test_a_camera_that_sees_no_marker_fails_clearly_and_overwrites_nothing(tmp_path):
    cell = load_cell_yaml()
    cell['camera_color_optical_frame']['xyz_m'] = [0.405, 0.55, 0.751]  # over the bare table
    cell_yaml = tmp_path / 'cell.yaml'
    cell_yaml.write_text(yaml.safe_dump(cell))
    original = cell_yaml.read_text()
    out = tmp_path / 'out'
    result = _calibrate(
        '--sim', '--cell-yaml', str(cell_yaml), '--write-cell', '--out', str(out),
        '--timeout-s', '60',
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-2000:]
    assert "of the sheet's 4 markers (need 3" in result.stderr
    report = json.loads((out / 'calibration.json').read_text())
    assert report['status'] == 'failed' and 'markers' in report['error']
    assert cell_yaml.read_text() == original
    assert not (out / 'cell.yaml').exists() and not (out / 'brush.yaml').exists()
