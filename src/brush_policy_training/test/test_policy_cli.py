"""`calligraphy eval` / `calligraphy train`: figures as JSON, bad input exits 2 with a message."""

from __future__ import annotations

import json
import subprocess


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(['calligraphy', *args], capture_output=True, text=True, timeout=120)


def test_eval_writes_the_evaluation_figures_and_a_contact_sheet(tmp_path):
    out = tmp_path / 'learned.json'
    done = _run(
        'eval',
        '--controller',
        'learned',
        '--chars',
        '永山',
        '--episodes',
        '4',
        '--seed',
        '2',
        '--json',
        str(out),
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    for key in (
        'controller',
        'episodes',
        'iou_mean',
        'iou_ci95',
        'ceiling_iou_mean',
        'chamfer_mm_mean',
        'width_err_mm_mean',
        'gap_closed',
    ):
        assert key in figures
    assert figures['episodes'] == 4
    assert figures['iou_ci95'][0] <= figures['iou_mean'] <= figures['iou_ci95'][1]
    assert 0.5 < figures['iou_mean'] <= figures['ceiling_iou_mean'] + 0.02
    assert out.with_suffix('.png').stat().st_size > 10_000


def test_eval_and_train_reject_bad_input_with_exit_2():
    done = _run('eval', '--controller', 'learned', '--episodes', '0')
    assert done.returncode == 2 and 'calligraphy eval: error: --episodes' in done.stderr
    done = _run('eval', '--controller', 'learned', '--model', '/nonexistent.onnx')
    assert done.returncode == 2 and 'does not exist' in done.stderr
    done = _run('train', '--config', '/nonexistent.json')
    assert done.returncode == 2 and 'config file not found' in done.stderr
