"""/plan_strokes served by stroke_planner_node over a real rclpy graph."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node

from calligraphy_interfaces.srv import PlanStrokes
from stroke_planner.conversions import msg_to_plan, plan_to_msg
from stroke_planner.planner import plan_character
from stroke_planner.stroke_planner_node import StrokePlannerNode


def test_plan_message_round_trip_keeps_strokes():
    plan = plan_character('永', box_x_m=0.1, box_y_m=0.02)
    msg = plan_to_msg(plan)
    assert msg.header.frame_id == 'paper' and msg.source == 'stroke_data'
    back = msg_to_plan(msg)
    assert back.character == '永' and len(back.strokes) == len(plan.strokes)
    for a, b in zip(plan.strokes, back.strokes, strict=True):
        assert np.allclose(a.centreline, b.centreline) and np.allclose(a.width_m, b.width_m)
        assert a.travel_from_previous_m == pytest.approx(b.travel_from_previous_m)


def _call(executor_node: Node, client, request: PlanStrokes.Request):
    future = client.call_async(request)
    done = threading.Event()
    future.add_done_callback(lambda _: done.set())
    assert done.wait(20.0), 'no response within 20 s'
    return future.result()


@pytest.mark.timeout(60)
def test_node_plans_text_and_keeps_serving_after_bad_requests(rclpy_context):
    server = StrokePlannerNode(context=rclpy_context)
    client_node = Node('plan_strokes_test_client', context=rclpy_context)
    executor = MultiThreadedExecutor(context=rclpy_context)
    executor.add_node(server)
    executor.add_node(client_node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    client = client_node.create_client(PlanStrokes, 'plan_strokes')
    try:
        assert client.wait_for_service(timeout_sec=20.0), '/plan_strokes not discovered'

        response = _call(client_node, client, PlanStrokes.Request(text='永 A\n三'))
        assert response.error_code == PlanStrokes.Response.SUCCESS, response.error_msg
        assert [p.character for p in response.plans] == ['永', 'A', '三']
        yong = response.plans[0]
        assert yong.source == 'stroke_data' and len(yong.strokes) == 5
        assert yong.box_size_m == pytest.approx(0.06)
        assert yong.header.frame_id == 'paper'
        assert all(len(s.centreline) == len(s.width_m) > 1 for s in yong.strokes)
        assert response.plans[2].box_y_m < yong.box_y_m  # the line break went down a row

        bad = [
            (PlanStrokes.Request(text=''), PlanStrokes.Response.EMPTY_TEXT),
            (
                PlanStrokes.Request(text='永', font='hershey'),
                PlanStrokes.Response.CHARACTER_NOT_IN_FONT,
            ),
            (
                PlanStrokes.Request(text='永', font='/nonexistent/font.ttf'),
                PlanStrokes.Response.FONT_UNREADABLE,
            ),
            (
                PlanStrokes.Request(text='永', char_size_m=2.0),
                PlanStrokes.Response.SIZE_OUT_OF_RANGE,
            ),
            (PlanStrokes.Request(text='永', layout='spiral'), PlanStrokes.Response.LAYOUT_INVALID),
            (PlanStrokes.Request(text='永' * 50), PlanStrokes.Response.TEXT_DOES_NOT_FIT),
        ]
        for request, code in bad:
            response = _call(client_node, client, request)
            assert response.error_code == code, response.error_msg
            assert response.error_msg and not response.plans

        request = PlanStrokes.Request(
            text='十',
            char_size_m=0.03,
            use_box=True,
            box_x_m=0.2,
            box_y_m=0.1,
            resample_step_m=0.001,
        )
        response = _call(client_node, client, request)
        assert response.error_code == PlanStrokes.Response.SUCCESS, 'node stopped serving'
        (plan,) = response.plans
        assert (plan.box_x_m, plan.box_y_m, plan.box_size_m) == (0.2, 0.1, 0.03)
        assert plan.resample_step_m == pytest.approx(0.001)
    finally:
        executor.shutdown()
        client_node.destroy_node()
        server.destroy_node()
