"""The only module that knows both the camera-feedback core types and the ROS messages."""

from __future__ import annotations

import math

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from calligraphy_interfaces.msg import GlyphScore, PaperObservation, StrokePlan
from calligraphy_model.raster import Region
from calligraphy_model.types import GlyphScore as CoreGlyphScore
from calligraphy_model.types import StrokeSpec
from calligraphy_ros_kit.conversions import stroke_metrics_to_msg
from camera_feedback.frame_sources import Frame, decode_pixels
from camera_feedback.types import Observation


def frame_from_image_msg(msg: Image) -> Frame:
    """sensor_msgs/Image → Frame; ObservationError(BAD_ENCODING) for unusable pixel formats."""
    image = decode_pixels(bytes(msg.data), msg.width, msg.height, msg.step, msg.encoding)
    stamp = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
    return Frame(image=image, stamp_s=stamp, frame_id=msg.header.frame_id)


def stamp_from_seconds(seconds: float) -> Time:
    whole = math.floor(seconds)
    return Time(sec=int(whole), nanosec=int(round((seconds - whole) * 1e9)) % 1_000_000_000)


def strokes_from_plan_msg(plan: StrokePlan, strokes_written: int = -1) -> list[StrokeSpec]:
    """The plan's strokes with index < strokes_written (-1 = all), as core StrokeSpecs."""
    strokes = []
    for stroke in plan.strokes:
        if 0 <= strokes_written <= stroke.index:
            continue
        centreline = np.array([[p.x, p.y] for p in stroke.centreline], dtype=np.float64)
        strokes.append(
            StrokeSpec(centreline.reshape(-1, 2), np.asarray(stroke.width_m, float), stroke.index)
        )
    return strokes


def plan_box(plan: StrokePlan) -> Region:
    return Region(plan.box_x_m, plan.box_y_m, plan.box_size_m, plan.box_size_m)


def character_plan_from_msg(plan: StrokePlan):
    """StrokePlan message → stroke_planner.CharacterPlan (for its `target_mask`)."""
    from stroke_planner import CharacterPlan, Source, Stroke

    strokes = tuple(
        Stroke(
            centreline=np.array([[p.x, p.y] for p in s.centreline], dtype=np.float64).reshape(
                -1, 2
            ),
            width_m=np.asarray(s.width_m, dtype=np.float64),
            travel_from_previous_m=s.travel_from_previous_m,
        )
        for s in plan.strokes
    )
    return CharacterPlan(
        character=plan.character,
        font=plan.font,
        source=Source(plan.source) if plan.source else Source.STROKE_DATA,
        box_x_m=plan.box_x_m,
        box_y_m=plan.box_y_m,
        box_size_m=plan.box_size_m,
        strokes=strokes,
        step_m=plan.resample_step_m,
    )


def _mono8(mask: np.ndarray, header: Header) -> Image:
    data = np.ascontiguousarray(mask, dtype=np.uint8)
    msg = Image(header=header, height=data.shape[0], width=data.shape[1], encoding='mono8')
    msg.step = data.shape[1]
    msg.data = data.tobytes()
    return msg


def _rgb8(image: np.ndarray, header: Header) -> Image:
    data = np.ascontiguousarray(image, dtype=np.uint8)
    msg = Image(header=header, height=data.shape[0], width=data.shape[1], encoding='rgb8')
    msg.step = 3 * data.shape[1]
    msg.data = data.tobytes()
    return msg


def score_to_msg(score: CoreGlyphScore) -> GlyphScore:
    return GlyphScore(
        iou=float(score.iou),
        chamfer_m=float(score.chamfer_m),
        coverage=float(score.coverage),
        spill=float(score.spill),
        stroke_order=float(score.stroke_order),
        width_error_m=float(score.width_error_m),
    )


def observation_to_msg(
    observation: Observation, stamp: Time, include_images: bool
) -> PaperObservation:
    header = Header(frame_id='paper', stamp=stamp)
    msg = PaperObservation(header=header)
    region = observation.region
    msg.region_x_m, msg.region_y_m = region.x_m, region.y_m
    msg.region_width_m, msg.region_height_m = region.width_m, region.height_m
    msg.metres_per_pixel = observation.metres_per_pixel
    if include_images:
        msg.rectified = _rgb8(observation.rectified, header)
        msg.ink_mask = _mono8(observation.ink_mask.astype(np.uint8) * 255, header)
    msg.score = score_to_msg(observation.score)
    msg.strokes = [stroke_metrics_to_msg(s) for s in observation.strokes]
    return msg
