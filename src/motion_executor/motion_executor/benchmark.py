"""`calligraphy bench motion`: brush paths planned here and executed in the MuJoCo arm.

Figures: tip RMS / max tracking error over the writing segment of a 100 mm square and an 80 mm
circle written at 50 mm/s (brush tip measured in MuJoCo against the planned path at the same time),
IK time per path point, and how much faster than real time the simulated arm runs.
"""

from __future__ import annotations

import time

import numpy as np

from motion_executor.kinematics import ArmKinematics
from motion_executor.planner import BrushMotionPlanner, BrushPathSpec, MotionPlan
from motion_executor.timing import rest_to_rest

WRITING_SPEED_M_S = 0.05
PRESSING_DEPTH_M = 0.002
SAMPLE_PERIOD_S = 0.01


def _timed_polyline(corners: np.ndarray, speed: float, stop_at_corners: bool) -> np.ndarray:
    """(N, 3) rows of x, y, t along `corners`: at `speed`, accelerating from rest at the start
    (and at every corner when `stop_at_corners`), jerk-limited."""
    legs = (
        [corners] if not stop_at_corners else [corners[i : i + 2] for i in range(len(corners) - 1)]
    )
    rows, offset = [], 0.0
    for leg in legs:
        lengths = np.linalg.norm(np.diff(leg, axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(lengths)])
        profile = rest_to_rest(
            np.array([0.0]), np.array([arc[-1]]), speed, 0.5, 10.0, SAMPLE_PERIOD_S
        )
        s = profile.positions[:, 0]
        xy = np.column_stack([np.interp(s, arc, leg[:, 0]), np.interp(s, arc, leg[:, 1])])
        t = profile.time_s + offset
        if rows:
            xy, t = xy[1:], t[1:]
        rows.append(np.column_stack([xy, t]))
        offset = float(t[-1])
    return np.vstack(rows)


def square_path(side_m: float = 0.1, speed_m_s: float = WRITING_SPEED_M_S) -> BrushPathSpec:
    """A square centred on the sheet, written counter-clockwise, stopping at each corner."""
    cx, cy, h = 0.1485, 0.105, side_m / 2.0
    corners = np.array(
        [[cx - h, cy - h], [cx + h, cy - h], [cx + h, cy + h], [cx - h, cy + h], [cx - h, cy - h]]
    )
    rows = _timed_polyline(corners, speed_m_s, stop_at_corners=True)
    return BrushPathSpec(rows[:, 0], rows[:, 1], np.full(len(rows), PRESSING_DEPTH_M), rows[:, 2])


def circle_path(radius_m: float = 0.04, speed_m_s: float = WRITING_SPEED_M_S) -> BrushPathSpec:
    """A full circle centred on the sheet at constant speed between a start and stop ramp."""
    angles = np.linspace(0.0, 2.0 * np.pi, 721)
    points = np.column_stack(
        [0.1485 + radius_m * np.cos(angles), 0.105 + radius_m * np.sin(angles)]
    )
    rows = _timed_polyline(points, speed_m_s, stop_at_corners=False)
    return BrushPathSpec(rows[:, 0], rows[:, 1], np.full(len(rows), PRESSING_DEPTH_M), rows[:, 2])


def execute_in_simulation(plan: MotionPlan, simulation, settle_s: float = 0.3) -> dict:
    """Run `plan` in a `calligraphy_sim.arm.ArmSimulation`; tip errors over the writing segment."""
    from calligraphy_sim.arm_trajectory import JointTrajectory

    start = simulation.time_s
    simulation.set_trajectory(
        JointTrajectory(
            plan.joint_names, plan.time_s, plan.positions, plan.velocities, plan.accelerations
        ),
        start,
    )
    window = plan.writing_window()
    errors = []
    steps = int(round((plan.duration_s + settle_s) / simulation.model.opt.timestep))
    started = time.perf_counter()
    for _ in range(steps):
        simulation.step()
        tau = simulation.time_s - start
        if window and window[0] <= tau <= window[1]:
            measured, _ = simulation.brush_tip_in_paper()
            errors.append(np.linalg.norm(measured - plan.tip_reference(tau)))
    wall = time.perf_counter() - started
    errors = np.array(errors) if errors else np.zeros(1)
    final, _ = simulation.brush_tip_in_paper()
    return {
        'tip_rms_error_m': float(np.sqrt(np.mean(errors**2))),
        'tip_max_error_m': float(np.max(errors)),
        'final_tip_in_paper': final,
        'sim_s': steps * simulation.model.opt.timestep,
        'wall_s': wall,
    }


def run(quick: bool) -> dict:
    from calligraphy_sim.arm import ArmSimulation

    kinematics = ArmKinematics()
    planner = BrushMotionPlanner(kinematics)
    simulation = ArmSimulation()
    figures: dict = {}
    ik_points, ik_seconds = 0, 0.0
    sim_s, wall_s = 0.0, 0.0
    for name, path in (('square_100mm', square_path()), ('circle_80mm', circle_path())):
        started = time.perf_counter()
        plan = planner.plan(path, simulation.joint_positions)
        ik_seconds += time.perf_counter() - started
        ik_points += path.point_count
        result = execute_in_simulation(plan, simulation)
        figures[f'{name}_tip_rms_error_mm'] = round(result['tip_rms_error_m'] * 1e3, 4)
        figures[f'{name}_tip_max_error_mm'] = round(result['tip_max_error_m'] * 1e3, 4)
        sim_s += result['sim_s']
        wall_s += result['wall_s']
    figures['tip_rms_error_mm'] = max(v for k, v in figures.items() if k.endswith('rms_error_mm'))
    figures['tip_max_error_mm'] = max(v for k, v in figures.items() if k.endswith('max_error_mm'))
    # Planning time per path point, IK dominated (approach/retreat samples included).
    figures['ik_ms_per_point'] = round(ik_seconds / ik_points * 1e3, 4)
    figures['sim_realtime_factor'] = round(sim_s / wall_s, 1)
    figures['writing_speed_mm_s'] = WRITING_SPEED_M_S * 1e3
    figures['target_tip_rms_error_mm'] = 0.3
    figures['target_sim_realtime_factor'] = 10.0
    return figures
