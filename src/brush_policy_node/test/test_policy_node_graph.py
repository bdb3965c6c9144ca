"""brush_policy_node in a real rclpy graph: /compute_brush_path across processes, with codes."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from geometry_msgs.msg import Point
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from brush_policy_node.config import ControllerConfig
from calligraphy_interfaces.msg import PlannedStroke, StrokePlan
from calligraphy_interfaces.srv import ComputeBrushPath


def _plan(n: int = 40, nan_at: int = -1) -> StrokePlan:
    plan = StrokePlan(character='一', font='ukai', box_size_m=0.06, resample_step_m=0.0005)
    plan.header.frame_id = 'paper'
    stroke = PlannedStroke(index=0)
    stroke.centreline = [Point(x=0.03 + 0.0005 * i, y=0.05, z=0.0) for i in range(n)]
    if nan_at >= 0:
        stroke.centreline[nan_at].x = math.nan
    stroke.width_m = [0.002 + 0.002 * math.sin(math.pi * i / (n - 1)) for i in range(n)]
    plan.strokes = [stroke]
    return plan


def _call(executor, client, request) -> ComputeBrushPath.Response:
    future = client.call_async(request)
    executor.spin_until_future_complete(future, timeout_sec=15.0)
    assert future.done(), 'no response within 15 s'
    return future.result()


@pytest.mark.timeout(90)
def test_service_answers_paths_and_bad_requests_get_codes(rclpy_context, spawn_process):
    server = spawn_process('-m', 'brush_policy_node.brush_policy_node')
    node = Node('brush_policy_test_client', context=rclpy_context)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(node)
    client = node.create_client(ComputeBrushPath, 'compute_brush_path')
    try:
        assert client.wait_for_service(timeout_sec=30.0), 'brush_policy_node not discovered'
        codes = ComputeBrushPath.Response

        ok = _call(executor, client, ComputeBrushPath.Request(plan=_plan()))
        assert ok.error_code == codes.SUCCESS, ok.error_msg
        (path,) = ok.paths
        assert path.controller == 'learned' and path.header.frame_id == 'paper'
        assert len(path.x_m) == len(path.pressing_depth_m) == len(path.time_from_start_s) == 40
        assert all(
            b > a
            for a, b in zip(path.time_from_start_s[:-1], path.time_from_start_s[1:], strict=True)
        )
        assert ok.fell_back == [False]
        # 19.5 mm at speeds within the node's limits (20..100 mm/s by default).
        limits = ControllerConfig()
        shortest, longest = 0.0195 / limits.speed_max_mps, 0.0195 / limits.speed_min_mps
        assert shortest - 1e-6 <= path.time_from_start_s[-1] <= longest + 1e-6

        request = ComputeBrushPath.Request(plan=_plan(), controller='constant')
        constant = _call(executor, client, request)
        assert constant.paths[0].controller == 'constant'
        assert len(set(constant.paths[0].pressing_depth_m)) == 1

        request = ComputeBrushPath.Request(plan=_plan(), controller='learned')
        request.brush_state.width_gain = 5.0
        request.brush_state.ink_load = 1.0
        odd = _call(executor, client, request)
        assert odd.error_code == codes.SUCCESS and odd.fell_back == [True]
        assert odd.paths[0].controller == 'analytic' and 'width_gain' in odd.warnings[0]

        bad = [
            (ComputeBrushPath.Request(plan=StrokePlan()), codes.EMPTY_PLAN),
            (ComputeBrushPath.Request(plan=_plan(nan_at=5)), codes.INVALID_PLAN),
            (
                ComputeBrushPath.Request(plan=_plan(), controller='spline'),
                codes.UNKNOWN_CONTROLLER,
            ),
            (
                ComputeBrushPath.Request(plan=_plan(), stroke_indices=[2]),
                codes.STROKE_INDEX_OUT_OF_RANGE,
            ),
        ]
        for request, code in bad:
            response = _call(executor, client, request)
            assert response.error_code == code, response.error_msg
            assert response.error_msg and not response.paths

        again = _call(executor, client, ComputeBrushPath.Request(plan=_plan()))
        assert again.error_code == codes.SUCCESS and server.poll() is None
    finally:
        node.destroy_client(client)
        executor.shutdown()
        node.destroy_node()


def test_a_bad_parameter_stops_the_node_with_one_line_and_exit_2():
    started = subprocess.run(
        [sys.executable, '-m', 'brush_policy_node.brush_policy_node', '--ros-args']
        + ['-p', 'controller:=spline', '-p', 'speed.min_mps:=0.01'],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2, started.stderr
    assert started.stderr.strip().splitlines()[-1].startswith('brush_policy_node: error: ')
    assert "'spline'" in started.stderr and 'Traceback' not in started.stderr
