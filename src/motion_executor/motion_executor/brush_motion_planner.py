"""The brush motion planner: from a timed brush path on the sheet to a timed joint trajectory.

Every IK solution is seeded with the previous one, so the arm stays on one branch, and every check
runs before anything moves. The plan's phases and the path's checks: motion_executor.brush_motion.
No ROS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from calligraphy_model.kinematics import ArmKinematics, IkSolution
from motion_executor.air_moves import HOP_CLEARANCE_M, MIN_TRAVEL_HEIGHT_M, AirMoves
from motion_executor.brush_motion import (
    PHASE_APPROACH,
    PHASE_RETREAT,
    PHASE_WRITING,
    BrushMotionConfig,
    BrushPathSpec,
    MotionPlan,
    PlanSegment,
    join_segments,
    validate_path,
)
from motion_executor.errors import MotionError, MotionErrorCode
from motion_executor.timing import check_joint_rates, joint_rates, rest_to_rest

if TYPE_CHECKING:
    from motion_executor.collision import CellCollisionModel

# Upright brush: tip z along the bristles into the sheet, tip x along paper x.
UPRIGHT_IN_PAPER = np.diag([1.0, -1.0, -1.0])

IkSolver = Callable[[np.ndarray, np.ndarray], IkSolution]
__all__ = ['HOP_CLEARANCE_M', 'MIN_TRAVEL_HEIGHT_M', 'BrushMotionPlanner', 'IkSolver']


class BrushMotionPlanner(AirMoves):
    """Plans brush paths for the arm; `ik` defaults to the pinocchio solver of `kinematics`.

    With a `collision` model every plan and lift is checked against the cell's fixed objects
    (MotionError COLLISION) before it is returned.
    """

    def __init__(
        self,
        kinematics: ArmKinematics,
        config: BrushMotionConfig | None = None,
        ik: IkSolver | None = None,
        paper_in_base: np.ndarray | None = None,
        collision: CellCollisionModel | None = None,
    ) -> None:
        self.kinematics = kinematics
        self.config = config or BrushMotionConfig()
        self.collision = collision
        self._ik = ik or (lambda target, seed: kinematics.inverse(target, seed))
        self.paper_in_base = (
            kinematics.paper_in_base if paper_in_base is None else np.asarray(paper_in_base)
        )

    def tip_target(self, point_in_paper: np.ndarray, tilt_x: float = 0.0, tilt_y: float = 0.0):
        """4x4 brush_tip pose in base_link for a tip point in `paper` and a brush tilt."""
        cx, sx, cy, sy = np.cos(tilt_x), np.sin(tilt_x), np.cos(tilt_y), np.sin(tilt_y)
        tilt = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]]) @ np.array(
            [[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]
        )
        in_paper = np.eye(4)
        in_paper[:3, :3] = tilt @ UPRIGHT_IN_PAPER
        in_paper[:3, 3] = point_in_paper
        return self.paper_in_base @ in_paper

    def tip_in_paper(self, positions: np.ndarray) -> np.ndarray:
        return self.kinematics.tip_in_paper(positions, self.paper_in_base)

    def _solve(self, target: np.ndarray, seed: np.ndarray, what: str) -> np.ndarray:
        solution = self._ik(target, seed)
        if not solution.success:
            point = np.linalg.inv(self.paper_in_base) @ target[:, 3]
            raise MotionError(
                MotionErrorCode.UNREACHABLE,
                f'{what} at ({point[0]:.4f}, {point[1]:.4f}, {point[2]:.4f}) m in paper is out '
                f'of reach (IK residual {solution.position_error_m * 1e3:.2f} mm)',
            )
        return solution.positions

    def _solve_chain(self, targets: list[np.ndarray], seed: np.ndarray, what: str) -> np.ndarray:
        solutions = []
        previous = seed
        for index, target in enumerate(targets):
            q = self._solve(target, previous, f'{what} point {index}')
            step = np.max(np.abs(q - previous)) if index else 0.0
            if step > self.config.max_joint_step_rad:
                raise MotionError(
                    MotionErrorCode.UNREACHABLE,
                    f'{what} point {index} needs a joint jump of {step:.2f} rad (IK branch '
                    'change near a singularity or joint limit)',
                )
            solutions.append(q)
            previous = q
        return np.array(solutions)

    def _vertical(
        self, phase: str, xy: np.ndarray, z0: float, z1: float, rotation: tuple, seed: np.ndarray
    ) -> PlanSegment:
        c = self.config
        profile = rest_to_rest(
            np.array([z0]),
            np.array([z1]),
            c.vertical_speed_m_s,
            c.vertical_acceleration_m_s2,
            c.vertical_jerk_m_s3,
            c.vertical_sample_period_s,
        )
        targets = [
            self.tip_target(np.array([xy[0], xy[1], z]), *rotation)
            for z in profile.positions[:, 0]
        ]
        q = self._solve_chain(targets, seed, f'{phase} move')
        velocities, accelerations = joint_rates(profile.time_s, q)
        # Rest to rest: the one-sided differences at the ends would command a jolt.
        velocities[[0, -1]] = 0.0
        accelerations[[0, -1]] = 0.0
        return PlanSegment(phase, profile.time_s, q, velocities, accelerations)

    def _travel(self, start: np.ndarray, goal: np.ndarray) -> PlanSegment:
        c = self.config
        profile = rest_to_rest(
            start,
            goal,
            c.joint_velocity_rad_s,
            c.joint_acceleration_rad_s2,
            c.joint_jerk_rad_s3,
            c.travel_sample_period_s,
        )
        return PlanSegment(
            PHASE_APPROACH,
            profile.time_s,
            profile.positions,
            profile.velocities,
            profile.accelerations,
        )

    def plan(
        self,
        path: BrushPathSpec,
        current_positions: np.ndarray,
        time_scale: float = 1.0,
        skip_approach: bool = False,
        skip_retreat: bool = False,
        approach_height_m: float = 0.0,
        retreat_height_m: float = 0.0,
        then_paths: tuple[BrushPathSpec, ...] = (),
    ) -> MotionPlan:
        """Plan approach, writing and retreat for `path`, starting at `current_positions`.

        With `skip_approach` the arm moves straight (joint space) to the first point, for a path
        that continues where the previous one ended; with `skip_retreat` it stays at the last
        point. `approach_height_m` and `retreat_height_m` (tip above the sheet; 0 = the safe
        height) let consecutive strokes hop low: the approach travels at the approach height, or
        higher where the tip starts higher (never above the safe height), and falls back to the
        safe height if the tip would sag below half the hop on the way. `then_paths` are written
        after `path` in the same plan, each reached from the end of the one before by a hop at the
        approach height without a stop in the air (`_hop_between`). Raises MotionError with the
        code of the first problem found.
        """
        for each in (path, *then_paths):
            validate_path(each, self.config)
        if not np.isfinite(time_scale) or time_scale < 0.0:
            raise MotionError(MotionErrorCode.INVALID_PATH, 'time_scale must be >= 0')
        time_scale = time_scale or 1.0
        approach_height = self._travel_height(approach_height_m, 'approach_height_m')
        retreat_height = self._travel_height(retreat_height_m, 'retreat_height_m')
        current = np.asarray(current_positions, dtype=float)
        first_xy = np.array([path.x_m[0], path.y_m[0]])
        first_rotation = self._path_tilt(path, 0)
        segments: list[PlanSegment] = []

        seed = current
        if not skip_approach:
            segments += self._approach(
                current, first_xy, -path.pressing_depth_m[0], first_rotation, approach_height
            )
            seed = segments[-1].positions[-1]

        writing = self._writing(path, seed, time_scale, 'brush path')
        if skip_approach:
            segments.append(self._travel(current, writing.positions[0]))
        segments.append(writing)
        for index, following in enumerate(then_paths, start=1):
            hop = self._hop_between(writing.positions[-1], following, approach_height)
            segments += hop
            writing = self._writing(
                following, segments[-1].positions[-1], time_scale, f'brush path {index}'
            )
            segments.append(writing)
        last = then_paths[-1] if then_paths else path

        if not skip_retreat:
            last_xy = np.array([last.x_m[-1], last.y_m[-1]])
            segments.append(
                self._vertical(
                    PHASE_RETREAT,
                    last_xy,
                    -last.pressing_depth_m[-1],
                    retreat_height,
                    self._path_tilt(last, -1),
                    writing.positions[-1],
                )
            )
        return self._checked(self._join(segments), 'the brush path')

    @staticmethod
    def _path_tilt(path: BrushPathSpec, index: int) -> tuple[float, float]:
        tilt_x = path.tilt_x_rad[index] if len(path.tilt_x_rad) else 0.0
        tilt_y = path.tilt_y_rad[index] if len(path.tilt_y_rad) else 0.0
        return float(tilt_x), float(tilt_y)

    def _writing(
        self, path: BrushPathSpec, seed: np.ndarray, time_scale: float, what: str
    ) -> PlanSegment:
        """The path's writing segment: IK of every point from `seed`, at the path's timing."""
        targets = [
            self.tip_target(
                np.array([path.x_m[i], path.y_m[i], -path.pressing_depth_m[i]]),
                *self._path_tilt(path, i),
            )
            for i in range(path.point_count)
        ]
        writing_q = self._solve_chain(targets, seed, what)
        writing_t = (path.time_from_start_s - path.time_from_start_s[0]) * time_scale
        velocities, accelerations = joint_rates(writing_t, writing_q)
        reason = check_joint_rates(
            velocities, self.kinematics.velocity_limits, self.kinematics.joint_names
        )
        if reason:
            raise MotionError(MotionErrorCode.INVALID_PATH, reason)
        if path.point_count == 1:
            writing_t = np.array([0.0])
        return PlanSegment(PHASE_WRITING, writing_t, writing_q, velocities, accelerations)

    def _checked(self, plan: MotionPlan, what: str) -> MotionPlan:
        if self.collision is not None:
            self.collision.check_plan(plan, what)
        return plan

    def _travel_height(self, value: float, name: str) -> float:
        if not np.isfinite(value) or value < 0.0 or 0.0 < value < MIN_TRAVEL_HEIGHT_M:
            raise MotionError(
                MotionErrorCode.INVALID_PATH,
                f'{name} must be 0 (the safe height) or at least '
                f'{MIN_TRAVEL_HEIGHT_M * 1e3:.0f} mm, got {value!r}',
            )
        return float(value) or self.config.safe_height_m

    def _tilts(self, positions: np.ndarray) -> tuple[float, float]:
        """The brush's tilt about paper x and y at `positions` (0, 0 upright)."""
        rotation = (
            np.linalg.inv(self.paper_in_base[:3, :3]) @ self.kinematics.forward(positions)[:3, :3]
        )
        tilted = rotation @ UPRIGHT_IN_PAPER.T
        tilt_y = float(np.arcsin(np.clip(tilted[0, 2], -1.0, 1.0)))
        tilt_x = float(np.arctan2(-tilted[1, 2], tilted[2, 2]))
        return tilt_x, tilt_y

    def plan_lift(self, current_positions: np.ndarray) -> MotionPlan:
        """Rise vertically from `current_positions` to the safe height (hold if already there)."""
        current = np.asarray(current_positions, dtype=float)
        tip = self.tip_in_paper(current)
        safe = self.config.safe_height_m
        if tip[2] >= safe - 1e-4:
            return self._join(
                [
                    PlanSegment(
                        PHASE_RETREAT,
                        np.array([0.0, self.config.vertical_sample_period_s]),
                        np.array([current, current]),
                        np.zeros((2, 6)),
                        np.zeros((2, 6)),
                    )
                ]
            )
        # Keep the brush's current tilt while lifting.
        segment = self._vertical(
            PHASE_RETREAT, tip[:2], tip[2], safe, self._tilts(current), current
        )
        return self._checked(self._join([segment]), 'the lift')

    def _join(self, segments: list[PlanSegment]) -> MotionPlan:
        return join_segments(
            segments,
            self.config.vertical_sample_period_s,
            self.kinematics.joint_names,
            self.tip_in_paper,
        )
