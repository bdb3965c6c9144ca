"""Can the arm dip at this well? The routine planned by the motion executor's own planner (no ROS).

Every phase of the routine is planned in turn from the arm's home pose with the same IK, joint-jump
and joint-rate checks the motion executor applies before it moves, so a well the node accepts at
configuration is one the executor will accept at run time. motion_executor (pinocchio) is
imported only here, when the check runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ink_dipping.config import DIP_MODES, DipRoutineConfig, InkWellConfig
from ink_dipping.routine import dip_routine


class InkWellUnreachableError(ValueError):
    """The arm cannot carry out the dip routine at the configured well."""


def check_reachable(
    well: InkWellConfig,
    config: DipRoutineConfig,
    home_positions_rad: np.ndarray,
    urdf_path: str | Path | None = None,
) -> float:
    """Plan both modes' routines from `home_positions_rad`; raise InkWellUnreachableError if not.

    Returns the duration of the full routine's arm motion (s), as the planner times it.
    """
    from motion_executor.errors import MotionError
    from motion_executor.kinematics import ArmKinematics
    from motion_executor.planner import BrushMotionPlanner, BrushPathSpec, PlannerConfig

    planner = BrushMotionPlanner(
        ArmKinematics(urdf_path or None), PlannerConfig(safe_height_m=config.safe_height_m)
    )
    durations = {}
    for mode in DIP_MODES:
        positions = np.asarray(home_positions_rad, dtype=float)
        segments = dip_routine(well, config, mode)
        durations[mode] = 0.0
        for index, segment in enumerate(segments):
            path = BrushPathSpec(
                segment.x_m, segment.y_m, segment.pressing_depth_m, segment.time_from_start_s
            )
            try:
                plan = planner.plan(
                    path,
                    positions,
                    skip_approach=index > 0,
                    skip_retreat=index < len(segments) - 1,
                )
            except MotionError as error:
                raise InkWellUnreachableError(
                    f'the ink well at ({well.x_m:.4f}, {well.y_m:.4f}) m in paper cannot be '
                    f'dipped ({mode} mode, {segment.phase}): {error.message}'
                ) from None
            positions = plan.positions[-1]
            durations[mode] += plan.duration_s
    return durations['full']
