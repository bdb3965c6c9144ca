"""What `calligraphy write` reports: report.json's content and the summary it prints."""

from __future__ import annotations

import math
from pathlib import Path


def build_report(text: str, result, motion, duration_s: float, sim_time_s: float, timed_out: str):
    """report.json's content. `result` is the WriteText result (None when a goal that timed out
    gave none back after its cancel); `timed_out` the timeout's message, or empty."""
    names = ('characters', 'scores', 'stroke_counts', 'character_dips')
    columns = [getattr(result, name, []) for name in names] if result is not None else [[]] * 4
    warnings = [str(warning) for warning in getattr(result, 'warnings', [])]
    characters = [
        {
            'char': char,
            'iou': round(score.iou, 4) if math.isfinite(score.iou) else None,
            'strokes': int(strokes),
            'dips': int(dips),
            'motion_time_s': round(motion.of(index)[0], 2),
            'writing_share': round(motion.of(index)[1], 3),
        }
        for index, (char, score, strokes, dips) in enumerate(zip(*columns, strict=False))
    ]
    if result is None:
        status, code, message = 'timed_out', None, timed_out
    else:
        code, message = int(result.error_code), result.error_msg
        if timed_out:
            status, message = 'timed_out', f'{timed_out} ({result.error_msg})'
        elif result.success:
            status = 'succeeded'
        elif result.error_code == result.CANCELED:
            status = 'interrupted'
        else:
            status = 'failed'
    return {
        'text': text,
        'status': status,
        'characters': characters,
        'characters_written': len(characters),
        'character_count': int(result.character_count) if result is not None else None,
        'duration_s': round(duration_s, 2),
        'sim_time_s': round(sim_time_s, 2) if math.isfinite(sim_time_s) else None,
        'success': bool(result is not None and result.success),
        'timed_out': bool(timed_out),
        'error_code': code,
        'error_msg': message,
        'warnings': warnings,
    }


def announce(report: dict, paper: str, animation: Path | None, out: Path) -> None:
    """Print what was written, every warning of the writer, and where the files are."""
    for entry in report['characters']:
        iou, strokes, dips = entry['iou'], entry['strokes'], entry['dips']
        print(
            f'  {entry["char"]}  IoU {iou}  strokes {strokes}  dips {dips}  '
            f'arm moving {entry["motion_time_s"]} s, writing {entry["writing_share"]:.0%} of it'
        )
    for warning in report['warnings']:
        print(f'warning: {warning}')
    print(f'sheet:     {paper}')
    if animation is not None:
        print(f'animation: {animation}')
    print(f'report:    {(out / "report.json").resolve()}')


def wall_breakdown(started: float, marks: dict[str, float], ended: float) -> dict[str, float]:
    """Seconds spent bringing the cell up (until the camera saw the sheet), writing, saving the
    sheet, stopping the cell, and encoding the animation; a stage not reached is left out."""
    stages, previous, spent = ('cell_up', 'written', 'saved', 'stopped'), started, {}
    for stage in stages:
        if stage in marks:
            spent[stage] = round(marks[stage] - previous, 2)
            previous = marks[stage]
    spent['animated'] = round(ended - previous, 2)
    return {
        'cell_start': spent.get('cell_up'),
        'writing': spent.get('written'),
        'saving': spent.get('saved'),
        'stopping': spent.get('stopped'),
        'animation': spent['animated'],
    }
