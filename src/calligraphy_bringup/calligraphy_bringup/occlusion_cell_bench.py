"""`calligraphy bench occlusion`: what a camera seeing the arm does to the writing, side by side.

For each character and brush seed, `calligraphy write CH --brush-seed S` (a brush off the nominal,
which the feedback must correct) runs on a fresh cell in three settings:

- `blind_to_arm`: the simulated camera does not draw the arm (as before issue 16 item 6);
- `hover`: it draws the arm and the brush waits 10 mm over the stroke's end while observed;
- `clear_view`: it draws the arm and the writer moves the brush out of the camera's way first;
- `clear_view_per_character`: as `clear_view`, observing after each character's last stroke only.

Figures per run: the IoU of the virtual sheet itself (the truth, as `bench writer` scores it), the
IoU the writer reports (what the camera made of it), the robot time and the wall time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np


def _params(render_arm: bool, observe_from: str, every_stroke: bool) -> list[str]:
    # Every setting spelled out: config/sim.yaml's own choice must not leak into the others.
    return [
        '--param', f'sim_camera_node:render_arm={str(render_arm).lower()}',
        '--param', f'writer_node:observe_from={observe_from}',
        '--param', f'writer_node:feedback_every_stroke={str(every_stroke).lower()}',
    ]  # fmt: skip


SETTINGS = {
    'blind_to_arm': _params(False, 'hover', True),
    'hover': _params(True, 'hover', True),
    'clear_view': _params(True, 'clear_view', True),
    'clear_view_per_character': _params(True, 'clear_view', False),
}


def _write(character: str, seed: int, extra: list[str], out: Path) -> dict:
    from calligraphy_bringup.writer_bench import sheet_iou

    command = [
        sys.executable, '-m', 'calligraphy_ros_kit.cli', 'write', character,
        '--brush-seed', str(seed), '--out', str(out), *extra,
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=900)
    report_path = out / 'report.json'
    if run.returncode != 0 or not report_path.exists():
        return {'error': run.stderr[-500:]}
    report = json.loads(report_path.read_text())
    rgb = cv2.cvtColor(cv2.imread(str(out / 'paper.png')), cv2.COLOR_BGR2RGB)
    entry = report['characters'][0] if report.get('characters') else {}
    camera_iou = entry.get('iou')
    return {
        'sheet_iou': float(sheet_iou(rgb, character)),
        'camera_iou': float(camera_iou) if camera_iou is not None else float('nan'),
        'robot_time_s': float(entry.get('motion_time_s', float('nan'))),
        'wall_s': float(report.get('duration_s', float('nan'))),
        'warnings': report.get('warnings', []),
    }


def run(chars: str, seeds: list[int]) -> dict:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for character in chars:
            for seed in seeds:
                for name, extra in SETTINGS.items():
                    out = Path(tmp) / f'{ord(character)}_{seed}_{name}'
                    row = {'character': character, 'seed': seed, 'setting': name}
                    row.update(_write(character, seed, extra, out))
                    rows.append(row)
                    print(json.dumps(row, ensure_ascii=False), flush=True)
    summary = {}
    for name in SETTINGS:
        done = [r for r in rows if r['setting'] == name and 'error' not in r]
        summary[name] = {
            'runs': len(done),
            'failed': sum(1 for r in rows if r['setting'] == name and 'error' in r),
            **{
                key: float(np.nanmean([r[key] for r in done])) if done else float('nan')
                for key in ('sheet_iou', 'camera_iou', 'robot_time_s', 'wall_s')
            },
            'camera_error': float(
                np.nanmean([abs(r['camera_iou'] - r['sheet_iou']) for r in done])
            )
            if done
            else float('nan'),
        }
    return {'summary': summary, 'rows': rows}


def measure_occlusion(quick: bool, chars: str = '') -> dict:
    """The three settings side by side on `chars` (default 永東風; --quick: 永) with brush seeds
    1 and 2 (--quick: 1)."""
    chars = ''.join(chars.split()) or ('永' if quick else '永東風')
    result = run(chars, [1] if quick else [1, 2])
    for name, s in result['summary'].items():
        print(
            f'{name:<13} {s["runs"]} runs ({s["failed"]} failed): sheet IoU {s["sheet_iou"]:.3f}, '
            f'camera IoU {s["camera_iou"]:.3f} (|camera - sheet| {s["camera_error"]:.3f}), robot '
            f'time {s["robot_time_s"]:.2f} s, wall {s["wall_s"]:.1f} s'
        )
    return result
