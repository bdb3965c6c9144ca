"""The core types that cross the graph, to and from their messages: the brush state the writer
sends the policy, and the per-stroke measurements the camera sends the writer. One home, so the
sender's and the receiver's reading of a message cannot drift apart."""

from __future__ import annotations

import numpy as np
from std_msgs.msg import Header

from calligraphy_interfaces.msg import BrushState, StrokeMetrics
from calligraphy_model.brush_state import BrushStateEstimate
from calligraphy_model.types import StrokeMeasurement


def brush_state_to_msg(state: BrushStateEstimate, header: Header | None = None) -> BrushState:
    return BrushState(
        header=header or Header(frame_id='paper'),
        ink_load=float(state.ink_load),
        width_gain=float(state.width_gain),
        contact_offset_m=float(state.contact_offset_m),
        tip_lag_gain=float(state.tip_lag_gain),
        confidence=float(state.confidence),
        strokes_observed=int(state.strokes_observed),
    )


def brush_state_from_msg(msg: BrushState) -> BrushStateEstimate:
    """A zero-initialised message (a caller that sent no estimate) means a full, nominal brush."""
    width_gain = msg.width_gain if msg.width_gain != 0.0 else 1.0
    tip_lag_gain = msg.tip_lag_gain if msg.tip_lag_gain != 0.0 else 1.0
    unset = msg.width_gain == 0.0 and msg.ink_load == 0.0 and msg.strokes_observed == 0
    return BrushStateEstimate(
        ink_load=1.0 if unset else float(msg.ink_load),
        width_gain=float(width_gain),
        contact_offset_m=float(msg.contact_offset_m),
        tip_lag_gain=float(tip_lag_gain),
        confidence=float(msg.confidence),
        strokes_observed=int(msg.strokes_observed),
    )


def stroke_metrics_to_msg(stroke: StrokeMeasurement) -> StrokeMetrics:
    return StrokeMetrics(
        stroke_index=int(stroke.stroke_index),
        planned_width_m=[float(v) for v in stroke.planned_width_m],
        measured_width_m=[float(v) for v in stroke.measured_width_m],
        planned_width_mean_m=float(stroke.planned_width_mean_m),
        measured_width_mean_m=float(stroke.measured_width_mean_m),
        width_error_m=float(stroke.width_error_m),
        coverage=float(stroke.coverage),
        darkness=float(stroke.darkness),
    )


def stroke_measurement_from_msg(msg: StrokeMetrics) -> StrokeMeasurement:
    """StrokeMetrics → core measurement (per-point darkness is not carried by the message)."""
    return StrokeMeasurement(
        stroke_index=msg.stroke_index,
        planned_width_m=np.asarray(msg.planned_width_m, float),
        measured_width_m=np.asarray(msg.measured_width_m, float),
        coverage=msg.coverage,
        darkness=msg.darkness,
    )
