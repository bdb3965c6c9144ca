"""`calligraphy bench planner`: the planner's targets on the development set.

Figures: ceiling IoU of stroke-data plans (60 mm box, 0.25 mm/px; target >= 0.88 mean), the
skeleton route on the same UKai characters (stroke count equal to the data's on >= 50 %, mean
|count/true - 1| <= 0.15, its ceiling IoU), the Hershey route on the Latin pangram, and planning
time per character (median, p95; target median <= 20 ms), measured on a fresh planner so that
every character's first plan, glyph loading and alignment included, is what is timed. A ceiling
IoU is undefined (NaN, calligraphy_model.scoring) only where target and reconstruction are both
empty: such a character is left out of the means.

Stroke order in other fonts (`stroke_order`): per font (UKai, UMing and the held-out Kaiti font
cwTeX Kai, which the data was not made from and the tuning never looked at) and per character
set (`dev`: the tuning set; `test`: held out), over the set's characters the font has: the mean
stroke-order accuracy (order_accuracy) and ceiling IoU of the default plans, the fraction planned
from the stroke-order data (the rest fell back to the skeleton), and the same two figures for the
skeleton route alone (the route such fonts took before the data was matched onto them). Target
on cwTeX Kai's held-out characters: accuracy >= 0.95, ceiling IoU >= 0.88.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from calligraphy_model.raster import DEFAULT_MPP
from stroke_planner.char_sets import load_set
from stroke_planner.fonts import outline_font, resolve_font
from stroke_planner.order_accuracy import plan_stroke_order_accuracy
from stroke_planner.planner import StrokePlanner
from stroke_planner.raster import ceiling_iou
from stroke_planner.stroke_data import load_stroke_data
from stroke_planner.types import Source

SIZE_M = 0.06
MPP = DEFAULT_MPP  # EVALUATION.md's resolution
CWTEX_KAI = Path('/usr/share/fonts/truetype/cwtex/cwkai.ttf')  # Debian fonts-cwtex-kai
ORDER_FONTS = {'ukai': 'ukai', 'uming': 'uming', 'cwtex_kai': str(CWTEX_KAI)}


def _timed(planner: StrokePlanner, character: str, **kwargs) -> tuple[object, float]:
    started = time.perf_counter()
    plan = planner.plan_character(character, size_m=SIZE_M, **kwargs)
    return plan, (time.perf_counter() - started) * 1000.0


def measure_planner_targets(quick: bool = False) -> dict:
    dev = load_set('dev')
    characters = dev.cjk[:30] if quick else dev.cjk
    latin = [c for c in dev.latin if c.strip()]
    planner = StrokePlanner()
    planner.plan_character('一')  # opens the font once; not a per-character cost
    data_iou, data_ms = [], []
    skeleton_iou, skeleton_ms, equal, relative = [], [], [], []
    for character in characters:
        plan, ms = _timed(planner, character)
        assert plan.source == Source.STROKE_DATA
        data_iou.append(ceiling_iou(plan, MPP))
        data_ms.append(ms)
        plan, ms = _timed(planner, character, source=Source.SKELETON)
        skeleton_iou.append(ceiling_iou(plan, MPP))
        skeleton_ms.append(ms)
        true = len(load_stroke_data(character).medians)
        equal.append(len(plan.strokes) == true)
        relative.append(abs(len(plan.strokes) / true - 1.0))
    hershey_ms = [_timed(planner, c, font='hershey')[1] for c in latin]
    latin_skeleton = [planner.plan_character(c, font='ukai', size_m=SIZE_M) for c in latin]
    all_ms = np.array(data_ms)
    return {
        'characters': len(characters),
        'stroke_data_ceiling_iou_mean': round(float(np.nanmean(data_iou)), 4),
        'stroke_data_ceiling_iou_min': round(float(np.nanmin(data_iou)), 4),
        'stroke_data_ceiling_iou_target': 0.88,
        'skeleton_count_equal_fraction': round(float(np.mean(equal)), 4),
        'skeleton_count_equal_target': 0.5,
        'skeleton_count_rel_error_mean': round(float(np.mean(relative)), 4),
        'skeleton_count_rel_error_target': 0.15,
        'skeleton_ceiling_iou_mean': round(float(np.nanmean(skeleton_iou)), 4),
        'latin_skeleton_ukai_ceiling_iou_mean': round(
            float(np.nanmean([ceiling_iou(p, MPP) for p in latin_skeleton])), 4
        ),
        'plan_ms_median': round(float(np.median(all_ms)), 2),
        'plan_ms_p95': round(float(np.percentile(all_ms, 95)), 2),
        'plan_ms_target_median': 20.0,
        'skeleton_plan_ms_median': round(float(np.median(skeleton_ms)), 2),
        'skeleton_plan_ms_p95': round(float(np.percentile(skeleton_ms, 95)), 2),
        'hershey_plan_ms_median': round(float(np.median(hershey_ms)), 3),
        **{f'stroke_order/{k}': v for k, v in measure_stroke_order(quick).items()},
    }


def _order_figures(planner: StrokePlanner, font: str, characters: list[str], **kwargs) -> dict:
    accuracy, overlap, from_data = [], [], []
    for character in characters:
        plan = planner.plan_character(character, font, size_m=SIZE_M, **kwargs)
        accuracy.append(plan_stroke_order_accuracy(plan))
        overlap.append(ceiling_iou(plan, MPP))
        from_data.append(plan.source == Source.STROKE_DATA)
    return {
        'accuracy_mean': round(float(np.mean(accuracy)), 4),
        'ceiling_iou_mean': round(float(np.nanmean(overlap)), 4),
        'stroke_data_fraction': round(float(np.mean(from_data)), 4),
    }


def measure_stroke_order(quick: bool = False) -> dict:
    """Stroke-order accuracy and ceiling IoU per font and character set (module docstring)."""
    planner = StrokePlanner()
    figures = {'accuracy_target': 0.95, 'ceiling_iou_target': 0.88}
    for name, font in ORDER_FONTS.items():
        if font == str(CWTEX_KAI) and not CWTEX_KAI.exists():
            figures[name] = 'not installed (Debian fonts-cwtex-kai; scripts/setup.sh)'
            continue
        spec = resolve_font(font)
        has = outline_font(spec.path, spec.face_index).has_glyph
        for set_name in ('dev', 'test'):
            characters = [c for c in load_set(set_name).cjk if has(c)]
            characters = characters[:20] if quick else characters
            row = {'characters': len(characters)}
            row.update(_order_figures(planner, font, characters))
            skeleton = _order_figures(planner, font, characters, source=Source.SKELETON)
            row['skeleton_accuracy_mean'] = skeleton['accuracy_mean']
            row['skeleton_ceiling_iou_mean'] = skeleton['ceiling_iou_mean']
            figures[f'{name}/{set_name}'] = row
    return figures
