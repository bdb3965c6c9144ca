"""camera_feedback_node in a live rclpy graph: virtual paper image → sim camera node → camera
feedback node → /observe_paper, with real markers, rectification and the planner's target glyph."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from geometry_msgs.msg import Point
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from calligraphy_interfaces.msg import PaperObservation, PlannedStroke, StrokePlan
from calligraphy_interfaces.srv import ObservePaper
from calligraphy_model.polling import wait_until
from calligraphy_model.stroke_width import render_strokes
from calligraphy_model.types import StrokeSpec
from calligraphy_sim.camera_conversions import array_to_rgb8
from calligraphy_sim.sim_camera_node import SimCameraNode
from camera_feedback.camera_feedback_node import CameraFeedbackNode
from camera_feedback.synthetic import SHEET, SHEET_MPP
from stroke_planner import ceiling_iou, plan_character

BOX = (0.06, 0.12, 0.06)  # x, y, size: upper-left part of the sheet


def _plan_msg(plan) -> StrokePlan:
    msg = StrokePlan(header=Header(frame_id='paper'), character=plan.character, font=plan.font)
    msg.source = str(plan.source)
    msg.box_x_m, msg.box_y_m, msg.box_size_m = plan.box_x_m, plan.box_y_m, plan.box_size_m
    msg.resample_step_m = plan.step_m
    for index, stroke in enumerate(plan.strokes):
        msg.strokes.append(
            PlannedStroke(
                index=index,
                centreline=[Point(x=float(x), y=float(y)) for x, y in stroke.centreline],
                width_m=[float(w) for w in stroke.width_m],
            )
        )
    return msg


def _call(node: Node, client, request, timeout_s: float = 20.0, stream=None):
    """Call and wait; `stream()` is called every 50 ms meanwhile, like a camera streaming
    frames (an observation only takes a frame captured after its request)."""
    future = client.call_async(request)

    def answered() -> bool:
        if stream is not None and not future.done():
            stream()
        return future.done()

    assert wait_until(answered, timeout_s, interval_s=0.05), 'no response from /observe_paper'
    return future.result()


class _Graph:
    def __init__(self, context, *nodes: Node) -> None:
        self.executor = MultiThreadedExecutor(context=context)
        for node in nodes:
            self.executor.add_node(node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def close(self, *nodes: Node) -> None:
        self.executor.shutdown()
        self.thread.join(timeout=5.0)
        for node in nodes:
            node.destroy_node()


@pytest.mark.timeout(90)
def test_observe_paper_scores_a_written_character_through_the_sim_camera(rclpy_context):
    plan = plan_character('永', box_x_m=BOX[0], box_y_m=BOX[1], size_m=BOX[2])
    strokes = [StrokeSpec(s.centreline, s.width_m, i) for i, s in enumerate(plan.strokes)]
    # The first three strokes are written with exactly their planned widths.
    ink = render_strokes(strokes[:3], SHEET, SHEET_MPP)
    sheet = np.full((*ink.shape, 3), 255, np.uint8)
    sheet[ink] = 25

    feedback = CameraFeedbackNode(context=rclpy_context)
    probe = Node('observe_probe', context=rclpy_context)
    client = probe.create_client(ObservePaper, '/observe_paper')
    graph = _Graph(rclpy_context, feedback, probe)
    camera = None
    try:
        assert client.wait_for_service(timeout_sec=20.0)
        request = ObservePaper.Request(target=_plan_msg(plan), strokes_written=3)
        response = _call(probe, client, request)
        assert response.error_code == ObservePaper.Response.NO_IMAGE, response.error_msg
        assert 'no camera image' in response.error_msg

        camera = SimCameraNode(context=rclpy_context)
        graph.executor.add_node(camera)
        paper_pub = probe.create_publisher(Image, '/virtual_paper/image', 2)
        deadline = time.monotonic() + 30.0
        while True:
            request.include_images = True
            # The sheet is streamed while the request waits for a frame captured after it.
            response = _call(
                probe,
                client,
                request,
                stream=lambda: paper_pub.publish(array_to_rgb8(sheet, Header(frame_id='paper'))),
            )
            written = list(response.observation.strokes)
            if response.error_code == 0 and written and written[0].coverage > 0.5:
                break
            assert time.monotonic() < deadline, f'{response.error_code}: {response.error_msg}'

        observation = response.observation
        assert observation.metres_per_pixel == pytest.approx(SHEET_MPP)
        assert (observation.ink_mask.height, observation.ink_mask.width) == (240, 240)
        assert [s.stroke_index for s in observation.strokes] == [0, 1, 2]
        for stroke in observation.strokes:
            assert stroke.width_error_m < 0.0003, stroke.stroke_index
            assert stroke.coverage > 0.9
        # Three of five strokes cover part of the glyph and spill little beyond it.
        assert 0.2 < observation.score.coverage < ceiling_iou(plan) + 0.05
        assert observation.score.spill < 0.15
        assert observation.score.iou > 0.2

        latched: list[PaperObservation] = []
        qos = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        probe.create_subscription(PaperObservation, '/paper_observation', latched.append, qos)
        assert wait_until(lambda: latched, 10.0, interval_s=0.05), (
            'a late subscriber did not get the latched observation'
        )
        assert latched[0].score.iou == pytest.approx(observation.score.iou)
    finally:
        nodes = [feedback, probe] + ([camera] if camera else [])
        graph.close(*nodes)


@pytest.mark.timeout(60)
def test_bad_frames_get_their_codes_and_the_node_stays_up(rclpy_context):
    feedback = CameraFeedbackNode(
        context=rclpy_context,
        parameter_overrides=[Parameter('image_topic', value='/test_camera/image')],
    )
    probe = Node('bad_frame_probe', context=rclpy_context)
    client = probe.create_client(ObservePaper, '/observe_paper')
    image_pub = probe.create_publisher(Image, '/test_camera/image', 2)
    graph = _Graph(rclpy_context, feedback, probe)

    def observe_after(image: Image) -> ObservePaper.Response:
        request = ObservePaper.Request(box_x_m=0.1, box_y_m=0.1, box_size_m=0.05)
        return _call(probe, client, request, stream=lambda: image_pub.publish(image))

    try:
        assert client.wait_for_service(timeout_sec=20.0)
        depth = Image(encoding='32FC1', height=4, width=4, step=16, data=bytes(64))
        response = observe_after(depth)
        assert response.error_code == ObservePaper.Response.BAD_ENCODING
        assert '32FC1' in response.error_msg

        grey = array_to_rgb8(np.full((720, 1280, 3), 128, np.uint8), Header())
        response = observe_after(grey)
        assert response.error_code == ObservePaper.Response.MARKERS_NOT_FOUND
        assert np.isnan(response.observation.score.iou), 'no score may be reported'

        outside = ObservePaper.Request(box_x_m=0.28, box_y_m=0.1, box_size_m=0.05)
        from calligraphy_sim.camera import SimulatedCamera

        sheet = array_to_rgb8(SimulatedCamera(seed=9).render(), Header())
        response = _call(probe, client, outside, stream=lambda: image_pub.publish(sheet))
        assert response.error_code == ObservePaper.Response.BOX_OUTSIDE_SHEET
        response = _call(
            probe, client, ObservePaper.Request(), stream=lambda: image_pub.publish(sheet)
        )
        assert response.error_code == ObservePaper.Response.SUCCESS, response.error_msg
        assert response.observation.region_width_m == pytest.approx(SHEET.width_m)
    finally:
        graph.close(feedback, probe)


@pytest.mark.timeout(90)
def test_an_observation_waits_for_a_frame_from_the_clients_not_before(rclpy_context):
    """The writer passes the robot time its arm arrived (ExecuteBrushPath's arrived_at): a frame
    captured after the request by this node's clock but before that moment (in simulation the
    node's clock is the last /clock it heard, and can lag the arm) must not be taken."""
    plan = plan_character('一', box_x_m=BOX[0], box_y_m=BOX[1], size_m=BOX[2])
    strokes = [StrokeSpec(s.centreline, s.width_m, i) for i, s in enumerate(plan.strokes)]
    ink = render_strokes(strokes, SHEET, SHEET_MPP)
    blank = np.full((*ink.shape, 3), 255, np.uint8)
    written = blank.copy()
    written[ink] = 25

    feedback = CameraFeedbackNode(
        context=rclpy_context, parameter_overrides=[Parameter('frame_timeout_s', value=10.0)]
    )
    camera = SimCameraNode(context=rclpy_context)
    probe = Node('observe_probe', context=rclpy_context)
    client = probe.create_client(ObservePaper, '/observe_paper')
    paper_pub = probe.create_publisher(Image, '/virtual_paper/image', 2)
    graph = _Graph(rclpy_context, feedback, camera, probe)
    try:
        assert client.wait_for_service(timeout_sec=20.0)
        arrived = probe.get_clock().now().nanoseconds * 1e-9 + 3.0
        request = ObservePaper.Request(target=_plan_msg(plan), strokes_written=1)
        request.not_before.sec, request.not_before.nanosec = divmod(int(arrived * 1e9), 10**9)

        def stream() -> None:
            # The sheet as the camera sees it now, stamped now; from `arrived` on it holds the
            # stroke (the paper has caught up with the arm).
            now = probe.get_clock().now().nanoseconds * 1e-9
            sheet = written if now >= arrived else blank
            header = Header(frame_id='paper')
            header.stamp.sec, header.stamp.nanosec = divmod(int(now * 1e9), 10**9)
            paper_pub.publish(array_to_rgb8(sheet, header))

        response = _call(probe, client, request, timeout_s=30.0, stream=stream)
        assert response.error_code == ObservePaper.Response.SUCCESS, response.error_msg
        stamp = response.observation.header.stamp
        assert stamp.sec + 1e-9 * stamp.nanosec >= arrived - 1e-6
        # The stroke is seen: a frame of the blank sheet (stamped after the request but before
        # the arm arrived) would score coverage 0.
        assert response.observation.strokes[0].coverage > 0.8
        assert response.observation.score.iou > 0.5
        # A frame already held that was captured after not_before is taken as it is: asked again
        # with nothing streamed any more, the answer is that frame, not a wait for another one.
        again = _call(probe, client, request, timeout_s=30.0)
        assert again.error_code == ObservePaper.Response.SUCCESS, again.error_msg
        assert (
            again.observation.header.stamp.sec + 1e-9 * again.observation.header.stamp.nanosec
            >= arrived - 1e-6
        )
        assert again.observation.strokes[0].coverage > 0.8
    finally:
        graph.close(feedback, camera, probe)
