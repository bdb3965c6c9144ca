"""The cell's calibration as an action: `calibrate_cell` (CalibrateCell) runs what
`calligraphy calibrate` runs (camera_feedback.calibration_run over ros_calibration_port) on the
cell that is up, and writes the same files (calibration_common).

    ros2 run calligraphy_bringup calibration_node
    ros2 action send_goal /calibrate_cell calligraphy_interfaces/action/CalibrateCell \
        "{output_dir: /tmp/calibration, write_cell: true}" --feedback
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from rclpy.action import ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node

from calligraphy_bringup.calibration_common import (
    CalibrationErrorCode,
    CalibrationNodeConfig,
    output_dir_problem,
    save_calibration,
    stage_progress,
    write_report,
)
from calligraphy_bringup.ros_calibration_port import (
    CellActions,
    CellPortError,
    RosCalibrationPort,
)
from calligraphy_interfaces.action import CalibrateCell
from calligraphy_model.cell_description import (
    default_cell_yaml_path,
    fixed_pose_in_base,
    load_cell_yaml,
)
from calligraphy_ros_kit.parameters import declare_config
from calligraphy_ros_kit.runner import run_node
from camera_feedback.calibration_run import calibrate_cell
from camera_feedback.sheet_calibration import CalibrationError


class _CalibrationFailedError(Exception):
    def __init__(self, code: CalibrationErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class _GoalPort:
    """The port the calibration drives, stopping at the next step once the goal is canceled."""

    def __init__(self, port: RosCalibrationPort, goal_handle) -> None:
        self._port, self._handle = port, goal_handle
        self.camera = port.camera

    def _check(self) -> None:
        if self._handle.is_cancel_requested:
            raise _CalibrationFailedError(CalibrationErrorCode.CANCELED, 'canceled')

    def capture(self, frames: int):
        self._check()
        return self._port.capture(frames)

    def execute(self, path) -> None:
        self._check()
        self._port.execute(path)

    def dip(self) -> None:
        self._check()
        self._port.dip()


class CalibrationNode(Node):
    """Calibrates the cell on request.

    Action served: calibrate_cell (CalibrateCell, relative: it follows the node's namespace).
    One calibration at a time (another goal meanwhile: BUSY). The goal's output_dir ('' = the
    `output_dir` parameter) gets cell.yaml, brush.yaml and calibration.json; with write_cell the
    active cell description (`cell_yaml`, and the URDF beside it) is updated as well. A failed
    calibration writes nothing and answers with its code and reason; the node stays up.
    Sends goals to: execute_brush_path (ExecuteBrushPath), dip_ink (DipInk). Subscribes, from the
    first goal on: the camera's `image_topic` (sensor_msgs/Image) and `camera_info_topic`
    (CameraInfo).
    Parameters (read once at start): CalibrationNodeConfig's (cell_yaml, output_dir,
    image_topic, camera_info_topic, step_timeout_s). On the simulated cell use_sim_time must be
    true (frames are stamped in the simulator's time).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('calibration_node', **kwargs)
        self.config = declare_config(self, CalibrationNodeConfig)
        self._busy = threading.Lock()
        self._group = ReentrantCallbackGroup()
        self._actions = CellActions(self, self._group)
        # Made at the first goal and kept (RosCalibrationPort.begin says why): from then on the
        # node hears the camera.
        self._port: RosCalibrationPort | None = None
        self._server = ActionServer(
            self, CalibrateCell, 'calibrate_cell', self._execute, callback_group=self._group,
            cancel_callback=lambda _: CancelResponse.ACCEPT,
        )  # fmt: skip

    def destroy_node(self) -> None:
        # rclpy's destroy_node leaves action servers and clients in the DDS graph.
        for name in ('_server', '_actions'):
            if hasattr(self, name):
                getattr(self, name).destroy()
        super().destroy_node()

    def _execute(self, goal_handle):
        goal = goal_handle.request
        result = CalibrateCell.Result()
        if not self._busy.acquire(blocking=False):
            code, message = CalibrationErrorCode.BUSY, 'another calibration is running'
        else:
            try:
                code, message = CalibrationErrorCode.SUCCESS, ''
                self._calibrate(goal, goal_handle, result)
            except _CalibrationFailedError as error:
                code, message = error.code, str(error)
            except Exception as error:  # noqa: BLE001 — the node answers and stays up
                self.get_logger().error(f'calibration: {type(error).__name__}: {error}')
                code = CalibrationErrorCode.INTERNAL_ERROR
                message = f'{type(error).__name__}: {error}'
            finally:
                self._busy.release()
        result.success = code == CalibrationErrorCode.SUCCESS
        result.error_code, result.error_msg = int(code), message
        if result.success:
            goal_handle.succeed()
        elif code == CalibrationErrorCode.CANCELED and goal_handle.is_cancel_requested:
            goal_handle.canceled()
        else:
            self.get_logger().warning(f'calibration failed ({code.name}): {message}')
            goal_handle.abort()
        return result

    def _calibrate(self, goal, goal_handle, result: CalibrateCell.Result) -> None:
        started = time.monotonic()
        out = Path(goal.output_dir or self.config.output_dir).expanduser()
        problem = output_dir_problem(out)
        if problem:
            raise _CalibrationFailedError(
                CalibrationErrorCode.INVALID_ARGUMENT, f'output_dir {problem}'
            )
        cell_given = bool(self.config.cell_yaml)
        cell_path = Path(self.config.cell_yaml) if cell_given else default_cell_yaml_path()
        try:  # read at each goal: a calibration that wrote the cell is the next one's nominal
            nominal = load_cell_yaml(cell_path)
            base_from_camera = fixed_pose_in_base(nominal, 'camera_color_optical_frame')
            base_from_paper = fixed_pose_in_base(nominal, 'paper')
        except (OSError, ValueError, KeyError) as error:
            raise _CalibrationFailedError(
                CalibrationErrorCode.INVALID_ARGUMENT, f'cell description {cell_path}: {error}'
            ) from None

        def feedback(stage: str, step: int = 0, steps: int = 1) -> None:
            progress = stage_progress(stage, step, steps)
            goal_handle.publish_feedback(CalibrateCell.Feedback(stage=stage, progress=progress))

        try:
            feedback('sheet')
            if self._port is None:
                self._port = RosCalibrationPort(
                    self, base_from_camera, self.config.image_topic,
                    self.config.camera_info_topic, self.config.step_timeout_s,
                    callback_group=self._group, actions=self._actions,
                )  # fmt: skip
            else:
                self._port.begin(base_from_camera)
            measured = calibrate_cell(
                _GoalPort(self._port, goal_handle), base_from_paper, on_stage=feedback
            )
        except CalibrationError as error:
            raise _CalibrationFailedError(CalibrationErrorCode(error.code), str(error)) from None
        except CellPortError as error:
            raise _CalibrationFailedError(
                CalibrationErrorCode.CELL_NOT_RESPONDING, str(error)
            ) from None
        feedback('save')
        report: dict = {'status': 'failed', 'nominal_cell': str(cell_path)}
        try:
            written = save_calibration(
                out, cell_path, cell_given, measured, goal.write_cell, report
            )
            report['duration_s'] = round(time.monotonic() - started, 1)
            written.insert(2, write_report(out, report))
        except (OSError, ValueError) as error:
            raise _CalibrationFailedError(
                CalibrationErrorCode.WRITE_FAILED, f'saving the calibration: {error}'
            ) from None
        sheet = measured.sheet
        result.sheet_x_m, result.sheet_y_m = float(sheet.x_m), float(sheet.y_m)
        result.sheet_height_m, result.sheet_yaw_rad = float(sheet.z_m), float(sheet.yaw_rad)
        result.contact_offset_m = float(measured.contact_offset_m)
        result.width_curve_rms_m = float(measured.width_rms_m)
        result.files_written = [str(path) for path in written]
        self.get_logger().info(
            f'calibrated: sheet at ({sheet.x_m:.4f}, {sheet.y_m:.4f}, {sheet.z_m:.4f}) m, yaw '
            f'{sheet.yaw_rad:.4f} rad; wrote {", ".join(result.files_written)}'
        )


def main(args: list[str] | None = None) -> int:
    # A goal blocks one thread for minutes; the port's frames and answers need others.
    return run_node(CalibrationNode, 'calibration_node', args, threads=4)


if __name__ == '__main__':
    sys.exit(main())
