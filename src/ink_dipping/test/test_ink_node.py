"""ink_dipping_node over a real graph: the MuJoCo arm and the virtual paper (with its ink well) in
their own processes, the motion executor and the dip node in this one, DDS in between.

The tests share one graph (start-up costs seconds) and run in file order; the brush starts
nearly dry (load 0.1) so the first dip has something to refill. The paper runs apart because the
pose stream (100 Hz of simulated time, faster than real time here) must not queue behind the
executor's other callbacks: a dropped pose near the rim would hide a wipe.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.action import ActionClient
from rclpy.context import Context
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import Image
from std_msgs.msg import Bool, Float64

from calligraphy_bringup.graph import config_path, load_parameters
from calligraphy_interfaces.action import DipInk
from calligraphy_interfaces.srv import SavePaper
from calligraphy_model.polling import wait_until
from ink_dipping.ink_dipping_node import InkDippingNode
from ink_dipping.routine import PHASES
from motion_executor.motion_executor_node import MotionExecutorNode

Result = DipInk.Result
REAL_TIME_FACTOR = 4.0
WIPE_LOAD = 0.9
DRY_LOAD = 0.1


class Graph:
    def __init__(self) -> None:
        self.domain = random.Random(os.getpid() + 8).randint(60, 140)
        env = dict(os.environ, ROS_DOMAIN_ID=str(self.domain))
        self.processes = [
            subprocess.Popen(
                [sys.executable, '-m', module, '--ros-args', *args],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for module, args in (
                (
                    'calligraphy_sim.mujoco_arm_node',
                    ['-p', f'real_time_factor:={REAL_TIME_FACTOR}'],
                ),
                (
                    'calligraphy_sim.virtual_paper_node',
                    [
                        '-p',
                        f'initial_ink_load:={DRY_LOAD}',
                        '-p',
                        f'ink_well.wipe_load:={WIPE_LOAD}',
                    ],
                ),
            )
        ]
        self.context = Context()
        rclpy.init(context=self.context, domain_id=self.domain)
        # The executor as the simulated cell runs it (config/sim.yaml): above all it waits for
        # the arm's acknowledgement of each trajectory. Without it, a trajectory that reached the
        # arm late on a loaded machine read as the brush 57 mm off the plan (seen in CI).
        cell = load_parameters(config_path('sim'))['motion_executor_node']
        self.motion = MotionExecutorNode(
            context=self.context,
            parameter_overrides=[
                *(Parameter(name, value=value) for name, value in cell.items()),
                # 1 s of simulated time is 0.25 s of wall time at 4x: room for a loaded machine.
                Parameter('trajectory_start_lead_s', value=1.0),
            ],
        )
        self.dipper = InkDippingNode(
            context=self.context,
            parameter_overrides=[Parameter('wipe_target_load', value=WIPE_LOAD)],
        )
        self.client_node = Node('dip_test_client', context=self.context)
        self.tips: list[np.ndarray] = []
        self.loads: list[float] = []
        self.client_node.create_subscription(
            PoseStamped,
            '/brush_tip_pose',
            lambda m: self.tips.append(
                np.array([m.pose.position.x, m.pose.position.y, m.pose.position.z])
            ),
            100,
        )
        self.client_node.create_subscription(
            Float64, '/virtual_paper/ink_load', lambda m: self.loads.append(m.data), 10
        )
        # The paper publishes no sheet before a tip pose has reached it: the first sheet says that
        # its subscription to the arm is matched (a dip before that soaked a brush the paper never
        # saw in the well: its load stayed dry, once in a fresh clone's test run).
        self.paper_hears_arm = threading.Event()
        self.sheets = self.client_node.create_subscription(
            Image, '/virtual_paper/image', lambda _: self.paper_hears_arm.set(), 1
        )
        self.save = self.client_node.create_client(SavePaper, '/virtual_paper/save')
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.writing = self.client_node.create_publisher(Bool, 'writer/writing', latched)
        self.client = ActionClient(self.client_node, DipInk, 'dip_ink')
        self.executor = MultiThreadedExecutor(num_threads=4, context=self.context)
        self.executor.add_node(self.motion)
        self.executor.add_node(self.dipper)
        # The test's own subscriptions spin apart, so the tip stream does not starve the servers.
        self.client_executor = SingleThreadedExecutor(context=self.context)
        self.client_executor.add_node(self.client_node)
        self.threads = [
            threading.Thread(target=executor.spin, daemon=True)
            for executor in (self.executor, self.client_executor)
        ]
        for thread in self.threads:
            thread.start()

    wait_until = staticmethod(wait_until)

    def arm_at_rest(self) -> bool:
        """The last 20 tip poses agree to 0.1 mm (half a second of a standing arm's poses)."""
        recent = np.array(self.tips[-20:])
        return len(recent) == 20 and np.ptp(recent, axis=0).max() < 1e-4

    def send(self, feedback: list | None = None, **goal_fields):
        future = self.client.send_goal_async(
            DipInk.Goal(**goal_fields),
            feedback_callback=(lambda m: feedback.append(m.feedback))
            if feedback is not None
            else None,
        )
        assert self.wait_until(future.done, 10.0), 'goal not answered'
        handle = future.result()
        assert handle.accepted
        return handle

    def result(self, handle, timeout_s: float = 60.0):
        future = handle.get_result_async()
        assert self.wait_until(future.done, timeout_s), 'no result in time'
        return future.result().result

    def close(self) -> None:
        self.executor.shutdown()
        self.client_executor.shutdown()
        for thread in self.threads:  # no spin loop may look at the context once it is destroyed
            thread.join(timeout=5.0)
        self.client.destroy()
        for node in (self.dipper, self.motion, self.client_node):
            node.destroy_node()
        self.context.try_shutdown()
        self.context.destroy()  # its participant leaves the domain before the next test's
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope='module')
def graph():
    graph = Graph()
    try:
        assert graph.client.wait_for_server(timeout_sec=20.0)
        assert graph.wait_until(lambda: graph.motion._latest is not None, 20.0), 'no arm'
        assert graph.wait_until(lambda: len(graph.tips) > 0, 20.0), 'no brush tip pose'
        assert graph.wait_until(lambda: len(graph.loads) > 0, 20.0), 'no virtual paper'
        assert graph.paper_hears_arm.wait(30.0), 'the virtual paper never heard the arm'
        graph.client_node.destroy_subscription(graph.sheets)  # 3 MB a frame, 5 a second
        assert graph.save.wait_for_service(timeout_sec=10.0)
        yield graph
    finally:
        graph.close()


