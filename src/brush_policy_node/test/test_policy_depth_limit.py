"""One depth limit for the cell: the policy clips what the motion executor would refuse.

A 30 mm wide stroke once came back from /compute_brush_path at 12 mm of depth (SUCCESS), which
the executor, limited to 8 mm, refused with TOO_DEEP: every character of 80 mm or more failed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml
from ament_index_python.packages import get_package_share_directory
from geometry_msgs.msg import Point
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node

from brush_policy_node.brush_policy_node import BrushPolicyNode
from brush_policy_node.config import CELL_MAX_PRESSING_DEPTH_M
from calligraphy_interfaces.msg import PlannedStroke, StrokePlan
from calligraphy_interfaces.srv import ComputeBrushPath
from calligraphy_model.polling import wait_until
from motion_executor.config import ExecutorConfig

WIDE_M = 0.030


def load_parameters(config: str) -> dict[str, dict]:
    """{node: {parameter: value}} of an installed cell configuration (calligraphy_bringup's
    config/NAME.yaml). Read as data, not declared: the bringup depends on this package, and a
    test_depend back would be a cycle colcon refuses."""
    share = Path(get_package_share_directory('calligraphy_bringup'))
    document = yaml.safe_load((share / 'config' / f'{config}.yaml').read_text())
    return {node: section.get('ros__parameters', {}) for node, section in document.items()}


def _wide_stroke_plan(n: int = 60) -> StrokePlan:
    plan = StrokePlan(character='一', font='ukai', box_size_m=0.2, resample_step_m=0.002)
    plan.header.frame_id = 'paper'
    stroke = PlannedStroke(index=0)
    stroke.centreline = [Point(x=0.05 + 0.002 * i, y=0.1, z=0.0) for i in range(n)]
    stroke.width_m = [WIDE_M] * n
    plan.strokes = [stroke]
    return plan


@pytest.mark.parametrize('config', ['sim', 'real_cell'])
def test_the_cell_configs_give_policy_and_executor_one_depth_limit(config):
    parameters = load_parameters(config)
    policy = parameters['brush_policy_node'].get('max_depth_m', CELL_MAX_PRESSING_DEPTH_M)
    executor = parameters['motion_executor_node'].get(
        'max_pressing_depth_m', ExecutorConfig().max_pressing_depth_m
    )
    assert policy == executor == pytest.approx(0.008)
    # The defaults agree too, for a node started without the cell's config.
    assert CELL_MAX_PRESSING_DEPTH_M == ExecutorConfig().max_pressing_depth_m


@pytest.mark.timeout(90)
def test_a_30_mm_wide_stroke_is_clipped_to_the_limit_with_a_warning(rclpy_context):
    server = BrushPolicyNode(context=rclpy_context)
    probe = Node('depth_limit_probe', context=rclpy_context)
    client = probe.create_client(ComputeBrushPath, 'compute_brush_path')
    executor = MultiThreadedExecutor(context=rclpy_context)
    executor.add_node(server)
    executor.add_node(probe)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    limit = server.config.controllers.max_depth_m
    try:
        assert limit == pytest.approx(0.008)
        assert client.wait_for_service(timeout_sec=20.0)
        for controller in ('constant', 'analytic', 'learned'):
            future = client.call_async(
                ComputeBrushPath.Request(plan=_wide_stroke_plan(), controller=controller)
            )
            assert wait_until(future.done, 20.0), f'{controller}: no answer'
            response = future.result()
            assert response.error_code == ComputeBrushPath.Response.SUCCESS, response.error_msg
            deepest = max(response.paths[0].pressing_depth_m)
            assert deepest <= limit + 1e-12, f'{controller}: {deepest * 1e3:.2f} mm'
            assert deepest == pytest.approx(limit), 'a 30 mm stroke needs the full depth'
            clipped = [w for w in response.warnings if 'clipped' in w]
            assert clipped and '8.00 mm limit' in clipped[0], response.warnings
    finally:
        executor.shutdown()
        thread.join(timeout=5.0)
        server.destroy_node()
        probe.destroy_node()
