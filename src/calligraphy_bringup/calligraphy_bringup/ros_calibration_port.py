"""The calibration's port onto a running cell (camera_feedback.calibration_run.CalibrationPort):
brush paths through the motion executor's `execute_brush_path` action, reloads through
`dip_ink`, frames from the camera's image topic with its `camera_info`, and the camera's
extrinsics from the (nominal) cell description. Works the same on the simulated and a real cell.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from rclpy.action import ActionClient
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, Image

from calligraphy_interfaces.action import DipInk, ExecuteBrushPath
from calligraphy_interfaces.msg import BrushPath
from calligraphy_ros_kit.futures import FutureTimeoutError, wait_for_future
from camera_feedback.calibration_run import TipPath
from camera_feedback.frame_sources import decode_pixels
from camera_feedback.sheet_calibration import CameraModel


class CellPortError(RuntimeError):
    """The cell did not do what the calibration asked (no server, a refused goal, no frame)."""


class CellActions:
    """The calibration's action clients (motion executor, dipping). A node that calibrates more
    than once keeps one for its life and destroys it when it is destroyed: rclpy's
    ActionClient.destroy under a spinning executor invalidates the client in its wait set."""

    def __init__(self, node: Node, callback_group=None) -> None:
        group = {'callback_group': callback_group}
        self.motion = ActionClient(node, ExecuteBrushPath, 'execute_brush_path', **group)
        self.dip = ActionClient(node, DipInk, 'dip_ink', **group)

    def destroy(self) -> None:
        self.motion.destroy()
        self.dip.destroy()


class RosCalibrationPort:
    """CalibrationPort over ROS. `node` must be spinning on another thread (and, where the
    calibration runs in one of its callbacks, `callback_group` must let the port's callbacks
    run beside it). Waits up to `timeout_s` for camera_info; CellPortError without one. Uses
    `actions` where given (the caller keeps them), else makes its own (close() destroys them)."""

    def __init__(
        self,
        node: Node,
        base_from_camera: np.ndarray,
        image_topic: str = '/camera/color/image_raw',
        info_topic: str = '/camera/color/camera_info',
        timeout_s: float = 60.0,
        callback_group=None,
        actions: CellActions | None = None,
    ) -> None:
        self.node = node
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._frames: list[tuple[float, np.ndarray]] = []
        self._info: CameraInfo | None = None
        group = {'callback_group': callback_group}
        self._owned = actions is None
        self._actions = actions or CellActions(node, callback_group)
        self._subscriptions = [
            node.create_subscription(Image, image_topic, self._on_image, 2, **group),
            node.create_subscription(CameraInfo, info_topic, self._on_info, 2, **group),
        ]
        self._image_topic, self._base_from_camera = image_topic, base_from_camera
        self.camera = self._camera_model()

    def begin(self, base_from_camera: np.ndarray) -> None:
        """Calibrate again with this port (a node keeps one: rclpy's destroy of a subscription or
        an action client under a spinning executor breaks the executor's wait set): the camera's
        extrinsics as the cell description now says, camera_info waited for again."""
        with self._lock:
            self._info = None
        self._base_from_camera = base_from_camera
        self.camera = self._camera_model()

    def _on_image(self, msg: Image) -> None:
        try:
            pixels = decode_pixels(msg.data, msg.width, msg.height, msg.step, msg.encoding)
        except Exception:  # noqa: BLE001 — a frame the calibration cannot read is no frame
            return
        stamp = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        with self._lock:
            self._frames = [*self._frames[-7:], (stamp, pixels)]

    def _on_info(self, msg: CameraInfo) -> None:
        with self._lock:
            self._info = msg

    def _camera_model(self) -> CameraModel:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                info = self._info
            if info is not None:
                return CameraModel(
                    np.asarray(info.k, dtype=np.float64).reshape(3, 3),
                    np.asarray(info.d, dtype=np.float64),
                    self._base_from_camera,
                )
            time.sleep(0.05)
        raise CellPortError(f'no camera_info for {self._image_topic} within {self.timeout_s:g} s')

    def _now_s(self) -> float:
        return self.node.get_clock().now().nanoseconds * 1e-9

    def capture(self, frames: int, more_within_s: float = 2.0) -> list[np.ndarray]:
        """Up to `frames` images stamped after this call (robot time), so they show everything
        written: the first is waited for (timeout_s), more for `more_within_s` after it (a
        simulated camera images a sheet that does not change only once)."""
        after = self._now_s()
        deadline = time.monotonic() + self.timeout_s
        taken: list[np.ndarray] = []
        while time.monotonic() < deadline:
            with self._lock:
                fresh = [(s, f) for s, f in self._frames if s > after]
            for stamp, frame in fresh:
                if not taken:
                    deadline = time.monotonic() + more_within_s
                taken.append(frame)
                after = stamp
                if len(taken) == frames:
                    return taken
            time.sleep(0.02)
        if taken:
            return taken
        raise CellPortError(
            f'{len(taken)} of {frames} fresh frames on {self._image_topic} within '
            f'{self.timeout_s:g} s'
        )

    def _run_goal(self, client: ActionClient, goal, what: str):
        if not client.wait_for_server(timeout_sec=self.timeout_s):
            raise CellPortError(f'{what}: no action server within {self.timeout_s:g} s')
        try:
            handle = wait_for_future(client.send_goal_async(goal), self.timeout_s)
            if not handle.accepted:
                raise CellPortError(f'{what}: goal rejected')
            result = wait_for_future(handle.get_result_async(), 10 * self.timeout_s).result
        except FutureTimeoutError:
            raise CellPortError(f'{what}: no answer within the timeout') from None
        if not result.success:
            raise CellPortError(f'{what} failed ({result.error_code}): {result.error_msg}')
        return result

    def execute(self, path: TipPath) -> None:
        msg = BrushPath(controller='calibration', stroke_index=0)
        msg.header.frame_id = 'paper'
        msg.x_m = [float(v) for v in path.x_m]
        msg.y_m = [float(v) for v in path.y_m]
        msg.pressing_depth_m = [float(v) for v in path.depth_m]
        msg.time_from_start_s = [float(v) for v in path.t_s]
        goal = ExecuteBrushPath.Goal(path=msg, time_scale=1.0)
        self._run_goal(self._actions.motion, goal, 'execute_brush_path')

    def dip(self) -> None:
        self._run_goal(self._actions.dip, DipInk.Goal(mode='full', wipe_count=-1), 'dip_ink')

    def close(self) -> None:
        """Leave the graph: the camera subscriptions and the action clients where the port made
        them. Only once the node no longer spins (see begin)."""
        if self._owned:
            self._actions.destroy()
        for subscription in self._subscriptions:
            self.node.destroy_subscription(subscription)
        self._subscriptions = []


def sim_time_parameter() -> Parameter:
    """use_sim_time for the calibration's node on the simulated cell (frames are stamped in the
    simulator's time)."""
    return Parameter('use_sim_time', value=True)
