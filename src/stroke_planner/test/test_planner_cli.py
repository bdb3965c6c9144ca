"""`calligraphy plan` as a user runs it."""

from __future__ import annotations

import json

import cv2

from calligraphy_ros_kit.cli import main


def test_plan_prints_and_saves_figures_and_picture(tmp_path, capsys):
    out_json, out_png = tmp_path / 'plan.json', tmp_path / 'plan.png'
    status = main(['plan', '永 A', '--json', str(out_json), '--png', str(out_png)])
    assert status == 0
    printed = capsys.readouterr().out
    assert 'stroke_data' in printed and 'skeleton' in printed
    rows = json.loads(out_json.read_text())['characters']
    assert [r['char'] for r in rows] == ['永', 'A']
    assert set(rows[0]) == {'char', 'source', 'strokes', 'ceiling_iou', 'plan_ms'}
    assert rows[0]['strokes'] == 5 and rows[0]['source'] == 'stroke_data'
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
