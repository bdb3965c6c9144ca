"""The simulated camera sees the arm: its silhouette hides the sheet, its shadow dims it (MuJoCo,
OSMesa), and the node draws the arm as it stood at each frame's stamp."""

from __future__ import annotations

import time

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Header

from calligraphy_model.cell_description import ARM_JOINTS, HOME_POSITIONS_RAD, default_urdf_path
from calligraphy_model.kinematics import ArmKinematics
from calligraphy_sim.arm_view import ArmView
from calligraphy_sim.camera import SimCameraConfig, SimulatedCamera, camera_pose_from_cell
from calligraphy_sim.camera_conversions import array_to_rgb8, rgb8_to_array
from calligraphy_sim.occlusion_bench import CLEAR_BELOW_BOX_M, CLEAR_HEIGHT_M, HOP_M, _boxes, _pose

CAMERA = SimCameraConfig(**camera_pose_from_cell())
# The writer's first 60 mm cell (rows layout, 15 mm margin): lower-left corner in `paper`.
CELL = np.array([0.015, 0.135])


@pytest.fixture(scope='module')
def view():
    arm_view = ArmView(
        default_urdf_path(), np.asarray(CAMERA.position_m), CAMERA.rotation_paper_from_camera(),
        CAMERA.camera_matrix(), CAMERA.width_px, CAMERA.height_px,
    )  # fmt: skip
    yield arm_view
    arm_view.close()


def _hovering_over(point: np.ndarray, height: float = HOP_M) -> np.ndarray:
    home = np.asarray(HOME_POSITIONS_RAD, float)
    return _pose(ArmKinematics(), home, np.array([*point, height]))


def _pixel(point) -> tuple[int, int]:
    u, v = np.rint(CAMERA.project(np.asarray(point, float).reshape(1, 2))[0]).astype(int)
    return int(u), int(v)


def test_the_brush_over_a_stroke_hides_it_and_the_frame_shows_the_arm_there(view):
    point = CELL + 0.03
    overlay = view.render(_hovering_over(point))
    u, v = _pixel(point)
    assert overlay.mask[v, u], 'the brush hanging 10 mm over the point does not hide it'
    camera = SimulatedCamera(CAMERA)
    bare, seen = camera.render(), camera.render(arm=overlay)
    # Paper there is near white without the arm; with it, the pixel has the arm's colour.
    assert bare[v, u].mean() > 150
    assert np.abs(seen[v, u].astype(float) - 255 * overlay.rgb[v, u] * 0.9).max() < 60


def test_the_clear_view_pose_leaves_the_whole_character_cell_in_sight(view):
    # The writer's clear view for each of the sheet's first 12 cells (three rows of four).
    grid = np.stack(np.meshgrid(np.linspace(0, 0.06, 13), np.linspace(0, 0.06, 13)), -1)
    for x, y in _boxes(12):
        clear = np.array([x + 0.03, y - CLEAR_BELOW_BOX_M])
        overlay = view.render(_hovering_over(clear, CLEAR_HEIGHT_M))
        pixels = np.rint(CAMERA.project((np.array([x, y]) + grid).reshape(-1, 2))).astype(int)
        assert not overlay.mask[pixels[:, 1], pixels[:, 0]].any(), f'cell at ({x}, {y})'


def test_the_arm_casts_a_shadow_that_dims_the_frame(view):
    overlay = view.render(_hovering_over(CELL + 0.03))
    shadowed = (overlay.shade < 0.7) & ~overlay.mask
    assert shadowed.mean() > 0.005, 'no shadow in the frame'
    camera = SimulatedCamera(CAMERA, seed=3)
    bare = camera.render().astype(float).mean(axis=-1)
    seen = camera.render(arm=overlay).astype(float).mean(axis=-1)
    ratio = seen[shadowed].mean() / bare[shadowed].mean()
    assert ratio == pytest.approx(overlay.shade[shadowed].mean(), abs=0.05)


def test_a_still_arm_keeps_its_picture_and_a_moved_one_is_drawn_anew(view):
    pose = _hovering_over(CELL + 0.03)
    first = view.render(pose)
    # Settling by 0.05 mrad on every joint: the same picture, not rendered again.
    assert view.render(pose + 5e-5) is first
    # Half a degree on the shoulder moves the arm in the frame.
    moved = view.render(pose + np.array([0.0, 0.01, 0.0, 0.0, 0.0, 0.0]))
    assert moved is not first
    assert np.count_nonzero(moved.mask != first.mask) > 100
    # Back where it stood: drawn as then, by a new render.
    again = view.render(pose)
    assert again is not first and np.array_equal(again.mask, first.mask)


