"""The only ink_dipping module that knows both the core types and the ROS messages."""

from __future__ import annotations

from calligraphy_interfaces.msg import BrushPath
from ink_dipping.routine import DipSegment


def segment_to_path(segment: DipSegment, frame_id: str = 'paper') -> BrushPath:
    path = BrushPath(controller=f'dip_{segment.phase}', stroke_index=-1)
    path.header.frame_id = frame_id
    path.x_m = segment.x_m.tolist()
    path.y_m = segment.y_m.tolist()
    path.pressing_depth_m = segment.pressing_depth_m.tolist()
    path.time_from_start_s = segment.time_from_start_s.tolist()
    return path
