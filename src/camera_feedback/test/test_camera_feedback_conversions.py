"""Core types ↔ ROS messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geometry_msgs.msg import Point
from sensor_msgs.msg import Image

from calligraphy_interfaces.msg import PlannedStroke, StrokePlan
from calligraphy_model.brush_state import BrushStateEstimate
from calligraphy_model.types import GlyphScore
from calligraphy_ros_kit.conversions import brush_state_from_msg, brush_state_to_msg
from camera_feedback.conversions import frame_from_image_msg, score_to_msg, strokes_from_plan_msg
from camera_feedback.types import BAD_ENCODING, ObservationError


def test_bgr8_image_message_becomes_an_rgb_frame_with_its_stamp():
    msg = Image(height=1, width=2, encoding='bgr8', step=6, data=bytes([1, 2, 3, 4, 5, 6]))
    msg.header.stamp.sec, msg.header.stamp.nanosec = 12, 500_000_000
    frame = frame_from_image_msg(msg)
    assert frame.image.tolist() == [[[3, 2, 1], [6, 5, 4]]]
    assert frame.stamp_s == pytest.approx(12.5)
    msg.encoding = '16UC1'
    with pytest.raises(ObservationError) as error:
        frame_from_image_msg(msg)
    assert error.value.code == BAD_ENCODING


def test_only_strokes_already_written_are_taken_from_the_plan():
    plan = StrokePlan()
    for index in range(4):
        plan.strokes.append(
            PlannedStroke(
                index=index,
                centreline=[Point(x=0.01 * index, y=0.1), Point(x=0.01 * index + 0.005, y=0.1)],
                width_m=[0.002, 0.003],
            )
        )
    written = strokes_from_plan_msg(plan, strokes_written=2)
    assert [s.index for s in written] == [0, 1]
    assert written[1].centreline_m[1].tolist() == pytest.approx([0.015, 0.1])
    assert len(strokes_from_plan_msg(plan, -1)) == 4


def test_brush_state_and_nan_scores_survive_the_round_trip():
    state = BrushStateEstimate(0.4, 1.25, -0.0003, 1.1, 0.8, 3)
    assert brush_state_from_msg(brush_state_to_msg(state)) == state
    msg = score_to_msg(GlyphScore(iou=0.5))
    assert msg.iou == 0.5 and math.isnan(msg.chamfer_m) and math.isnan(msg.stroke_order)
    assert np.isnan(msg.width_error_m)