def _camera_graph(context):
    """The simulated camera drawing the arm, and a probe that feeds it sheets and joint states
    and collects its frames; spun by the returned executor."""
    from calligraphy_sim.sim_camera_node import SimCameraNode

    camera_node = SimCameraNode(
        context=context, parameter_overrides=[Parameter('render_arm', value=True)]
    )
    probe = Node('arm_view_probe', context=context)
    executor = SingleThreadedExecutor(context=context)
    for node in (camera_node, probe):
        executor.add_node(node)
    frames: list[Image] = []
    probe.create_subscription(Image, '/camera/color/image_raw', frames.append, 2)
    sheets = probe.create_publisher(Image, '/virtual_paper/image', 2)
    joints = probe.create_publisher(JointState, '/joint_states', 50)
    return camera_node, probe, executor, frames, sheets, joints


@pytest.mark.timeout(60)
def test_the_node_draws_the_arm_as_it_stood_at_the_frame_stamp(rclpy_context):
    camera_node, probe, executor, frames, sheets, joints = _camera_graph(rclpy_context)
    point = CELL + 0.03
    u, v = _pixel(point)
    # At t = 1 s the arm stands at home (off the cell); from t = 2 s it hovers over the point.
    states = ((1, np.asarray(HOME_POSITIONS_RAD, float)), (2, _hovering_over(point)))
    blank = np.full((*SimulatedCamera(CAMERA).sheet_shape, 3), 255, np.uint8)
    try:
        seen = {}
        deadline = time.monotonic() + 40.0
        for stamp_s in (1, 3):
            while time.monotonic() < deadline and stamp_s not in seen:
                for t, positions in states:
                    joints.publish(
                        JointState(
                            header=Header(stamp=Time(sec=t)), name=list(ARM_JOINTS),
                            position=positions.tolist(),
                        )
                    )  # fmt: skip
                sheets.publish(array_to_rgb8(blank, Header(stamp=Time(sec=stamp_s))))
                for _ in range(4):
                    executor.spin_once(timeout_sec=0.1)
                for frame in frames:
                    if frame.header.stamp.sec == stamp_s and camera_node._joint_states:
                        seen[stamp_s] = rgb8_to_array(frame)[v, u].astype(float)
        assert set(seen) == {1, 3}, f'frames for stamps {sorted(seen)}'
        assert seen[1].mean() > 150, 'at 1 s the arm was at home: the sheet shows'
        assert seen[3].mean() < 150, 'at 3 s the brush hovered there: the arm shows'
    finally:
        executor.shutdown()
        probe.destroy_node()
        camera_node.destroy_node()


def test_a_frame_newer_than_the_joint_states_heard_waits_for_them(rclpy_context, monkeypatch):
    """The sheet can reach the camera before the joint states of its moment: the frame is drawn
    once they arrive, not with the arm where it stood before (seen as an observation in which
    the arm, already moved away, still hid the stroke)."""
    from calligraphy_sim import sim_camera_node

    # Wait as long as the test needs (the node gives up after a second of wall time).
    monkeypatch.setattr(sim_camera_node, 'STALE_ARM_WAIT_S', 60.0)
    camera_node, probe, executor, frames, sheets, joints = _camera_graph(rclpy_context)
    point = CELL + 0.03
    u, v = _pixel(point)
    blank = np.full((*SimulatedCamera(CAMERA).sheet_shape, 3), 255, np.uint8)

    def state(t: int, positions) -> JointState:
        return JointState(
            header=Header(stamp=Time(sec=t)), name=list(ARM_JOINTS),
            position=np.asarray(positions, float).tolist(),
        )  # fmt: skip

    def spin_until(condition, what: str) -> None:
        deadline = time.monotonic() + 30.0
        while not condition():
            assert time.monotonic() < deadline, what
            executor.spin_once(timeout_sec=0.05)

    try:
        # At 2 s the brush hovers over the point; the sheet of 5 s comes before the state of 5 s.
        spin_until(lambda: probe.count_subscribers('/joint_states') > 0, 'no joint subscriber')
        spin_until(lambda: sheets.get_subscription_count() > 0, 'no sheet subscriber')
        while not camera_node._joint_states:
            joints.publish(state(2, _hovering_over(point)))
            executor.spin_once(timeout_sec=0.05)
        while camera_node._sheet_stamp is None:
            sheets.publish(array_to_rgb8(blank, Header(stamp=Time(sec=5))))
            executor.spin_once(timeout_sec=0.05)
        ticks = time.monotonic() + 0.5  # the camera's timer (5 Hz) fires meanwhile
        while time.monotonic() < ticks:
            executor.spin_once(timeout_sec=0.05)
        assert not frames, 'a frame was drawn before the joint states of its moment arrived'
        # At 5 s the arm is back home: the frame shows the sheet at the point.
        joints.publish(state(5, HOME_POSITIONS_RAD))
        spin_until(lambda: frames, 'no frame once the joint states arrived')
        assert frames[-1].header.stamp.sec == 5
        assert rgb8_to_array(frames[-1])[v, u].astype(float).mean() > 150, 'the arm was drawn'
    finally:
        executor.shutdown()
        probe.destroy_node()
        camera_node.destroy_node()


