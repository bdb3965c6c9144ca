"""The stroke-order figure (EVALUATION.md): the fraction of strokes planned in the order and
direction of the stroke-order data, where the data has the character.

How it is measured, so that anyone can redo it from a plan's JSON (`calligraphy plan --json`):

1. The data's medians (hanzi-writer-data, 1024 box, y up, top at 900) are put in the character
   box's unit square (x = X / 1024, y = (Y + 124) / 1024) and mapped into the glyph's frame by
   the plan's global data-to-box affine `data_to_box` (2 x 3, written in the JSON; it is the
   moments + ECC fit of the data's outlines onto the glyph, stroke_match.align). No per-stroke
   correction is applied to the reference, so the figure does not grade the matcher by itself.
2. Planned and data centrelines are resampled every 0.01 box; the distance between a planned
   stroke and a data stroke is the symmetric mean nearest-point distance of the two polylines.
3. Planned strokes are paired one to one with data strokes by the assignment of least total
   distance (Hungarian).
4. Planned stroke k counts as right when it is paired with data stroke k (same index), the pair
   lies within MATCH_TOLERANCE (0.08 of the box side), and it runs the same way: its start and
   end are nearer the data stroke's start and end than to its end and start.
5. accuracy = right / max(planned strokes, data strokes): a missing, extra, merged, misplaced or
   reversed stroke all count against it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from stroke_planner.geometry import resample_polyline
from stroke_planner.stroke_data import StrokeData, apply_affine, load_stroke_data
from stroke_planner.types import CharacterPlan

MATCH_TOLERANCE = 0.08
_STEP = 0.01


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    gaps = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    return 0.5 * float(gaps.min(axis=1).mean() + gaps.min(axis=0).mean())


def _same_direction(planned: np.ndarray, reference: np.ndarray) -> bool:
    same = np.linalg.norm(planned[0] - reference[0]) + np.linalg.norm(planned[-1] - reference[-1])
    flip = np.linalg.norm(planned[0] - reference[-1]) + np.linalg.norm(planned[-1] - reference[0])
    return bool(same <= flip)


def strokes_in_data_order(
    centrelines: Sequence[np.ndarray], data: StrokeData, data_to_box: np.ndarray
) -> list[bool]:
    """Per planned stroke, whether it is the data's stroke of the same index, same direction.

    Args:
        centrelines: planned strokes in writing order, (M, 2) points in the box's unit square
            (x right, y up).
        data: the character's stroke-order data.
        data_to_box: (2, 3) affine from the data's unit square onto the glyph's.
    """
    references = [
        resample_polyline(apply_affine(np.asarray(data_to_box, float), m), _STEP)
        for m in data.medians
    ]
    planned = [resample_polyline(np.asarray(c, float), _STEP) for c in centrelines]
    right = [False] * len(planned)
    if not planned or not references:
        return right
    cost = np.array([[_distance(p, r) for r in references] for p in planned])
    for k, j in zip(*linear_sum_assignment(cost), strict=True):
        if k == j and cost[k, j] <= MATCH_TOLERANCE:
            right[k] = _same_direction(planned[k], references[j])
    return right


def stroke_order_accuracy(
    centrelines: Sequence[np.ndarray], data: StrokeData, data_to_box: np.ndarray
) -> float:
    """Fraction of strokes planned in the data's order and direction (module docstring)."""
    right = strokes_in_data_order(centrelines, data, data_to_box)
    return sum(right) / max(len(centrelines), len(data.medians), 1)


def unit_centrelines(plan: CharacterPlan) -> list[np.ndarray]:
    """A plan's stroke centrelines in its box's unit square (x right, y up), writing order."""
    origin = np.array([plan.box_x_m, plan.box_y_m])
    return [(s.centreline - origin) / plan.box_size_m for s in plan.strokes]


def plan_stroke_order_accuracy(plan: CharacterPlan) -> float | None:
    """The stroke-order figure of a plan; None where the data lacks the character or the plan
    has no data frame (a single-line font)."""
    data = load_stroke_data(plan.character)
    if data is None or plan.data_to_box is None:
        return None
    return stroke_order_accuracy(unit_centrelines(plan), data, plan.data_to_box)
