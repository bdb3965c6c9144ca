"""ROS 2 node serving /plan_strokes."""

from __future__ import annotations

import dataclasses
import math

import rclpy
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

from calligraphy_interfaces.srv import PlanStrokes
from stroke_planner.config import PlannerConfig
from stroke_planner.conversions import plan_to_msg
from stroke_planner.planner import StrokePlanner
from stroke_planner.types import ErrorCode, PlanningError

# Parameter name -> (PlannerConfig field, description).
PARAMETERS = {
    'font': ('font', 'default font: ukai, uming, hershey[:name] or a TTF/OTF/TTC path'),
    'char_size_m': ('char_size_m', 'default character box side, m'),
    'min_char_size_m': ('min_char_size_m', 'smallest accepted box side, m'),
    'max_char_size_m': ('max_char_size_m', 'largest accepted box side, m'),
    'resample_step_m': ('resample_step_m', 'default centreline point spacing, m'),
    'layout': ('layout', 'default layout: rows or columns'),
    'layout.margin_m': ('margin_m', 'blank sheet border kept by layout, m'),
    'layout.spacing_m': ('spacing_m', 'gap between neighbouring boxes, m'),
    'layout.line_spacing_m': ('line_spacing_m', 'gap between rows / columns, m'),
    'sheet.width_m': ('sheet_width_m', 'sheet width (paper x), m'),
    'sheet.height_m': ('sheet_height_m', 'sheet height (paper y), m'),
    'single_line_width_ratio': (
        'single_line_width_ratio',
        'single-line font ink width, fraction of the box side',
    ),
    'work_px': ('work_px', 'internal glyph raster, pixels per box side'),
}


class StrokePlannerNode(Node):
    """Plans the strokes of texts on request.

    Services:
        /plan_strokes (calligraphy_interfaces/PlanStrokes): text -> one StrokePlan per inked
            character (frame `paper`, metres); a bad request gets its error_code and error_msg
            and the node keeps serving.

    Parameters (read once at start-up; runtime changes are rejected), defaults from
    PlannerConfig: font, char_size_m, min_char_size_m, max_char_size_m, resample_step_m,
    layout, layout.margin_m, layout.spacing_m, layout.line_spacing_m, sheet.width_m,
    sheet.height_m, single_line_width_ratio, work_px.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('stroke_planner_node', **kwargs)
        defaults = PlannerConfig()
        values = {}
        for name, (field, description) in PARAMETERS.items():
            default = getattr(defaults, field)
            self.declare_parameter(name, default, ParameterDescriptor(description=description))
            values[field] = type(default)(self.get_parameter(name).value)
        self.config = dataclasses.replace(defaults, **values)
        self.planner = StrokePlanner(self.config)
        self.add_on_set_parameters_callback(self._reject_changes)
        self._service = self.create_service(PlanStrokes, 'plan_strokes', self._plan_strokes)
        self.get_logger().info(
            f'serving /plan_strokes (font {self.config.font}, box {self.config.char_size_m} m)'
        )

    def _reject_changes(self, parameters) -> SetParametersResult:
        names = ', '.join(p.name for p in parameters)
        return SetParametersResult(
            successful=False, reason=f'{names}: parameters are read once at start-up'
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
        stamp = self.get_clock().now().to_msg()
        response.plans = [plan_to_msg(plan, stamp) for plan in plans]
        response.error_code = int(ErrorCode.SUCCESS)
        return response


def main(args=None) -> None:
    rclpy.init(args=args)
    node = None
    try:
        node = StrokePlannerNode()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
