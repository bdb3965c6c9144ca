"""`calligraphy plan` as a user runs it."""

from __future__ import annotations

import json

import cv2
import numpy as np

from calligraphy_ros_kit.cli import main
from stroke_planner.stroke_data import data_dir


def test_plan_prints_and_saves_figures_and_picture(tmp_path, capsys):
    out_json, out_png = tmp_path / 'plan.json', tmp_path / 'plan.png'
    status = main(['plan', '永 A', '--json', str(out_json), '--png', str(out_png)])
    assert status == 0
    printed = capsys.readouterr().out
    assert 'stroke_data' in printed and 'skeleton' in printed
    rows = json.loads(out_json.read_text())['characters']
    assert [r['char'] for r in rows] == ['永', 'A']
    assert set(rows[0]) == {
        'char',
        'font',
        'source',
        'strokes',
        'ceiling_iou',
        'plan_ms',
        'stroke_order_accuracy',
        'match_confidence',
        'fallback_reason',
        'data_to_box',
        'centrelines',
    }
    assert rows[0]['strokes'] == 5 and rows[0]['source'] == 'stroke_data'
    assert rows[0]['stroke_order_accuracy'] == 1.0 and rows[1]['stroke_order_accuracy'] is None
    assert rows[0]['ceiling_iou'] > 0.85 and rows[0]['plan_ms'] > 0.0
    image = cv2.imread(str(out_png))
    assert image.shape == (480, 960, 3)
    # Coloured stroke lines are drawn over the grey glyph.
    saturation = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)[:, :, 1]
    assert (saturation > 100).sum() > 2000


def test_plan_reports_bad_input_with_exit_status_2(tmp_path, capsys):
    broken = tmp_path / 'broken.otf'
    broken.write_bytes(b'\x00' * 64)
    cases = [
        (['plan', ''], 'empty'),
        (['plan', '永', '--size-mm', '900'], '900 mm'),
        (['plan', '永', '--font', str(broken)], 'cannot read font file'),
        (['plan', '永', '--font', 'hershey'], 'no glyph'),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        error = capsys.readouterr().err
        assert error.startswith('calligraphy plan: error: ') and message in error


def test_plan_json_lets_anyone_check_the_order_in_another_font(tmp_path, capsys):
    font = '/usr/share/fonts/truetype/cwtex/cwkai.ttf'  # fonts-cwtex-kai (scripts/setup.sh)
    out_json = tmp_path / 'plan.json'
    assert main(['plan', '十这丮', '--font', font, '--json', str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert "这: font '" in printed and "丮: no stroke-order data for '丮'" in printed
    shi, zhe, rare = json.loads(out_json.read_text())['characters']
    assert shi['font'] == font and shi['source'] == 'stroke_data'
    assert shi['stroke_order_accuracy'] == 1.0 and shi['fallback_reason'] == ''
    assert shi['match_confidence'] > 0.9 and np.shape(shi['data_to_box']) == (2, 3)
    # From outside: the data's median k, put in the glyph's frame, is nearest planned stroke k.
    data = json.loads((data_dir() / '十.json').read_text(encoding='utf-8'))['medians']
    affine = np.array(shi['data_to_box'])
    for k, median in enumerate(data):
        unit = np.array(median, float) / 1024.0 + [0.0, 124.0 / 1024.0]
        reference = unit @ affine[:, :2].T + affine[:, 2]
        gaps = [
            np.linalg.norm(np.array(line)[:, None] - reference[None], axis=2).min(axis=0).mean()
            for line in shi['centrelines']
        ]
        assert int(np.argmin(gaps)) == k and gaps[k] < 0.03
        start, end = np.array(shi['centrelines'][k])[[0, -1]]
        assert np.linalg.norm(start - reference[0]) < np.linalg.norm(start - reference[-1])
    assert zhe['font'] == 'ukai' and 'has no glyph' in zhe['fallback_reason']
    assert rare['source'] == 'skeleton' and rare['stroke_order_accuracy'] is None
    assert rare['match_confidence'] is None and rare['data_to_box'] is None
    assert len(rare['centrelines']) == rare['strokes']
