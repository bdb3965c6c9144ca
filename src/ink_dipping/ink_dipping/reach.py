"""Can the arm dip at this well? Every waypoint of the routine solved with the arm's IK (no ROS).

The check runs at the dip node's start, from the arm's home pose: each phase's tip path is solved
point by point with the cell's kinematics (calligraphy_model.kinematics, the IK the motion
executor's native backend uses), each solution seeded with the previous one, and refused like the
executor refuses a path: a point out of reach, a joint jump between two points of a phase (an IK
branch change) larger than the executor's, or a joint faster than its URDF limit along the
phase's timing. The executor still checks each motion (and its collisions) when it runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from calligraphy_model.cell_description import InkWellGeometry
from calligraphy_model.kinematics import ArmKinematics
from ink_dipping.config import DIP_MODES, DipRoutineConfig
from ink_dipping.errors import InkWellUnreachableError
from ink_dipping.routine import DipSegment, dip_routine

# Largest joint step between two consecutive points of a phase (the executor's default), rad.
MAX_JOINT_STEP_RAD = 0.25
# The executor's default travel limits, for the estimate of the approach from home.
TRAVEL_VELOCITY_RAD_S = 1.0
TRAVEL_ACCELERATION_RAD_S2 = 2.0
# Upright brush: tip z along the bristles into the sheet, tip x along paper x.
_UPRIGHT_IN_PAPER = np.diag([1.0, -1.0, -1.0])


def _travel_time_s(start: np.ndarray, goal: np.ndarray) -> float:
    """Rest-to-rest time of the largest joint move at the travel limits (trapezoidal)."""
    distance = float(np.max(np.abs(goal - start)))
    v, a = TRAVEL_VELOCITY_RAD_S, TRAVEL_ACCELERATION_RAD_S2
    if distance <= v * v / a:
        return 2.0 * float(np.sqrt(distance / a))
    return distance / v + v / a


def _solve_phase(
    kinematics: ArmKinematics, paper_in_base: np.ndarray, segment: DipSegment, seed: np.ndarray
) -> np.ndarray:
    """Joint positions of every point of `segment`; ValueError naming the first problem."""
    solutions, previous = [], seed
    for index in range(len(segment.x_m)):
        target = np.eye(4)
        target[:3, :3] = _UPRIGHT_IN_PAPER
        target[:3, 3] = (segment.x_m[index], segment.y_m[index], -segment.pressing_depth_m[index])
        solution = kinematics.inverse(paper_in_base @ target, previous)
        if not solution.success:
            raise ValueError(
                f'point {index} at ({target[0, 3]:.4f}, {target[1, 3]:.4f}, {target[2, 3]:.4f}) '
                f'm in paper is out of reach (IK residual {solution.position_error_m * 1e3:.2f} '
                'mm)'
            )
        step = float(np.max(np.abs(solution.positions - previous))) if index else 0.0
        if step > MAX_JOINT_STEP_RAD:
            raise ValueError(f'point {index} needs a joint jump of {step:.2f} rad')
        solutions.append(solution.positions)
        previous = solution.positions
    positions = np.array(solutions)
    if len(positions) > 1:
        rates = np.gradient(positions, segment.time_from_start_s, axis=0)
        ratio = np.abs(rates) / kinematics.velocity_limits
        if np.any(ratio > 1.0):
            point, joint = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            raise ValueError(
                f'point {point} needs {abs(rates[point, joint]):.2f} rad/s on '
                f'{kinematics.joint_names[joint]}, above its limit'
            )
    return positions


def check_reachable(
    well: InkWellGeometry,
    config: DipRoutineConfig,
    home_positions_rad: np.ndarray,
    urdf_path: str | Path | None = None,
) -> float:
    """Solve both modes' routines from `home_positions_rad`; InkWellUnreachableError if not.

    Returns the duration of the full routine's arm motion (s): its phases' own timing plus the
    approach from home at the executor's default travel limits.
    """
    kinematics = ArmKinematics(urdf_path or None)
    paper_in_base = kinematics.paper_in_base
    durations = {}
    for mode in DIP_MODES:
        positions = np.asarray(home_positions_rad, dtype=float)
        durations[mode] = 0.0
        for segment in dip_routine(well, config, mode):
            try:
                solved = _solve_phase(kinematics, paper_in_base, segment, positions)
            except ValueError as error:
                raise InkWellUnreachableError(
                    f'the ink well at ({well.x_m:.4f}, {well.y_m:.4f}) m in paper cannot be '
                    f'dipped ({mode} mode, {segment.phase}): {error}'
                ) from None
            durations[mode] += _travel_time_s(positions, solved[0])
            durations[mode] += float(segment.time_from_start_s[-1])
            positions = solved[-1]
    return durations['full']
