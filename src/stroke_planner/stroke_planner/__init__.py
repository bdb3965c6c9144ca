"""Stroke planner: ordered brush strokes of characters from stroke-order data, any outline
font's skeleton, or a single-line font, placed on the sheet in the `paper` frame (metres).

In any outline font, a character the stroke-order data knows is planned with the data's order,
direction and stroke count matched onto that font's glyph (stroke_match: the geometry from the
font, the order from the data), unless the match is not trusted; then, and for characters the
data lacks, the glyph's skeleton is used, and the plan says why (`fallback_reason`). The
stroke-order figure of a plan is `order_accuracy.plan_stroke_order_accuracy`.

Core API (no ROS imports): `plan_character`, `plan_text`, `StrokePlanner`, `target_mask`,
`ideal_reconstruction`, `ceiling_iou` (scored by calligraphy_model.scoring), the types `Stroke`,
`CharacterPlan`, `Source`, and `PlanningError` with `ErrorCode` (the PlanStrokes.srv codes).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stroke_planner.config import StrokePlannerConfig
    from stroke_planner.planner import StrokePlanner, plan_character, plan_text
    from stroke_planner.raster import ceiling_iou, ideal_reconstruction, target_mask
    from stroke_planner.types import CharacterPlan, ErrorCode, PlanningError, Source, Stroke

# Each name from the module that defines it, imported on first use: the camera's feedback node
# needs only target_mask, and importing the planner too (skeletons, stroke matching: scikit-image
# and scipy) cost its first observation about 1.5 s.
_HOME = {
    'StrokePlannerConfig': 'config',
    'StrokePlanner': 'planner',
    'plan_character': 'planner',
    'plan_text': 'planner',
    'ceiling_iou': 'raster',
    'ideal_reconstruction': 'raster',
    'target_mask': 'raster',
    'CharacterPlan': 'types',
    'ErrorCode': 'types',
    'PlanningError': 'types',
    'Source': 'types',
    'Stroke': 'types',
}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    return getattr(importlib.import_module(f'{__name__}.{_HOME[name]}'), name)


__all__ = [
    'CharacterPlan',
    'ErrorCode',
    'StrokePlannerConfig',
    'PlanningError',
    'Source',
    'Stroke',
    'StrokePlanner',
    'ceiling_iou',
    'ideal_reconstruction',
    'plan_character',
    'plan_text',
    'target_mask',
]