@pytest.mark.parametrize('moving_rate_hz', [1.0, 5.0])
def test_the_arm_in_motion_is_imaged_at_moving_rate_hz_and_a_still_arm_at_rate_hz(
    rclpy_context, monkeypatch, moving_rate_hz
):
    """Frames of the arm in motion are two MuJoCo renders and a new exposure each that nothing
    in the cell looks at: at most `moving_rate_hz` of them; once the arm stands (where an
    observation waits for a frame), every new sheet is imaged again."""
    from types import SimpleNamespace

    from calligraphy_sim import sim_camera_node

    wall = [0.0]
    monkeypatch.setattr(sim_camera_node, 'time', SimpleNamespace(monotonic=lambda: wall[0]))
    camera_node = sim_camera_node.SimCameraNode(
        context=rclpy_context,
        parameter_overrides=[
            Parameter('render_arm', value=True),
            Parameter('rate_hz', value=5.0),
            Parameter('moving_rate_hz', value=moving_rate_hz),
        ],
    )
    rendered = []
    render = camera_node._camera.render
    monkeypatch.setattr(
        camera_node._camera, 'render', lambda sheet, arm: rendered.append(1) or render(sheet, arm)
    )
    blank = np.full((*SimulatedCamera(CAMERA).sheet_shape, 3), 255, np.uint8)
    home = np.asarray(HOME_POSITIONS_RAD, float)

    def stamp(seconds: float) -> Time:
        return Time(sec=int(seconds), nanosec=int(round((seconds % 1) * 1e9)))

    frames = {}
    try:
        # The arm turns its base 0.1 rad/s for 1 s of robot time, then stands for 1 s; the
        # joint states come at 100 Hz, a sheet and a camera period every 0.2 s of wall time.
        for k in range(201):
            t = k / 100.0
            positions = home + np.array([0.1 * min(t, 1.0), 0, 0, 0, 0, 0])
            camera_node._on_joint_state(
                JointState(
                    header=Header(stamp=stamp(t)), name=list(ARM_JOINTS),
                    position=positions.tolist(),
                )
            )  # fmt: skip
            if k % 20 == 0 and k > 0:
                before = len(rendered)
                # A sheet is imaged as it arrives; the timer's beat finds nothing new then.
                camera_node._on_sheet(array_to_rgb8(blank, Header(stamp=stamp(t))))
                camera_node._publish()
                frames[round(t, 2)] = len(rendered) > before
                wall[0] += 0.2
    finally:
        camera_node.destroy_node()
    moving = [t for t in frames if t <= 1.0]
    still = [t for t in frames if t > 1.0]
    assert all(frames[t] for t in still), f'a still arm was not imaged at every sheet: {frames}'
    if moving_rate_hz == 5.0:
        assert all(frames.values()), f'at moving_rate_hz = rate_hz every sheet is imaged: {frames}'
    else:
        # 1 s of wall time in motion at 1 Hz: the first sheet and none of the four after it.
        assert [t for t in moving if frames[t]] == [0.2], frames
