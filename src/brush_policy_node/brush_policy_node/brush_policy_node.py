"""brush_policy_node: serves /compute_brush_path with the constant, analytic, learned policy."""

from __future__ import annotations

import sys

import rclpy
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

from brush_policy_node.config import (
    CELL_MAX_PRESSING_DEPTH_M,
    CONTROLLERS,
    ControllerConfig,
    NodeConfig,
)
from brush_policy_node.conversions import brush_state_from_msg, path_to_msg, strokes_from_plan
from brush_policy_node.runtime import build_controllers
from brush_policy_node.types import INTERNAL_ERROR, SUCCESS, ControllerError
from calligraphy_interfaces.srv import ComputeBrushPath


class BrushPolicyNode(Node):
    """Turns planned strokes and a brush state into timed brush paths.

    Services:
        /compute_brush_path (calligraphy_interfaces/ComputeBrushPath)
    Parameters (read once at start-up; changes at runtime are rejected):
        controller (str, 'learned'): default controller: constant | analytic | learned.
        model_path (str, ''): ONNX policy with its `<stem>.card.json` beside it; '' = shipped.
        speed.nominal_mps (float, 0.02): writing speed of constant/analytic, m/s.
        speed.min_mps, speed.max_mps (float, 0.008, 0.04): limits of the learned speed, m/s.
        constant.pressing_depth_m (float, 0.0): constant's depth; 0 = nominal depth of the
            stroke's mean planned width.
        max_depth_m (float, 0.008): deepest pressing any controller commands, metres: the motion
            executor's max_pressing_depth_m (deeper depths are clipped, with a warning).
        smoothing_points (int, 2): half-window of the moving average on policy corrections.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__('brush_policy_node', **kwargs)
        defaults = ControllerConfig()
        self.config = NodeConfig(
            controller=self._declare(
                'controller', 'learned', f'default controller: {" | ".join(CONTROLLERS)}'
            ),
            model_path=self._declare('model_path', '', "ONNX policy file ('' = shipped model)"),
            controllers=ControllerConfig(
                speed_nominal_mps=self._declare(
                    'speed.nominal_mps', defaults.speed_nominal_mps, 'constant/analytic speed'
                ),
                speed_min_mps=self._declare(
                    'speed.min_mps', defaults.speed_min_mps, 'lowest learned speed, m/s'
                ),
                speed_max_mps=self._declare(
                    'speed.max_mps', defaults.speed_max_mps, 'highest learned speed, m/s'
                ),
                constant_depth_m=self._declare(
                    'constant.pressing_depth_m',
                    defaults.constant_depth_m,
                    "constant's depth, m (0 = nominal depth of the stroke's mean width)",
                ),
                max_depth_m=self._declare(
                    'max_depth_m',
                    CELL_MAX_PRESSING_DEPTH_M,
                    "deepest commanded pressing depth, m (the executor's max_pressing_depth_m)",
                ),
                smoothing_points=self._declare(
                    'smoothing_points', defaults.smoothing_points, 'policy smoothing half-window'
                ),
            ),
        )
        # The onnxruntime session is created here, once, not per request.
        self.controllers = build_controllers(
            self.config.controllers, self.config.controller, self.config.model_path
        )
        self.add_on_set_parameters_callback(self._reject_changes)
        self.service = self.create_service(
            ComputeBrushPath, 'compute_brush_path', self._on_compute_brush_path
        )
        self.get_logger().info(
            f'serving /compute_brush_path (default controller {self.config.controller})'
        )

    def _declare(self, name: str, default: object, description: str) -> object:
        return self.declare_parameter(
            name, default, ParameterDescriptor(description=description)
        ).value

    def _reject_changes(self, parameters: list) -> SetParametersResult:
        names = ', '.join(p.name for p in parameters)
        return SetParametersResult(
            successful=False, reason=f'{names}: read once at start-up; restart the node'
        )

    def _on_compute_brush_path(
        self, request: ComputeBrushPath.Request, response: ComputeBrushPath.Response
    ) -> ComputeBrushPath.Response:
        try:
            paths = self.controllers.compute_paths(
                strokes_from_plan(request.plan),
                list(request.stroke_indices),
                brush_state_from_msg(request.brush_state),
                request.controller,
            )
        except ControllerError as error:
            response.error_code = error.code
            response.error_msg = error.message
            self.get_logger().warning(f'compute_brush_path rejected: {error.message}')
            return response
        except Exception as error:  # noqa: BLE001 - a bad request must never kill the node
            response.error_code = INTERNAL_ERROR
            response.error_msg = f'{type(error).__name__}: {error}'
            self.get_logger().error(f'compute_brush_path failed: {response.error_msg}')
            return response
        header = request.plan.header
        header.frame_id = header.frame_id or 'paper'
        response.paths = [path_to_msg(path, header) for path in paths]
        response.fell_back = [path.fell_back for path in paths]
        response.warnings = [w for path in paths for w in path.warnings]
        for warning in response.warnings:
            self.get_logger().warning(warning)
        response.error_code = SUCCESS
        return response


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    node = None
    try:
        node = BrushPolicyNode()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    sys.exit(main())
