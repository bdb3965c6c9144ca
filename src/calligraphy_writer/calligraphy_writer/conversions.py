"""The writer's core types from and to ROS messages: plans (with their strokes' inked areas)
and scores."""

from __future__ import annotations

import math

import numpy as np

from calligraphy_interfaces.msg import GlyphScore, StrokePlan
from calligraphy_model.ink_budget import stroke_area_m2
from calligraphy_writer.sequencer import PlannedCharacter

SCORE_FIELDS = ('iou', 'chamfer_m', 'coverage', 'spill', 'stroke_order', 'width_error_m')


def planned_character(plan: StrokePlan) -> PlannedCharacter:
    """The plan message with the inked area of each stroke, for the ink budget."""
    areas = []
    for stroke in plan.strokes:
        centreline = np.array([[p.x, p.y] for p in stroke.centreline]).reshape(-1, 2)
        areas.append(stroke_area_m2(centreline, np.asarray(stroke.width_m)))
    return PlannedCharacter(plan.character, tuple(areas), plan)


def scores_from_msg(score: GlyphScore) -> dict[str, float]:
    return {name: float(getattr(score, name)) for name in SCORE_FIELDS}


def scores_to_msg(scores: dict[str, float]) -> GlyphScore:
    return GlyphScore(**{name: float(scores.get(name, math.nan)) for name in SCORE_FIELDS})
