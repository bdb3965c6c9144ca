"""`calligraphy bench speed`: robot time per character and per stroke, and the writing quality the
camera scores, for the cell's settings and for the settings before the speed work, side by side.

Each setting writes the held-out characters (brush_policy_training's test list; `quick`: 永十春)
with `calligraphy write`, at most a sheet (8 characters of 60 mm) per run, on a fresh simulated
cell each time. Both settings run in the same invocation, alternating sheet by sheet, so that
machine load affects them alike. Figures per setting: the robot time of 永, per stroke (the arm's
moving time including its share of the dips, over the strokes written), the share of it spent
writing, the mean IoU the camera reports and its 95 % CI over characters, dips, and the wall time.

The baseline (`before`) is the motion limits and writing speeds the cell had before: 20 mm/s
nominal writing (8-40 mm/s for the policy), descents and lifts at 0.15 m/s and 1 m/s^2, travel at
1 rad/s and 4 rad/s^2, dips with two wipes at 0.12 m/s (0.06 m/s over the rim) from 40 mm, one
motion goal per stroke. It runs the same policy model, so the comparison is of speed alone (the
dip routine's shorter way in and out of the well is code, not a setting: both have it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from calligraphy_model.scoring import mean_ci95

QUICK_CHARS = '永十春'
SHEET_CHARS = 8  # 4 x 2 boxes of 60 mm on the A4 sheet with the writer's margins

BEFORE = {
    'brush_policy_node': {
        'speed.nominal_mps': 0.02,
        'speed.min_mps': 0.008,
        'speed.max_mps': 0.04,
    },
    'motion_executor_node': {
        'limits.vertical_speed_m_s': 0.15,
        'limits.vertical_acceleration_m_s2': 1.0,
        'limits.vertical_jerk_m_s3': 20.0,
        'limits.joint_velocity_rad_s': 1.0,
        'limits.joint_acceleration_rad_s2': 4.0,
        'limits.joint_jerk_rad_s3': 40.0,
    },
    'ink_dipping_node': {
        'dip.wipe_count': 2,
        'dip.travel_speed_m_s': 0.12,
        'dip.wipe_speed_m_s': 0.06,
        'dip.safe_height_m': 0.04,
    },
    'writer_node': {'chain_strokes': False},
}
SETTINGS = {'now': {}, 'before': BEFORE}


def _param_args(params: dict[str, dict]) -> list[str]:
    args = []
    for node, values in params.items():
        for name, value in values.items():
            args += ['--param', f'{node}:{name}={json.dumps(value)}']
    return args


def write_sheet(text: str, params: dict[str, dict], folder: Path) -> dict:
    """`calligraphy write TEXT` with `params`; the report's characters, or the error."""
    command = [
        sys.executable,
        '-m',
        'calligraphy_ros_kit.cli',
        'write',
        text,
        '--out',
        str(folder),
    ]
    started = time.monotonic()
    run = subprocess.run(
        command + _param_args(params), capture_output=True, text=True, timeout=1800
    )
    wall = time.monotonic() - started
    report_path = folder / 'report.json'
    if not report_path.exists():
        return {'error': (run.stderr or run.stdout)[-400:], 'wall_s': wall, 'characters': []}
    return sheet_result(json.loads(report_path.read_text()), wall)


def sheet_result(report: dict, wall_s: float) -> dict:
    """One sheet's report.json with the run's error and its whole wall time (`wall_s`, seconds;
    the report's own `wall_s` breakdown is kept as `wall_breakdown_s`)."""
    result = dict(report)
    result['wall_breakdown_s'] = result.pop('wall_s', None)
    result.update(error=report.get('error_msg') or None, wall_s=wall_s)
    return result


def summarise(characters: list[dict], wall_s: float) -> dict:
    """Robot time and quality over the characters written (report.json entries)."""
    written = [c for c in characters if c.get('strokes')]
    strokes = sum(c['strokes'] for c in written)
    moving = sum(c['motion_time_s'] for c in written)
    writing = sum(c['motion_time_s'] * c['writing_share'] for c in written)
    ious = [c['iou'] for c in written if c.get('iou') is not None]
    mean, low, high = mean_ci95(np.asarray(ious)) if ious else (None, None, None)
    yong = next((c for c in written if c['char'] == '永'), None)
    return {
        'characters': len(written),
        'strokes': strokes,
        'robot_s_per_stroke': round(moving / strokes, 3) if strokes else None,
        'writing_share': round(writing / moving, 3) if moving else None,
        'iou_mean': None if mean is None else round(mean, 4),
        'iou_ci95': None if mean is None else [round(low, 4), round(high, 4)],
        'dips': sum(c.get('dips', 0) for c in written),
        'yong_robot_s': yong and yong['motion_time_s'],
        'yong_iou': yong and yong.get('iou'),
        'wall_s': round(wall_s, 1),
    }


def measure_speed(quick: bool, chars: str = '') -> dict:
    """The figures of both settings on the held-out characters, or on `chars` (see the module
    docstring)."""
    from brush_policy_training.characters import test_characters

    chars = ''.join(chars.split()) or (QUICK_CHARS if quick else test_characters())
    sheets = [chars[i : i + SHEET_CHARS] for i in range(0, len(chars), SHEET_CHARS)]
    runs: dict[str, list[dict]] = {name: [] for name in SETTINGS}
    with tempfile.TemporaryDirectory(prefix='bench-speed-') as tmp:
        for k, text in enumerate(sheets):
            for name, params in SETTINGS.items():
                runs[name].append(write_sheet(text, params, Path(tmp) / f'{name}-{k}'))
    figures: dict = {'chars': chars, 'before': BEFORE}
    for name, sheet_runs in runs.items():
        characters = [c for run in sheet_runs for c in run['characters']]
        summary = summarise(characters, sum(run['wall_s'] for run in sheet_runs))
        summary['errors'] = [run['error'] for run in sheet_runs if run['error']]
        summary['per_character'] = [
            {k: c.get(k) for k in ('char', 'iou', 'strokes', 'dips', 'motion_time_s')}
            for c in characters
        ]
        figures[name] = summary
    now, before = figures['now'], figures['before']
    if now['robot_s_per_stroke'] and before['robot_s_per_stroke']:
        figures['speed_up'] = round(before['robot_s_per_stroke'] / now['robot_s_per_stroke'], 2)
    if now['iou_mean'] is not None and before['iou_mean'] is not None:
        figures['iou_change'] = round(now['iou_mean'] - before['iou_mean'], 4)
    return figures
