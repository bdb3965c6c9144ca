"""`calligraphy bench writer`: the whole simulated cell against the offline evaluation.

For each character: `calligraphy write CH --brush-seed S` on a fresh cell (a full brush, the brush
`calligraphy eval --seed S` draws for its first episode) and the offline evaluation of that
episode, `calligraphy eval --controller learned+feedback --mismatch --chars CH --episodes 1 --seed
S`, which scores both the learned policy told the brush's width gain and learned+feedback told the
nominal brush and corrected from the widths of its strokes (what the cell knows). Figures per
character and run: the IoU the writer reports (camera), the IoU of the virtual sheet itself in the
same box (what the offline evaluation scores: ink darkness >= 0.25 against the target glyph), the
offline IoU, their differences, the robot (simulated) time and the dips. Repeats give the run-to-
run spread.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from brush_policy_training.evaluation import INK_THRESHOLD, METRES_PER_PIXEL
from calligraphy_sim.paper import INK_RGB, PAPER_RGB  # pixel = paper·(1 − ink) + ink_rgb·ink


def sheet_ink(rgb: np.ndarray) -> np.ndarray:
    """Ink darkness 0..1 of a virtual sheet image (uint8 RGB, row 0 at the top of the sheet)."""
    ink = (PAPER_RGB - rgb.astype(np.float64)) / (PAPER_RGB - INK_RGB)
    return np.clip(ink.mean(axis=-1), 0.0, 1.0)


def box_raster(
    sheet: np.ndarray, box_x_m: float, box_y_m: float, size_m: float, sheet_height_m: float
) -> np.ndarray:
    """The part of a sheet raster (row 0 at the top, METRES_PER_PIXEL) inside a box."""
    n = int(round(size_m / METRES_PER_PIXEL))
    top = int(round((sheet_height_m - box_y_m - size_m) / METRES_PER_PIXEL))
    left = int(round(box_x_m / METRES_PER_PIXEL))
    return sheet[top : top + n, left : left + n]


def sheet_iou(rgb: np.ndarray, character: str, font: str = 'ukai') -> float:
    """IoU of the ink on a fresh sheet's first cell against the character's target glyph."""
    from calligraphy_model.scoring import iou
    from calligraphy_writer.config import WriterConfig
    from calligraphy_writer.sheet_grid import SheetGrid
    from stroke_planner import plan_character, target_mask

    config = WriterConfig()
    box = SheetGrid(config).next_free(config.size_m)
    plan = plan_character(character, font, box.x_m, box.y_m, box.size_m)
    target = target_mask(plan, METRES_PER_PIXEL)
    written = box_raster(sheet_ink(rgb), box.x_m, box.y_m, box.size_m, config.sheet_height_m)
    return iou(target, written >= INK_THRESHOLD)


def _calligraphy(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, '-m', 'calligraphy_ros_kit.cli', *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def write_once(character: str, seed: int, folder: Path) -> dict:
    import cv2

    run = _calligraphy('write', character, '--brush-seed', str(seed), '--out', str(folder))
    report_path = folder / 'report.json'
    if not report_path.exists():
        return {'error': (run.stderr or run.stdout)[-300:]}
    report = json.loads(report_path.read_text())
    entry = report['characters'][0] if report['characters'] else {}
    sheet = cv2.cvtColor(cv2.imread(str(folder / 'paper.png')), cv2.COLOR_BGR2RGB)
    # A character that failed half-way is no figure of the writing: kept out of the spread.
    written = report['success'] and entry
    return {
        'cell_iou': entry.get('iou'),
        'sheet_iou': round(sheet_iou(sheet, character), 4) if written else None,
        'sim_time_s': report['sim_time_s'] if written else None,
        'wall_s': report['duration_s'],
        'dips': entry.get('dips'),
        'error': report['error_msg'] or None,
    }


def offline_ious(character: str, seed: int) -> tuple[float, float]:
    """The offline evaluation of the character's first episode (`calligraphy eval --controller
    learned+feedback --mismatch --episodes 1 --seed S`): the learned policy told the brush (as the
    issue's target compares) and, told the nominal brush, corrected by the width gain estimated
    from its strokes, which is what the cell knows. One run gives both."""
    from brush_policy_node.config import FEEDBACK, ControllerConfig
    from brush_policy_node.runtime import build_controllers
    from brush_policy_training.evaluation import evaluate

    controllers = build_controllers(ControllerConfig(), 'learned', '')
    figures = evaluate(controllers, FEEDBACK, character, 1, seed, mismatch=True)
    return float(figures['iou_told']), float(figures['iou_mean'])


def _spread(values: list) -> dict:
    finite = [v for v in values if v is not None]
    if not finite:
        return {'mean': None, 'min': None, 'max': None}
    return {
        'mean': round(float(np.mean(finite)), 4),
        'min': round(min(finite), 4),
        'max': round(max(finite), 4),
    }


def measure_cell_against_offline(
    quick: bool, chars: str = '永十', seed: int = 0, repeats: int = 3
) -> dict:
    """IoU of the simulated cell (camera and sheet) against the offline evaluation, per
    character; `quick` writes each character once."""
    repeats = 1 if quick else repeats
    figures: dict = {'chars': chars, 'seed': seed, 'repeats': repeats}
    with tempfile.TemporaryDirectory(prefix='bench-writer-') as tmp:
        for character in chars:
            folder = Path(tmp) / f'U+{ord(character):04X}'
            offline, offline_feedback = offline_ious(character, seed)
            runs = [write_once(character, seed, folder / str(k)) for k in range(repeats)]
            cell = [r.get('cell_iou') for r in runs]
            sheet = [r.get('sheet_iou') for r in runs]
            summary = {
                'offline_iou': round(offline, 4),
                'offline_feedback_iou': round(offline_feedback, 4),
                'cell_iou': _spread(cell),
                'sheet_iou': _spread(sheet),
                'sim_time_s': _spread([r.get('sim_time_s') for r in runs]),
                'runs': runs,
            }
            mean_cell = summary['cell_iou']['mean']
            mean_sheet = summary['sheet_iou']['mean']
            # cell − offline = (camera − sheet scoring) + (sheet − offline: arm, feedback, ink).
            summary['cell_minus_offline'] = (
                None if mean_cell is None else round(mean_cell - offline, 4)
            )
            summary['sheet_minus_offline'] = (
                None if mean_sheet is None else round(mean_sheet - offline, 4)
            )
            summary['cell_minus_offline_feedback'] = (
                None if mean_cell is None else round(mean_cell - offline_feedback, 4)
            )
            figures[character] = summary
    return figures
