"""The simulated camera: geometry, image formation and its ROS node in a live graph."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from calligraphy_sim.camera import SimCameraConfig, SimulatedCamera, print_markers
from calligraphy_sim.camera_conversions import array_to_rgb8, rgb8_to_array

SHEET_CORNERS = np.array([[0.0, 0.0], [0.297, 0.0], [0.297, 0.21], [0.0, 0.21]])
MPP = 0.00025


def _sheet_with_square(x_m: float, y_m: float, side_m: float) -> np.ndarray:
    sheet = np.full((840, 1188, 3), 255, np.uint8)
    top = int(round((0.21 - y_m - side_m) / MPP))
    left = int(round(x_m / MPP))
    n = int(round(side_m / MPP))
    sheet[top : top + n, left : left + n] = 20
    return sheet


def test_default_camera_sees_the_whole_sheet_in_perspective():
    config = SimCameraConfig()
    corners = config.project(SHEET_CORNERS)
    assert (corners[:, 0] > 20).all() and (corners[:, 0] < config.width_px - 20).all()
    assert (corners[:, 1] > 20).all() and (corners[:, 1] < config.height_px - 20).all()
    near_edge = corners[1, 0] - corners[0, 0]
    far_edge = corners[2, 0] - corners[3, 0]
    assert near_edge > 1.1 * far_edge, 'the sheet should appear as a trapezoid'
    # The sheet's top (y = 0.21) is at the top of the image.
    assert corners[3, 1] < corners[0, 1]


def test_ink_appears_where_the_camera_model_projects_it():
    camera = SimulatedCamera(seed=1)
    frame = camera.render(_sheet_with_square(0.14, 0.09, 0.02))
    u, v = camera.config.project(np.array([[0.15, 0.10]]))[0]
    assert frame[int(round(v)), int(round(u))].mean() < 40
    u, v = camera.config.project(np.array([[0.19, 0.10]]))[0]
    assert frame[int(round(v)), int(round(u))].mean() > 120


def test_lighting_falls_off_across_the_sheet_and_noise_is_seeded():
    camera = SimulatedCamera(seed=5)
    frame = camera.render()
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(float)
    lit = camera.config.project(np.array([[0.06, 0.18]]))[0].round().astype(int)
    far = camera.config.project(np.array([[0.28, 0.02]]))[0].round().astype(int)
    assert grey[lit[1], lit[0]] > 1.2 * grey[far[1], far[0]]
    again = SimulatedCamera(seed=5).render()
    other = SimulatedCamera(seed=6).render()
    assert np.array_equal(frame, again)
    noise = np.abs(frame.astype(int) - other.astype(int))
    assert 1.0 < noise.mean() < 8.0


def test_frames_of_one_sheet_differ_only_by_noise_and_a_new_stroke_shows_at_once():
    camera = SimulatedCamera(seed=2)
    sheet = _sheet_with_square(0.14, 0.09, 0.02)
    first, second = camera.render(sheet), camera.render(sheet.copy())
    assert not np.array_equal(first, second), 'each frame has its own sensor noise'
    assert abs(first.astype(float).mean() - second.astype(float).mean()) < 0.2
    # The same sheet with ink added in place (a stroke written since): the new ink is in the frame.
    sheet[200:260, 300:700] = 20
    inked = camera.render(sheet)
    u, v = camera.config.project(np.array([[0.125, 0.155]]))[0]
    assert inked[int(round(v)), int(round(u))].mean() < 40
    assert first[int(round(v)), int(round(u))].mean() > 120


def test_printed_markers_decode_with_opencv_aruco():
    sheet = print_markers(np.full((840, 1188, 3), 255, np.uint8), MPP, SimCameraConfig().markers)
    detector = cv2.aruco.ArucoDetector(
        cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), cv2.aruco.DetectorParameters()
    )
    corners, ids, _ = detector.detectMarkers(cv2.cvtColor(sheet, cv2.COLOR_RGB2GRAY))
    assert sorted(ids.reshape(-1).tolist()) == [0, 1, 2, 3]
    # Marker 3 sits at the upper-left: its first corner 5 mm from the left and top edges.
    first = corners[list(ids.reshape(-1)).index(3)].reshape(4, 2)[0]
    assert first == pytest.approx([20 - 0.5, 20 - 0.5], abs=1.0)


@pytest.mark.parametrize(
    'config',
    [SimCameraConfig(), SimCameraConfig(blur_px=0.0), SimCameraConfig(blur_px=1.7, supersample=3)],
    ids=['default', 'no blur', 'blur 1.7 px, supersample 3'],
)
def test_a_stroke_is_imaged_by_forming_only_the_image_around_it_as_forming_it_whole_would(config):
    camera = SimulatedCamera(config)
    sheet = camera.blank_sheet()
    camera.render(sheet)
    optics = camera.optics
    before = optics.signal.copy()
    # A stroke in the middle, ink over the upper-left marker at the sheet's edge, a dot at the
    # lower-right corner: each formed in its own part of the image.
    strokes = [
        (slice(300, 330), slice(400, 700)),
        (slice(0, 40), slice(0, 60)),
        (slice(830, 840), slice(1150, 1188)),
    ]
    for rows, cols in strokes:
        sheet[rows, cols] = 20  # in place, as a caller may
        camera.render(sheet)
    whole = SimulatedCamera(config)
    whole.render(sheet.copy())
    # The same image as forming it whole, to far below the read noise (1.5 DN) and a digital
    # number (the coordinates of OpenCV's warp are float32: parts and whole round differently).
    assert np.abs(optics.signal - whole.optics.signal).max() < 0.05
    assert np.abs(optics.noise_sigma - whole.optics.noise_sigma).max() < 0.01
    # The stroke darkened the image where the camera model puts it; the table around the
    # sheet and the sheet away from the strokes were not formed again.
    u, v = config.project(np.array([[0.15, 0.21 - 315 * MPP]]))[0].round().astype(int)
    assert optics.signal[v, u].mean() < 0.3 * before[v, u].mean()
    assert np.array_equal(optics.signal[:, :20], before[:, :20])
    u, v = config.project(np.array([[0.2, 0.05]]))[0].round().astype(int)
    assert np.array_equal(
        optics.signal[v - 5 : v + 5, u - 5 : u + 5], before[v - 5 : v + 5, u - 5 : u + 5]
    )


def test_wrong_sheet_size_is_rejected():
    with pytest.raises(ValueError, match='sheet image must be'):
        SimulatedCamera().render(np.zeros((100, 100, 3), np.uint8))


def test_rgb8_round_trip_and_other_encodings_rejected():
    image = np.random.default_rng(0).integers(0, 255, (7, 5, 3), dtype=np.uint8)
    msg = array_to_rgb8(image, Header(frame_id='x'))
    assert np.array_equal(rgb8_to_array(msg), image)
    msg.encoding = 'mono16'
    with pytest.raises(ValueError, match='rgb8'):
        rgb8_to_array(msg)


@pytest.mark.timeout(60)
def test_node_publishes_the_virtual_paper_as_camera_frames(rclpy_context):
    from calligraphy_sim.sim_camera_node import SimCameraNode

    camera_node = SimCameraNode(context=rclpy_context)
    probe = Node('sim_camera_probe', context=rclpy_context)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(camera_node)
    executor.add_node(probe)
    frames: list[Image] = []
    infos: list[CameraInfo] = []
    probe.create_subscription(Image, '/camera/color/image_raw', frames.append, 2)
    probe.create_subscription(CameraInfo, '/camera/color/camera_info', infos.append, 2)
    paper_pub = probe.create_publisher(Image, '/virtual_paper/image', 2)
    sheet = _sheet_with_square(0.14, 0.09, 0.02)
    bad = Image(encoding='32FC1', height=1, width=1, step=4, data=b'\0\0\0\0')
    try:
        deadline = time.monotonic() + 30.0
        seen_ink = False
        config = SimCameraConfig()
        u, v = config.project(np.array([[0.15, 0.10]]))[0].round().astype(int)
        paper_pub.publish(bad)
        for _ in range(5):
            executor.spin_once(timeout_sec=0.1)
        while time.monotonic() < deadline and not seen_ink:
            paper_pub.publish(array_to_rgb8(sheet, Header(frame_id='paper')))
            for _ in range(3):
                executor.spin_once(timeout_sec=0.1)
            if frames:
                seen_ink = rgb8_to_array(frames[-1])[v, u].mean() < 40
        assert seen_ink, f'{len(frames)} frames, none showing the ink'
        # CameraInfo goes out just after its image; the probe may not have taken it yet.
        while time.monotonic() < deadline and not infos:
            executor.spin_once(timeout_sec=0.1)
        assert frames[-1].header.frame_id == 'camera_color_optical_frame'
        assert (frames[-1].width, frames[-1].height) == (1280, 720)
        assert infos and infos[-1].k[0] == pytest.approx(920.0)
    finally:
        executor.shutdown()
        probe.destroy_node()
        camera_node.destroy_node()


@pytest.mark.timeout(90)
def test_a_sheet_is_imaged_as_it_arrives_not_at_the_timers_next_beat(rclpy_context):
    """An observation waits for the frame of the sheet after a stroke: the camera images a new
    sheet when it comes. With the timer's period at 100 s, a frame within the 30 s waited here
    can only be the sheet's own."""
    from rclpy.parameter import Parameter

    from calligraphy_sim.sim_camera_node import SimCameraNode

    camera_node = SimCameraNode(
        context=rclpy_context,
        parameter_overrides=[
            Parameter('rate_hz', value=0.01),
            Parameter('moving_rate_hz', value=0.01),
        ],
    )
    probe = Node('sim_camera_event_probe', context=rclpy_context)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(camera_node)
    executor.add_node(probe)
    frames: list[Image] = []
    probe.create_subscription(Image, '/camera/color/image_raw', frames.append, 2)
    paper_pub = probe.create_publisher(Image, '/virtual_paper/image', 2)
    sheet = _sheet_with_square(0.14, 0.09, 0.02)
    try:
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline and paper_pub.get_subscription_count() == 0:
            executor.spin_once(timeout_sec=0.1)
        paper_pub.publish(array_to_rgb8(sheet, Header(frame_id='paper')))
        while time.monotonic() < deadline and not frames:
            executor.spin_once(timeout_sec=0.1)
        assert frames, 'no frame of the sheet within 30 s (the timer beats once in 100 s)'
        u, v = SimCameraConfig().project(np.array([[0.15, 0.10]]))[0].round().astype(int)
        assert rgb8_to_array(frames[-1])[v, u].mean() < 40, 'the frame shows the sheet sent'
    finally:
        executor.shutdown()
        probe.destroy_node()
        camera_node.destroy_node()
