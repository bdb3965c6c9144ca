"""brush_policy_node: serves /compute_brush_path with the constant, analytic, learned policy."""

from __future__ import annotations

import sys

from rclpy.node import Node

from brush_policy_node.config import ConstantSettings, NodeConfig, SpeedSettings
from brush_policy_node.conversions import path_to_msg, strokes_from_plan
from brush_policy_node.runtime import build_controllers
from brush_policy_node.types import INTERNAL_ERROR, SUCCESS, ControllerError
from calligraphy_interfaces.srv import ComputeBrushPath
from calligraphy_ros_kit.conversions import brush_state_from_msg
from calligraphy_ros_kit.parameters import declare_config
from calligraphy_ros_kit.runner import run_node


class BrushPolicyNode(Node):
    """Turns planned strokes and a brush state into timed brush paths.

    Services:
        /compute_brush_path (calligraphy_interfaces/ComputeBrushPath)
    Parameters (NodeConfig's fields, read once at start-up; changes at runtime are rejected):
        controller (str, 'learned'): default controller: constant | analytic | learned.
        model_path (str, ''): ONNX policy with its `<stem>.card.json` beside it; '' = shipped.
        speed.nominal_mps (float, 0.06): writing speed of constant/analytic, m/s.
        speed.min_mps, speed.max_mps (float, 0.02, 0.1): limits of the learned speed, m/s.
        constant.pressing_depth_m (float, 0.0): constant's depth; 0 = nominal depth of the
            stroke's mean planned width.
        max_depth_m (float, 0.008): deepest pressing any controller commands, metres: the motion
            executor's max_pressing_depth_m (deeper depths are clipped, with a warning).
        smoothing_points (int, 2): half-window of the moving average on policy corrections.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__('brush_policy_node', **kwargs)
        self.config = declare_config(
            self,
            NodeConfig,
            speed=declare_config(self, SpeedSettings, prefix='speed.'),
            constant=declare_config(self, ConstantSettings, prefix='constant.'),
        )
        # The onnxruntime session is created here, once, not per request.
        self.controllers = build_controllers(
            self.config.controllers, self.config.controller, self.config.model_path
        )
        card = self.controllers.get('learned').card
        differ = card.speed_difference(self.config.controllers) if card else None
        if differ:
            self.get_logger().warning(
                f'the learned policy runs at writing speeds it was not trained with: {differ}'
            )
        self.service = self.create_service(
            ComputeBrushPath, 'compute_brush_path', self._on_compute_brush_path
        )
        self.get_logger().info(
            f'serving /compute_brush_path (default controller {self.config.controller})'
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


def main(args: list[str] | None = None) -> int:
    # One service, answered one request at a time: one executor thread, as before the kit.
    return run_node(BrushPolicyNode, 'brush_policy_node', args, threads=1)


if __name__ == '__main__':
    sys.exit(main())
