"""ROS 2 node serving /plan_strokes."""

from __future__ import annotations

import dataclasses
import math
import sys

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from calligraphy_interfaces.srv import PlanStrokes
from calligraphy_model.settings import described
from calligraphy_ros_kit.parameters import declare_config, read_only_at_run_time
from calligraphy_ros_kit.runner import run_node
from stroke_planner.config import StrokePlannerConfig
from stroke_planner.conversions import plan_to_msg
from stroke_planner.planner import StrokePlanner
from stroke_planner.types import ErrorCode, PlanningError

# Parameters named otherwise than their StrokePlannerConfig field: parameter -> field.
GROUPED_PARAMETERS = {
    'layout.margin_m': 'margin_m',
    'layout.spacing_m': 'spacing_m',
    'layout.line_spacing_m': 'line_spacing_m',
    'sheet.width_m': 'sheet_width_m',
    'sheet.height_m': 'sheet_height_m',
}


def _declare_grouped(node: Node) -> dict[str, float]:
    """Declare the GROUPED_PARAMETERS (described by their fields' metadata); field -> value."""
    fields = {field.name: field for field in dataclasses.fields(StrokePlannerConfig)}
    values = {}
    for name, field_name in GROUPED_PARAMETERS.items():
        field = fields[field_name]
        descriptor = ParameterDescriptor(description=described(field))
        node.declare_parameter(name, field.default, descriptor)
        values[field_name] = node.get_parameter(name).value
    read_only_at_run_time(node, *GROUPED_PARAMETERS)
    return values


class StrokePlannerNode(Node):
    """Plans the strokes of texts on request.

    Services:
        /plan_strokes (calligraphy_interfaces/PlanStrokes): text -> one StrokePlan per inked
            character (frame `paper`, metres); a bad request gets its error_code and error_msg
            and the node keeps serving.

    Parameters (read once at start-up; runtime changes are rejected), one per field of
    StrokePlannerConfig: font, fallback_font, char_size_m, min_char_size_m, max_char_size_m,
    resample_step_m, layout, layout.margin_m, layout.spacing_m, layout.line_spacing_m,
    sheet.width_m, sheet.height_m, single_line_width_ratio, work_px. A plan that is not what was
    asked for (stroke-order data missing or not trusted on the glyph, a glyph taken from the
    fallback font) is logged with its reason.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('stroke_planner_node', **kwargs)
        self.config = declare_config(self, StrokePlannerConfig, **_declare_grouped(self))
        self.planner = StrokePlanner(self.config)
        self._service = self.create_service(PlanStrokes, 'plan_strokes', self._plan_strokes)
        self.get_logger().info(
            f'serving /plan_strokes (font {self.config.font}, box {self.config.char_size_m} m)'
        )

    def _plan_strokes(self, request, response):
        try:
            size_m = request.char_size_m if request.char_size_m != 0.0 else None
            step_m = request.resample_step_m if request.resample_step_m != 0.0 else None
            origin = (request.box_x_m, request.box_y_m) if request.use_box else None
            if size_m is not None and not math.isfinite(size_m):
                raise PlanningError(ErrorCode.SIZE_OUT_OF_RANGE, f'char_size_m is {size_m}')
            plans = self.planner.plan_text(
                request.text,
                request.font or None,
                size_m,
                request.layout or None,
                origin,
                step_m,
            )
        except PlanningError as error:
            response.error_code = int(error.code)
            response.error_msg = error.message
            self.get_logger().warning(f'plan_strokes: {error}')
            return response
        except Exception as error:  # a bad request must never take the node down
            response.error_code = int(ErrorCode.INTERNAL_ERROR)
            response.error_msg = f'{type(error).__name__}: {error}'
            self.get_logger().error(f'plan_strokes failed: {response.error_msg}')
            return response
        for plan in plans:
            if plan.fallback_reason:
                self.get_logger().info(f'plan_strokes: {plan.character}: {plan.fallback_reason}')
        stamp = self.get_clock().now().to_msg()
        response.plans = [plan_to_msg(plan, stamp) for plan in plans]
        response.error_code = int(ErrorCode.SUCCESS)
        return response


def main(args=None) -> int:
    return run_node(StrokePlannerNode, 'stroke_planner_node', args, threads=1)


if __name__ == '__main__':
    sys.exit(main())
