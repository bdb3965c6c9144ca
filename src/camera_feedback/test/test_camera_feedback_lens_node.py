"""camera_feedback_node with `camera_info_topic` set, as on the real cell (realsense2_camera's
color/camera_info): frames are undistorted with the camera's K and D; a calibration it cannot
use, or none yet, is a clear error code and the node stays up."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from calligraphy_interfaces.srv import ObservePaper
from calligraphy_model.polling import wait_until
from calligraphy_sim.camera import SimulatedCamera
from calligraphy_sim.camera_conversions import array_to_rgb8, camera_info
from camera_feedback.camera_feedback_node import CameraFeedbackNode
from camera_feedback.synthetic import line_stroke, sheet_with_strokes

IMAGE = '/lens_test/camera/color/image_raw'
INFO = '/lens_test/camera/color/camera_info'
PLUMB_BOB = [-0.12, 0.09, 0.0008, -0.0006, -0.03]


def _distorted(camera: SimulatedCamera, image: np.ndarray) -> np.ndarray:
    import cv2

    k = camera.config.camera_matrix()
    rows, cols = image.shape[:2]
    grid = np.stack(np.meshgrid(np.arange(cols), np.arange(rows)), axis=-1).reshape(-1, 1, 2)
    ideal = cv2.undistortPoints(grid.astype(np.float64), k, np.array(PLUMB_BOB), P=k)
    maps = ideal.reshape(rows, cols, 2).astype(np.float32)
    return cv2.remap(image, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)


@pytest.mark.timeout(90)
def test_frames_are_undistorted_from_camera_info_and_bad_calibrations_are_refused(rclpy_context):
    camera = SimulatedCamera(seed=5)
    sheet = sheet_with_strokes([line_stroke((0.05, 0.19), (0.25, 0.19), 0.004)])
    frame = array_to_rgb8(_distorted(camera, camera.render(sheet)), Header())
    good_info = camera_info(camera.config, Header())
    good_info.d = PLUMB_BOB
    unknown_model = camera_info(camera.config, Header())
    unknown_model.distortion_model, unknown_model.d = 'ftheta', [0.1, 0.0, 0.0, 0.0, 0.0]

    feedback = CameraFeedbackNode(
        context=rclpy_context,
        parameter_overrides=[
            Parameter('image_topic', value=IMAGE),
            Parameter('camera_info_topic', value=INFO),
        ],
    )
    probe = Node('lens_probe', context=rclpy_context)
    client = probe.create_client(ObservePaper, '/observe_paper')
    image_pub = probe.create_publisher(type(frame), IMAGE, 2)
    info_pub = probe.create_publisher(CameraInfo, INFO, 2)
    executor = MultiThreadedExecutor(context=rclpy_context)
    for node in (feedback, probe):
        executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()

    def observe(info: CameraInfo | None) -> ObservePaper.Response:
        # Frames (and the driver's camera_info beside them) stream while the request waits.
        future = client.call_async(ObservePaper.Request(include_images=True))

        def stream() -> bool:
            if not future.done():
                if info is not None:
                    info_pub.publish(info)
                image_pub.publish(frame)
            return future.done()

        assert wait_until(stream, 30.0, interval_s=0.05), 'no answer from /observe_paper'
        return future.result()

    try:
        assert client.wait_for_service(timeout_sec=20.0)
        response = observe(None)
        assert response.error_code == ObservePaper.Response.NO_IMAGE
        assert f'no camera_info on {INFO}' in response.error_msg

        response = observe(unknown_model)
        assert response.error_code == ObservePaper.Response.BAD_ENCODING
        assert "'ftheta' cannot be corrected" in response.error_msg

        response = observe(good_info)
        assert response.error_code == ObservePaper.Response.SUCCESS, response.error_msg
        # The stroke along the top edge lies straight on the rectified sheet (a 0.75 mm bow
        # without the correction, test_camera_feedback_undistortion).
        observation = response.observation
        mask = (
            np.frombuffer(bytes(observation.ink_mask.data), np.uint8).reshape(
                observation.ink_mask.height, observation.ink_mask.step
            )[:, : observation.ink_mask.width]
            > 0
        )
        columns = np.nonzero(mask.any(axis=0))[0][20:-20]
        rows = np.arange(mask.shape[0])[:, None]
        centres = (rows * mask).sum(axis=0)[columns] / mask.sum(axis=0)[columns]
        bow_mm = np.ptp(centres) * observation.metres_per_pixel * 1000
        assert bow_mm < 0.15, f'stroke centreline bows {bow_mm:.2f} mm'
    finally:
        executor.shutdown()
        spinner.join(timeout=5.0)
        feedback.destroy_node()
        probe.destroy_node()
