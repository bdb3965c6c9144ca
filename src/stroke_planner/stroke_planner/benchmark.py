"""`calligraphy bench planner`: the planner's targets on the development set.

Figures: ceiling IoU of stroke-data plans (60 mm box, 0.25 mm/px; target >= 0.88 mean), the
skeleton route on the same UKai characters (stroke count equal to the data's on >= 50 %, mean
|count/true - 1| <= 0.15, its ceiling IoU), the Hershey route on the Latin pangram, and planning
time per character (median, p95; target median <= 20 ms), measured on a fresh planner so that
every character's first plan, glyph loading and alignment included, is what is timed. A ceiling
IoU is undefined (NaN, calligraphy_model.scoring) only where target and reconstruction are both
empty: such a character is left out of the means.
"""

from __future__ import annotations

import time

import numpy as np

from calligraphy_model.raster import DEFAULT_MPP
from stroke_planner.char_sets import load_set
from stroke_planner.planner import StrokePlanner
from stroke_planner.raster import ceiling_iou
from stroke_planner.stroke_data import load_stroke_data
from stroke_planner.types import Source

SIZE_M = 0.06
MPP = DEFAULT_MPP  # EVALUATION.md's resolution


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
    }
