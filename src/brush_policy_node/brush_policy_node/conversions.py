"""The only module that knows both the core types and the ROS messages."""

from __future__ import annotations

import numpy as np

from brush_policy_node.types import StrokeSpec, TimedBrushPath
from calligraphy_interfaces.msg import BrushPath, PlannedStroke, StrokePlan


def stroke_from_msg(msg: PlannedStroke, position: int) -> StrokeSpec:
    """A planned stroke message as a StrokeSpec (validation happens in the core)."""
    centreline = np.array([[p.x, p.y] for p in msg.centreline], dtype=np.float64).reshape(-1, 2)
    return StrokeSpec(centreline, np.asarray(msg.width_m, dtype=np.float64), position)


def strokes_from_plan(plan: StrokePlan) -> list[StrokeSpec]:
    # The stroke's position in the plan is its index for the path (what the srv's indices mean).
    return [stroke_from_msg(stroke, i) for i, stroke in enumerate(plan.strokes)]


def path_to_msg(path: TimedBrushPath, header: object) -> BrushPath:
    msg = BrushPath()
    msg.header = header
    msg.stroke_index = int(path.stroke_index)
    msg.controller = path.controller
    msg.x_m = path.x_m.tolist()
    msg.y_m = path.y_m.tolist()
    msg.pressing_depth_m = path.pressing_depth_m.tolist()
    msg.time_from_start_s = path.time_from_start_s.tolist()
    return msg