def _distinct(phases: list[str]) -> list[str]:
    return [p for i, p in enumerate(phases) if i == 0 or p != phases[i - 1]]


@pytest.mark.timeout(120)
def test_a_dip_refills_a_dry_brush_to_the_wipe_load_through_every_phase(graph, tmp_path):
    well = graph.dipper.well
    assert graph.loads[-1] == pytest.approx(DRY_LOAD)
    feedback: list = []
    seen_from, loads_from = len(graph.tips), len(graph.loads)
    result = graph.result(graph.send(feedback, mode='full', wipe_count=-1))
    assert result.success and result.error_code == Result.SUCCESS, result.error_msg
    assert result.ink_load == pytest.approx(WIPE_LOAD, abs=0.01)
    assert _distinct([f.phase for f in feedback]) == list(PHASES)
    assert feedback[-1].progress == 1.0
    # The brush went into the ink (full load) and the wipe on the rim took the excess off.
    tips = np.array(graph.tips[seen_from:])
    in_opening = np.hypot(tips[:, 0] - well.x_m, tips[:, 1] - well.y_m) < well.radius_m
    assert np.min(tips[in_opening, 2]) < well.ink_surface_height_m - 0.005
    loads = graph.loads[loads_from:]
    assert 1.0 in loads and loads.index(1.0) < len(loads) - 1, loads
    # The node read the wipe's load before answering; the test's own subscription may be a
    # message behind it on a loaded machine.
    assert graph.wait_until(lambda: abs(graph.loads[-1] - WIPE_LOAD) <= 0.01, 2.0), graph.loads
    # Travelling to the well and back left no ink on the sheet.
    future = graph.save.call_async(SavePaper.Request(path=str(tmp_path / 'sheet.png')))
    assert graph.wait_until(future.done, 10.0)
    sheet = cv2.imread(future.result().saved_path, cv2.IMREAD_GRAYSCALE)
    assert sheet.min() > 200, 'the dip left ink on the sheet'


