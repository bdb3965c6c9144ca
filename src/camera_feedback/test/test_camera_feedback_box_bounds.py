"""/observe_paper refuses a box that is not finite or has a negative size with INVALID_BOX,
before it waits for a frame, and keeps serving."""

from __future__ import annotations

import math
import threading
import time

import pytest
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter

from calligraphy_interfaces.msg import PlannedStroke, StrokePlan
from calligraphy_interfaces.srv import ObservePaper
from calligraphy_model.polling import wait_until
from camera_feedback.camera_feedback_node import CameraFeedbackNode

Response = ObservePaper.Response


def _target(x: float, y: float, size: float) -> StrokePlan:
    plan = StrokePlan(box_x_m=x, box_y_m=y, box_size_m=size)
    plan.strokes.append(PlannedStroke(index=0, width_m=[0.002]))
    return plan


@pytest.mark.timeout(180)
def test_non_finite_or_negative_boxes_get_invalid_box_at_once(rclpy_context):
    # No camera publishes: a request that got past the box check would wait out the frame timeout.
    node = CameraFeedbackNode(
        context=rclpy_context,
        parameter_overrides=[
            Parameter('image_topic', value='/box_bounds_test/image'),
            # A frame wait would take this long (no frames come): a refusal is far quicker.
            Parameter('frame_timeout_s', value=20.0),
        ],
    )
    probe = Node('box_bounds_probe', context=rclpy_context)
    client = probe.create_client(ObservePaper, '/observe_paper')
    executor = MultiThreadedExecutor(context=rclpy_context)
    executor.add_node(node)
    executor.add_node(probe)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        assert client.wait_for_service(timeout_sec=20.0)
        requests = {
            'nan box': ObservePaper.Request(box_x_m=math.nan, box_y_m=0.1, box_size_m=0.05),
            'inf size': ObservePaper.Request(box_x_m=0.1, box_y_m=0.1, box_size_m=math.inf),
            'nan size': ObservePaper.Request(box_x_m=0.1, box_y_m=0.1, box_size_m=math.nan),
            'negative size': ObservePaper.Request(box_x_m=0.1, box_y_m=0.1, box_size_m=-0.05),
            'nan target box': ObservePaper.Request(target=_target(0.1, math.nan, 0.06)),
        }
        for name, request in requests.items():
            started = time.monotonic()
            future = client.call_async(request)
            assert wait_until(future.done, 60.0), f'{name}: no answer'
            response = future.result()
            elapsed = time.monotonic() - started
            assert response.error_code == Response.INVALID_BOX, (name, response.error_msg)
            assert 'finite' in response.error_msg and len(response.error_msg) < 200
            # Refused before the 20 s frame wait, not after it.
            assert elapsed < 15.0, f'{name}: answered after {elapsed:.1f} s'
            assert math.isnan(response.observation.score.iou)
        # Still serving: a valid request gets past the box check (and finds no camera).
        future = client.call_async(ObservePaper.Request(box_x_m=0.1, box_y_m=0.1, box_size_m=0.05))
        assert wait_until(future.done, 60.0, interval_s=0.05)
        assert future.result().error_code == Response.NO_IMAGE
    finally:
        executor.shutdown()
        thread.join(timeout=5.0)
        node.destroy_node()
        probe.destroy_node()
