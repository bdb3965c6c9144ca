"""`calligraphy bench motion`: brush paths planned by the motion executor's planner and executed
in the MuJoCo arm.

Figures: tip RMS / max tracking error over the writing segment of a 100 mm square and an 80 mm
circle written at 50 mm/s (brush tip measured in MuJoCo against the planned path at the same time),
IK time per path point, and how much faster than real time the simulated arm runs.

It lives with the simulated cell's benchmarks, not in motion_executor: it needs the simulator,
which no runtime package imports.
"""

from __future__ import annotations

import time

import numpy as np

from calligraphy_model.kinematics import ArmKinematics
from calligraphy_sim.arm import ArmSimulation
from calligraphy_sim.arm_trajectory import JointTrajectory
from motion_executor.brush_motion import MotionPlan
from motion_executor.brush_motion_planner import BrushMotionPlanner
from motion_executor.sample_paths import WRITING_SPEED_M_S, circle_path, square_path


def execute_in_simulation(plan: MotionPlan, simulation, settle_s: float = 0.3) -> dict:
    """Run `plan` in a `calligraphy_sim.arm.ArmSimulation`; tip errors over the writing segment."""
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


def measure_motion_tracking(quick: bool) -> dict:
    """Figures of `calligraphy bench motion`."""
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
