"""The virtual paper node in a real ROS graph: a pose stream over DDS gets inked where it went."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from geometry_msgs.msg import PoseStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Float64
from std_srvs.srv import Trigger

from calligraphy_interfaces.srv import SavePaper
from calligraphy_model.polling import wait_until
from calligraphy_sim.paper_conversions import image_to_rgb, sample_to_pose

MPP = 0.00025
SHEET_H = 0.210


def _spin_until(executor, predicate, timeout_s: float) -> bool:
    return wait_until(lambda: predicate() or executor.spin_once(timeout_sec=0.05), timeout_s)


def _call(executor, client, request, timeout_s: float = 10.0):
    future = client.call_async(request)
    executor.spin_until_future_complete(future, timeout_sec=timeout_s)
    assert future.done(), f'{client.srv_name}: no response within {timeout_s} s'
    return future.result()


def _dark(rgb: np.ndarray) -> np.ndarray:
    return rgb.mean(axis=2) < 128


@pytest.mark.timeout(90)
def test_a_stroke_streamed_to_the_node_is_inked_saved_cleared_and_the_brush_reloaded(
    rclpy_context, spawn_process, tmp_path
):
    paper = spawn_process(
        '-m', 'calligraphy_sim.virtual_paper_node', '--ros-args', '-p', 'publish_rate_hz:=10.0'
    )
    node = Node('paper_node_test', context=rclpy_context)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(node)
    images: deque[Image] = deque(maxlen=1)  # the latest sheet only (3 MB each)
    loads: list[float] = []
    node.create_subscription(Image, 'virtual_paper/image', lambda m: images.append(m), 2)
    node.create_subscription(Float64, 'virtual_paper/ink_load', lambda m: loads.append(m.data), 10)
    poses = node.create_publisher(PoseStamped, 'brush_tip_pose', 200)
    clear = node.create_client(Trigger, 'virtual_paper/clear')
    reload_ink = node.create_client(Trigger, 'virtual_paper/reload_ink')
    save = node.create_client(SavePaper, 'virtual_paper/save')
    try:
        for client in (clear, reload_ink, save):
            assert client.wait_for_service(timeout_sec=30.0), f'{client.srv_name} not discovered'
        assert _spin_until(executor, lambda: poses.get_subscription_count() > 0, 10.0)
        # Three ticks of the publishing timer (each publishes the sheet, then the load).
        assert _spin_until(executor, lambda: len(loads) >= 3, 10.0), 'no ink load published'
        assert loads[-1] == 1.0
        # No sheet before the first tip pose: its stamp could only be the paper's own clock,
        # which would pass for the arm's robot time (a camera frame of a sheet that never heard
        # the arm was taken as a fresh look).
        assert not images, 'a sheet was published before any tip pose'

        # A 50 mm horizontal stroke at y = 150 mm, streamed sparsely (a pose every 2.5 mm).
        xs = np.linspace(0.05, 0.10, 21)
        stream = [(0.05, 0.15, -0.002, 1.0)]
        stream += [(x, 0.15, 0.0025, 1.1 + 0.05 * i) for i, x in enumerate(xs)]
        stream += [(0.10, 0.15, -0.002, 2.3)]
        # A pose in another frame is refused (it would ink at the sheet's corner otherwise).
        stray = sample_to_pose(0.005, 0.005, 0.003, 2.4, frame_id='base_link')
        for x, y, depth, t in stream:
            poses.publish(sample_to_pose(x, y, depth, t))
            executor.spin_once(timeout_sec=0.005)
        poses.publish(stray)

        def inked() -> bool:
            # The whole stream has been applied once the sheet is stamped with its last pose
            # (the lift at 2.3 s; poses are inked in batches, so a sheet may show the stroke's
            # end before the lift); the ink then reaches the stroke's end at x = 100 mm.
            if not images:
                return False
            stamp = images[-1].header.stamp
            if stamp.sec + 1e-9 * stamp.nanosec < 2.3 - 1e-6:
                return False
            return bool(_dark(image_to_rgb(images[-1]))[:, int(0.099 / MPP)].any())

        assert _spin_until(executor, inked, 15.0), 'the streamed stroke never appeared'
        rgb = image_to_rgb(images[-1])
        assert rgb.shape == (840, 1188, 3)
        assert images[-1].header.frame_id == 'paper'
        # Stamped with the newest pose the sheet shows (the arm's clock), not the paper's clock:
        # an observer can tell a sheet that has caught up with the arm. The stray pose is not in.
        stamp = images[-1].header.stamp
        assert stamp.sec + 1e-9 * stamp.nanosec == pytest.approx(2.3, abs=1e-6)
        rows, cols = np.nonzero(_dark(rgb))
        row_of_y = (SHEET_H - 0.15) / MPP
        assert abs(np.median(rows) - row_of_y) < 4, 'stroke at the wrong height on the sheet'
        assert cols.min() >= 0.048 / MPP and cols.max() <= 0.102 / MPP
        assert cols.max() - cols.min() > 0.045 / MPP, 'stroke not inked along its length'
        # Width of a nominal brush pressed 2.5 mm: about 3 mm.
        width_px = np.count_nonzero(_dark(rgb)[:, int(0.075 / MPP)])
        assert 2.4e-3 / MPP <= width_px <= 3.6e-3 / MPP
        assert _spin_until(executor, lambda: loads[-1] < 1.0, 5.0), 'ink load did not fall'
        spent_load = loads[-1]

        target = tmp_path / 'out' / 'sheet.png'
        result = _call(executor, save, SavePaper.Request(path=str(target)))
        assert result.error_code == SavePaper.Response.SUCCESS, result.error_msg
        assert target.is_file() and result.saved_path == str(target.resolve())
        # The saved sheet says which of the arm's poses it shows: the lift at 2.3 s, the last.
        shows = result.sheet_stamp
        assert shows.sec + 1e-9 * shows.nanosec == pytest.approx(2.3, abs=1e-6)
        bad = _call(executor, save, SavePaper.Request(path=str(tmp_path / 'sheet.jpg')))
        assert bad.error_code == SavePaper.Response.INVALID_PATH and '.png' in bad.error_msg

        assert _call(executor, clear, Trigger.Request()).success

        # Images published before the clear may still be in flight: wait for a blank one.
        def blank() -> bool:
            return bool(images) and not _dark(image_to_rgb(images[-1])).any()

        assert _spin_until(executor, blank, 5.0), 'sheet not cleared'

        loads.clear()
        assert _call(executor, reload_ink, Trigger.Request()).success
        assert _spin_until(executor, lambda: bool(loads) and loads[-1] == 1.0, 5.0)
        assert spent_load < 1.0
        assert paper.poll() is None, 'the node died'
    finally:
        executor.shutdown()
        node.destroy_node()


@pytest.mark.timeout(60)
def test_a_bad_parameter_stops_the_node_at_start_with_the_reason(spawn_process):
    process = spawn_process(
        '-m', 'calligraphy_sim.virtual_paper_node', '--ros-args', '-p', 'metres_per_pixel:=-0.001'
    )
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert 'metres_per_pixel must be a positive number' in output
