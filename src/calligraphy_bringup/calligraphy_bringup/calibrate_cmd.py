"""`calligraphy calibrate [--sim-perturb SEED] [--out DIR] [--write-cell]`: where the sheet
really lies (position, yaw, height) and the brush's width against depth, measured by the camera
and by touching down (camera_feedback.calibration_run says how).

Writes `DIR/cell.yaml` (the cell description with the sheet where it was found), `DIR/brush.yaml`
(the brush file `calligraphy write --brush-file` reads: `brush:` with BrushParams fields) and
`DIR/calibration.json` ({"status", "sheet", "contact_offset_mm", "width_curve", ...}). With
`--write-cell` the active cell description (urdf/cell.yaml and the URDF's `world_to_paper`
joint) is updated too, only when everything was measured. A failed calibration writes
calibration.json with the reason and nothing else; exit 1.

Without --sim/--sim-perturb it calibrates the cell that is running (the real one: the motion
executor's and dipping's actions, the camera's topics); a running cell also offers the same as
its action `calibrate_cell` (calibration_node). With --sim the simulated cell is brought
up for it; --sim-perturb SEED also moves the simulated sheet (up to 5 mm, 2°, 2 mm in height)
and simulates a brush drawn from the evaluation distribution, both hidden from the calibration,
and calibration.json gets `errors: {paper_position_mm, paper_yaw_deg, contact_height_mm,
width_curve_rms_mm}` against them.

Exit status: 0 calibrated; 1 the calibration failed (markers not seen, no contact, ...);
2 a bad command line; 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from pathlib import Path

import numpy as np

from calligraphy_bringup.calibration_common import jsonable, save_calibration, write_report

WIDTH_ERROR_DEPTHS_M = np.linspace(0.0005, 0.004, 36)  # where the width curve error is judged


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'calibrate',
        help='find where the sheet lies and the brush width curve (camera + touching down)',
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument('--out', type=Path, default=Path('out/calibrate'), help='output directory')
    parser.add_argument('--sim', action='store_true', help='bring the simulated cell up for it')
    parser.add_argument(
        '--sim-perturb', type=int, default=None, metavar='SEED',
        help='simulated cell with the sheet moved and a brush drawn by SEED (implies --sim)',
    )  # fmt: skip
    parser.add_argument(
        '--write-cell', action='store_true',
        help='also update the active cell description (only on success)',
    )  # fmt: skip
    parser.add_argument('--cell-yaml', type=Path, default=None, help='nominal cell.yaml')
    parser.add_argument('--image-topic', default='/camera/color/image_raw')
    parser.add_argument('--info-topic', default='/camera/color/camera_info')
    parser.add_argument('--timeout-s', type=float, default=60.0, help='wait per step, seconds')
    parser.set_defaults(func=run)


def _usage_error(args: argparse.Namespace) -> str | None:
    if not math.isfinite(args.timeout_s) or args.timeout_s <= 0:
        return f'--timeout-s must be a positive number of seconds, got {args.timeout_s:g}'
    if args.cell_yaml is not None and not args.cell_yaml.is_file():
        return f'--cell-yaml {args.cell_yaml}: no such file'
    if args.sim_perturb is not None and args.sim_perturb < 0:
        return f'--sim-perturb takes a seed >= 0, got {args.sim_perturb}'
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f'--out {args.out}: cannot write there ({error.strerror or error})'
    return None


def run(args: argparse.Namespace) -> int:
    problem = _usage_error(args)
    if problem:
        print(f'calligraphy calibrate: error: {problem}', file=sys.stderr)
        return 2
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context)
    try:
        return _calibrate(args, context)
    except KeyboardInterrupt:
        print('calligraphy calibrate: interrupted; nothing written', file=sys.stderr)
        return 130
    finally:
        context.try_shutdown()
        context.destroy()


def _sim_world(args: argparse.Namespace, world_dir: Path) -> tuple[dict, dict]:
    """Node overrides of the simulated world, and its hidden truth (for the errors only)."""
    from calligraphy_bringup.write_inputs import brush_parameters
    from calligraphy_model.brush import BrushParams
    from calligraphy_sim.sheet_perturbation import SheetPerturbation, write_perturbed_description

    seed = args.sim_perturb
    perturbation = SheetPerturbation.draw(seed) if seed is not None else SheetPerturbation()
    brush = (
        BrushParams.sample(np.random.default_rng([seed, 16]), 'eval')
        if seed is not None
        else BrushParams()
    )
    cell, urdf, true_pose = write_perturbed_description(perturbation, world_dir, args.cell_yaml)
    overrides = {
        'mujoco_arm_node': {'urdf_path': str(urdf)},
        'virtual_paper_node': {'ink_well.cell_yaml': str(cell), **brush_parameters(brush)},
        'sim_camera_node': {'cell_yaml': str(cell)},
    }
    return overrides, {'pose': true_pose, 'brush': brush, 'perturbation': perturbation}


def _errors(result, truth: dict) -> dict:
    from calligraphy_model.brush import footprint_width

    pose = truth['pose']
    yaw = math.atan2(pose[1, 0], pose[0, 0])
    brush = truth['brush']
    true_widths = footprint_width(
        WIDTH_ERROR_DEPTHS_M, brush.touch_width_m, brush.belly_diameter_m, brush.width_slope
    )
    fitted = result.curve.width_at_depth(WIDTH_ERROR_DEPTHS_M)
    yaw_error = math.remainder(result.sheet.yaw_rad - yaw, 2 * math.pi)
    return {
        'paper_position_mm': 1e3
        * math.hypot(result.sheet.x_m - pose[0, 3], result.sheet.y_m - pose[1, 3]),  # fmt: skip
        'paper_yaw_deg': abs(math.degrees(yaw_error)),
        'contact_height_mm': 1e3 * abs(result.sheet.z_m - pose[2, 3]),
        'width_curve_rms_mm': 1e3 * float(np.sqrt(np.mean((fitted - true_widths) ** 2))),
    }


def _calibrate(args: argparse.Namespace, context) -> int:
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.node import Node

    from calligraphy_bringup.graph import SimNodeGraph
    from calligraphy_bringup.ros_calibration_port import (
        CellPortError,
        RosCalibrationPort,
        sim_time_parameter,
    )
    from calligraphy_model.cell_description import (
        default_cell_yaml_path,
        fixed_pose_in_base,
        load_cell_yaml,
    )
    from calligraphy_ros_kit.spinning import spin_until_stopped
    from camera_feedback.calibration_run import calibrate_cell
    from camera_feedback.sheet_calibration import CalibrationError

    started = time.monotonic()
    cell_path = args.cell_yaml or default_cell_yaml_path()
    nominal_cell = load_cell_yaml(cell_path)
    sim = args.sim or args.sim_perturb is not None
    graph, truth = None, None
    report: dict = {
        'status': 'failed',
        'sim_perturb': args.sim_perturb,
        'nominal_cell': str(cell_path),
    }
    if sim:
        overrides, truth = _sim_world(args, args.out / '.sim_world')
        graph = SimNodeGraph(
            context,
            'sim',
            overrides,
            nodes=_calibration_nodes(),
            threads=6,
            process_groups=(('mujoco_arm_node',), ('virtual_paper_node',), ('sim_camera_node',)),
        )
        graph.start()
    node = Node(
        'calligraphy_calibrate', context=context,
        parameter_overrides=[sim_time_parameter()] if sim else [],
    )  # fmt: skip
    executor = MultiThreadedExecutor(num_threads=2, context=context)
    executor.add_node(node)
    stop = threading.Event()
    spinner = threading.Thread(
        target=lambda: spin_until_stopped(executor, stop, 0.1, name='calligraphy calibrate'),
        daemon=True,
    )
    spinner.start()
    code, port = 1, None
    try:
        port = RosCalibrationPort(
            node,
            fixed_pose_in_base(nominal_cell, 'camera_color_optical_frame'),
            args.image_topic,
            args.info_topic,
            args.timeout_s,
        )
        print('calligraphy calibrate: measuring the sheet and the brush ...', flush=True)
        result = calibrate_cell(port, fixed_pose_in_base(nominal_cell, 'paper'))
        code = _save(args, cell_path, result, truth, report)
    except (CalibrationError, CellPortError) as error:
        report['error'] = str(error)
        report['error_code'] = getattr(error, 'code', None)
        report['details'] = jsonable(getattr(error, 'details', {}))
        print(f'calligraphy calibrate: failed: {error}; nothing written', file=sys.stderr)
    finally:
        report['duration_s'] = round(time.monotonic() - started, 1)
        write_report(args.out, report)
        stop.set()
        spinner.join(timeout=5.0)
        if port is not None:
            port.close()
        executor.shutdown(timeout_sec=2.0)
        node.destroy_node()
        if graph is not None:
            graph.close()
    return code


def _calibration_nodes():
    from calligraphy_bringup.graph import SIM_CELL

    wanted = {
        'mujoco_arm_node', 'virtual_paper_node', 'sim_camera_node', 'motion_executor_node',
        'ink_dipping_node',
    }  # fmt: skip
    return tuple(spec for spec in SIM_CELL if spec.name in wanted)


def _save(args, cell_path: Path, result, truth: dict | None, report: dict) -> int:
    save_calibration(
        args.out, cell_path, args.cell_yaml is not None, result, args.write_cell, report
    )
    if truth is not None:
        report['errors'] = _errors(result, truth)
        report['targets'] = {'paper_position_mm': 1.0, 'paper_yaw_deg': 0.3,
                             'contact_height_mm': 0.2, 'width_curve_rms_mm': 0.1}  # fmt: skip
    for key, value in report.get('errors', {}).items():
        print(f'{key:>22}: {value:.3f}')
    print(f'calligraphy calibrate: saved {args.out}/cell.yaml, brush.yaml, calibration.json')
    return 0
