"""`calligraphy plan TEXT`: plan a text, print per character what the plan is and how good it
can be at best; optionally save the figures as JSON and a numbered-stroke picture as PNG.

The JSON carries per character: `char`, `font` (the font used: the fallback font where the
requested one lacks the glyph), `source`, `strokes`, `ceiling_iou`, `plan_ms`,
`stroke_order_accuracy` (order_accuracy; null where the data lacks the character),
`match_confidence` (stroke_match; null where nothing was matched), `fallback_reason` ('' when
nothing fell back), `data_to_box` (the data-to-glyph affine the stroke-order figure is measured
in; null where there is none) and `centrelines`: each stroke's centreline in writing order, points
in the character box's unit square (x right, y up), so the order can be checked from outside.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from stroke_planner.config import LAYOUTS, StrokePlannerConfig
from stroke_planner.layout import layout_text
from stroke_planner.types import CharacterPlan, PlanningError

# The planner and the stroke-order figure (scikit-image, scipy) are imported where they are used:
# every `calligraphy` command builds this parser, and importing them here cost each one,
# `calligraphy write` too, about 0.6 s before anything started.


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'plan',
        help='plan the brush strokes of a text and show them',
        description='Plan the strokes of TEXT on the sheet; print per character the stroke '
        'count, the glyph source, the ceiling IoU (ideal round-brush reconstruction vs the '
        'target glyph at 0.25 mm/px), the planning time, the stroke-order accuracy (fraction of '
        'strokes in the order and direction of the stroke-order data) and the confidence of '
        'the match of the data onto the font; say why a character fell back.',
    )
    parser.add_argument('text', help='text to plan (spaces leave a box empty, \\n breaks a line)')
    parser.add_argument(
        '--font',
        default='ukai',
        help='ukai (default), uming, hershey[:NAME] or a TTF/OTF/TTC path',
    )
    parser.add_argument('--size-mm', type=float, default=60.0, help='character box side, mm')
    parser.add_argument('--layout', choices=LAYOUTS, default='rows', help='rows or columns')
    parser.add_argument('--step-mm', type=float, default=0.5, help='centreline point spacing, mm')
    parser.add_argument('--json', type=Path, help='write the per-character figures here')
    parser.add_argument('--png', type=Path, help='write a picture of the numbered strokes here')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calligraphy_ros_kit.cli import CliError
    from stroke_planner.planner import StrokePlanner

    text = args.text.replace('\\n', '\n')
    planner = StrokePlanner(StrokePlannerConfig())
    size_m = args.size_mm / 1000.0
    step_m = args.step_mm / 1000.0
    try:
        planner._check_size(size_m)
        boxes = layout_text(text, planner.config, size_m, args.layout)
        plans, rows = [], []
        for character, x, y in boxes:
            started = time.perf_counter()
            plan = planner.plan_character(character, args.font, x, y, size_m, step_m)
            plan_ms = (time.perf_counter() - started) * 1000.0
            plans.append(plan)
            rows.append(_row(plan, plan_ms))
    except PlanningError as error:
        raise CliError(f'{error.message} [{error.code.name}]') from error
    print(
        f'{"char":<5} {"source":<12} {"strokes":>7} {"ceiling_iou":>11} {"plan_ms":>8} '
        f'{"order_acc":>9} {"confidence":>10}'
    )
    for row in rows:
        print(
            f'{row["char"]:<5} {row["source"]:<12} {row["strokes"]:>7} '
            f'{row["ceiling_iou"]:>11.3f} {row["plan_ms"]:>8.1f} '
            f'{_figure(row["stroke_order_accuracy"]):>9} {_figure(row["match_confidence"]):>10}'
        )
    for row in rows:
        if row['fallback_reason']:
            print(f'{row["char"]}: {row["fallback_reason"]}')
    if args.json:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({'characters': rows}, ensure_ascii=False, indent=2))
        except OSError as error:
            raise CliError(f'cannot write {args.json}: {error}') from error
        print(f'saved {args.json}')
    if args.png:
        from stroke_planner.preview import save_preview

        try:
            save_preview(plans, args.png)
        except OSError as error:
            raise CliError(f'cannot write {args.png}: {error}') from error
        print(f'saved {args.png}')
    return 0


def _figure(value: float | None) -> str:
    return '-' if value is None else f'{value:.3f}'


def _row(plan: CharacterPlan, plan_ms: float) -> dict:
    """One character's figures and strokes for the table and the JSON."""
    from stroke_planner.order_accuracy import plan_stroke_order_accuracy, unit_centrelines
    from stroke_planner.raster import ceiling_iou

    accuracy = plan_stroke_order_accuracy(plan)
    return {
        'char': plan.character,
        'font': plan.font,
        'source': str(plan.source),
        'strokes': len(plan.strokes),
        'ceiling_iou': round(ceiling_iou(plan), 4),
        'plan_ms': round(plan_ms, 2),
        'stroke_order_accuracy': None if accuracy is None else round(accuracy, 4),
        'match_confidence': plan.match_confidence,
        'fallback_reason': plan.fallback_reason,
        'data_to_box': None if plan.data_to_box is None else plan.data_to_box.round(6).tolist(),
        'centrelines': [line.round(5).tolist() for line in unit_centrelines(plan)],
    }
