"""Core plans <-> calligraphy_interfaces messages (the only module that knows both)."""

from __future__ import annotations

import numpy as np
from geometry_msgs.msg import Point

from calligraphy_interfaces.msg import PlannedStroke, StrokePlan
from stroke_planner.types import CharacterPlan, Source, Stroke

PAPER_FRAME = 'paper'


def plan_to_msg(plan: CharacterPlan, stamp=None) -> StrokePlan:
    """A CharacterPlan as a StrokePlan message (header frame `paper`)."""
    msg = StrokePlan()
    msg.header.frame_id = PAPER_FRAME
    if stamp is not None:
        msg.header.stamp = stamp
    msg.character = plan.character
    msg.font = plan.font
    msg.source = str(plan.source)
    msg.box_x_m = float(plan.box_x_m)
    msg.box_y_m = float(plan.box_y_m)
    msg.box_size_m = float(plan.box_size_m)
    msg.resample_step_m = float(plan.step_m)
    for index, stroke in enumerate(plan.strokes):
        planned = PlannedStroke()
        planned.index = index
        planned.centreline = [Point(x=float(x), y=float(y), z=0.0) for x, y in stroke.centreline]
        planned.width_m = stroke.width_m.astype(float).tolist()
        planned.travel_from_previous_m = float(stroke.travel_from_previous_m)
        msg.strokes.append(planned)
    return msg


def msg_to_plan(msg: StrokePlan) -> CharacterPlan:
    """A StrokePlan message back as a CharacterPlan (strokes sorted by their index)."""
    strokes = []
    for planned in sorted(msg.strokes, key=lambda s: s.index):
        centreline = np.array([[p.x, p.y] for p in planned.centreline], float).reshape(-1, 2)
        strokes.append(
            Stroke(
                centreline=centreline,
                width_m=np.asarray(planned.width_m, float),
                travel_from_previous_m=float(planned.travel_from_previous_m),
            )
        )
    return CharacterPlan(
        character=msg.character,
        font=msg.font,
        source=Source(msg.source),
        box_x_m=msg.box_x_m,
        box_y_m=msg.box_y_m,
        box_size_m=msg.box_size_m,
        strokes=tuple(strokes),
        step_m=msg.resample_step_m,
    )