@pytest.mark.timeout(120)
def test_a_dip_while_a_stroke_is_written_is_refused_and_the_node_keeps_serving(graph):
    graph.writing.publish(Bool(data=True))
    try:
        assert graph.wait_until(lambda: graph.dipper._writing, 5.0)
        # Whatever an earlier test left moving has come to rest.
        assert graph.wait_until(graph.arm_at_rest, 30.0)
        moved_from = len(graph.tips)
        result = graph.result(graph.send(mode='full'), 10.0)
        assert not result.success and result.error_code == Result.BUSY_WRITING
        assert 'written' in result.error_msg
        # Tip poses of the time the refused dip would have moved the arm (a still arm's come at
        # one cycle in ten): waited for, not assumed.
        assert graph.wait_until(lambda: len(graph.tips) >= moved_from + 5, 20.0)
        tips = np.array(graph.tips[moved_from:])
        assert np.ptp(tips, axis=0).max() < 1e-3, 'a refused dip moved the arm'
    finally:
        graph.writing.publish(Bool(data=False))
    assert graph.wait_until(lambda: not graph.dipper._writing, 5.0)
    result = graph.result(graph.send(mode='splash'), 10.0)
    assert result.error_code == Result.INVALID_MODE
    loads_from = len(graph.loads)
    result = graph.result(graph.send(mode='quick', wipe_count=-1))
    assert result.success, result.error_msg
    assert result.ink_load == pytest.approx(WIPE_LOAD, abs=0.01)
    assert 1.0 in graph.loads[loads_from:], 'the quick dip did not reach the ink'


@pytest.mark.timeout(120)
def test_cancel_during_the_dip_lifts_the_brush_clear_of_the_well(graph):
    well = graph.dipper.well
    feedback: list = []
    handle = graph.send(feedback, mode='full', wipe_count=-1)
    assert graph.wait_until(lambda: any(f.phase == 'dwell' for f in feedback), 60.0)
    assert graph.wait_until(lambda: graph.tips[-1][2] < well.ink_surface_height_m, 10.0)
    handle.cancel_goal_async()
    result = graph.result(handle)
    assert result.error_code == Result.CANCELED and not result.success
    # The lift ends before the result; the tip stream the test hears may trail it a little.
    safe = graph.dipper.routine.safe_height_m
    graph.wait_until(lambda: abs(graph.tips[-1][2] - safe) <= 0.006, 2.0)
    tip = graph.tips[-1]
    assert tip[2] > well.rim_height_m + 0.005, f'tip {tip[2] * 1e3:.1f} mm, rim at 29 mm'
    assert tip[2] == pytest.approx(safe, abs=0.006)


def test_a_missing_or_unreachable_well_stops_the_node_at_start_with_the_reason(tmp_path):
    for args, reason in (
        (['-p', f'cell_yaml:={tmp_path / "none.yaml"}'], 'does not exist'),
        (['-p', 'ink_well.x_m:=1.5'], 'cannot be dipped'),
        (['-p', 'ink_well.x_m:=0.15'], 'stands on the sheet'),
    ):
        run = subprocess.run(
            [sys.executable, '-m', 'ink_dipping.ink_dipping_node', '--ros-args', *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 2, run.stderr
        assert 'ink_dipping_node: error:' in run.stderr and reason in run.stderr
