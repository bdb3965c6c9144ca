"""Stroke planner: ordered brush strokes of characters from stroke-order data, any outline
font's skeleton, or a single-line font, placed on the sheet in the `paper` frame (metres).

Core API (no ROS imports): `plan_character`, `plan_text`, `StrokePlanner`, `target_mask`,
`ideal_reconstruction`, `ceiling_iou`, the types `Stroke`, `CharacterPlan`, `Source`, and
`PlanningError` with `ErrorCode` (the PlanStrokes.srv codes).
"""

from stroke_planner.config import PlannerConfig
from stroke_planner.planner import StrokePlanner, plan_character, plan_text
from stroke_planner.raster import ceiling_iou, ideal_reconstruction, iou, target_mask
from stroke_planner.types import CharacterPlan, ErrorCode, PlanningError, Source, Stroke

__all__ = [
    'CharacterPlan',
    'ErrorCode',
    'PlannerConfig',
    'PlanningError',
    'Source',
    'Stroke',
    'StrokePlanner',
    'ceiling_iou',
    'ideal_reconstruction',
    'iou',
    'plan_character',
    'plan_text',
    'target_mask',
]
