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
from motion_executor.brush_motion import (
    PHASE_APPROACH,
    PHASE_RETREAT,
    PHASE_WRITING,
    BrushMotionConfig,
    BrushPathSpec,
    MotionPlan,
    PlanSegment,
    descend_while_arriving,
    join_segments,
    validate_path,
)
from motion_executor.errors import MotionError, MotionErrorCode
from motion_executor.timing import (
    blended_hop_profile,
    check_joint_rates,
    joint_rates,
    lift_hop_profile,
    rest_to_rest,
)

if TYPE_CHECKING:
    from motion_executor.collision import CellCollisionModel

# Lowest travel height a goal may ask for (tip above the sheet): clear of the paper and of the
# bristles' sag.
MIN_TRAVEL_HEIGHT_M = 0.005
# A low hop's tip goes below this height only over the next path's start (see _low_hop).
HOP_CLEARANCE_M = MIN_TRAVEL_HEIGHT_M
# Upright brush: tip z along the bristles into the sheet, tip x along paper x.
UPRIGHT_IN_PAPER = np.diag([1.0, -1.0, -1.0])

IkSolver = Callable[[np.ndarray, np.ndarray], IkSolution]


class BrushMotionPlanner:
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

    def _hop_between(
        self, end_q: np.ndarray, following: BrushPathSpec, height: float
    ) -> list[PlanSegment]:
        """From a written path's end (at rest on the sheet) to the start of `following`: one move
        (`timing.lift_hop_profile`: up to `height`, along the straight line, down to the start,
        the travel overlapping the rise and the fall above the clearance; the tilt turns on the
        way). Where that line needs a joint jump, drives a joint faster than the travel's limit or
        meets the cell's collision model: the retreat to `height` and the approach the executor
        makes for a path of its own, still without the goal's stop and settling between them."""
        c = self.config
        tip_now = self.tip_in_paper(end_q)
        first_xy = np.array([following.x_m[0], following.y_m[0]])
        first_z = -float(following.pressing_depth_m[0])
        first_rotation = self._path_tilt(following, 0)
        limits = (c.vertical_speed_m_s, c.vertical_acceleration_m_s2, c.vertical_jerk_m_s3)
        offset = first_xy - tip_now[:2]
        times, fraction, z = lift_hop_profile(
            float(np.hypot(*offset)), float(tip_now[2]), height, first_z, limits,
            HOP_CLEARANCE_M, c.vertical_sample_period_s,
        )  # fmt: skip
        hop = self._line_move(end_q, offset, times, fraction, z, first_rotation)
        if hop is not None and self._clear_of_the_cell(hop):
            return [hop]
        rise = self._vertical(
            PHASE_RETREAT, tip_now[:2], float(tip_now[2]), height, self._tilts(end_q), end_q
        )
        approach = self._approach(rise.positions[-1], first_xy, first_z, first_rotation, height)
        return [rise, *approach]

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

    def _approach(
        self,
        current: np.ndarray,
        first_xy: np.ndarray,
        first_z: float,
        first_rotation: tuple,
        height: float,
    ) -> list[PlanSegment]:
        """Rise to `height` if below it, travel above the first point, descend to it."""
        safe = self.config.safe_height_m
        segments: list[PlanSegment] = []
        seed = current
        tip_now = self.tip_in_paper(current)
        start_z = tip_now[2]
        if start_z < height - 1e-4:
            # Below the travel height (e.g. after an aborted stroke): rise first.
            segments.append(
                self._vertical(PHASE_APPROACH, tip_now[:2], start_z, height, (0.0, 0.0), seed)
            )
            seed, start_z = segments[-1].positions[-1], height
        # Travel at the start's height if it is higher (leaving the ink well above its rim), but
        # never above the safe height (from home the arm descends on the way).
        travel_z = float(np.clip(start_z, height, max(safe, height)))
        above = self._solve(
            self.tip_target(np.array([*first_xy, travel_z]), *first_rotation),
            seed,
            'the point above the path start',
        )
        # A hop from at most the safe height (between strokes, from the clear view, from the ink
        # well; not from home) may go in one move that descends while it arrives.
        hop = None
        if start_z <= safe + 1e-4:
            hop = self._low_hop(seed, first_xy, first_z, first_rotation)
            hop = hop if hop is not None and self._clear_of_the_cell(hop) else None
        travel = self._travel(seed, above)
        if travel_z < safe - 1e-4:
            # A joint-space move between two low points may bow down toward the sheet.
            lowest = min(self.tip_in_paper(q)[2] for q in travel.positions)
            if lowest < 0.5 * min(start_z, travel_z):
                if hop is not None:
                    return [*segments, hop]
                return self._approach(current, first_xy, first_z, first_rotation, safe)
        descent = self._vertical(
            PHASE_APPROACH, first_xy, travel_z, first_z, first_rotation, above
        )
        # The fastest: the hop moves at the tip limits, the travel at the joint limits, and the
        # travel's end may overlap the descent's start.
        tip_height = lambda q: float(self.tip_in_paper(q)[2])  # noqa: E731
        ways = [[hop]] if hop is not None else []
        c = self.config
        blend = descend_while_arriving(
            travel, descent, tip_height, HOP_CLEARANCE_M, c.vertical_sample_period_s,
            c.joint_velocity_rad_s,
        )  # fmt: skip
        if blend is not None and self._clear_of_the_cell(blend):
            ways.append([blend])
        ways.append([travel, descent])
        return [*segments, *min(ways, key=lambda way: sum(s.time_s[-1] for s in way))]

    def _clear_of_the_cell(self, segment: PlanSegment) -> bool:
        try:
            self._checked(self._join([segment]), 'the approach')
        except MotionError:
            return False
        return True

    def _low_hop(
        self, seed: np.ndarray, first_xy: np.ndarray, first_z: float, first_rotation: tuple
    ) -> PlanSegment | None:
        """The tip's straight move over the sheet from where it is to the path start, in one
        go: it travels along the line (a rest-to-rest profile over the distance) while its
        height follows one rest-to-rest profile to `first_z`, started so that the tip goes below
        HOP_CLEARANCE_M only as the travel comes to rest over the start (the brush cannot touch
        the sheet while it moves sideways). Tip limits are the vertical ones; the tilt turns
        with the travel. Instead of travel, stop and descent (used when faster than those: the
        travel goes at the joint limits): the descent overlaps the travel's end. None when the
        line needs a joint jump or the joints would exceed the travel's joint speed (or the tip
        starts below the clearance)."""
        c = self.config
        tip_now = self.tip_in_paper(seed)
        start_z = float(tip_now[2])
        if start_z < HOP_CLEARANCE_M:
            return None
        limits = (c.vertical_speed_m_s, c.vertical_acceleration_m_s2, c.vertical_jerk_m_s3)
        offset = np.asarray(first_xy, dtype=float) - tip_now[:2]
        times, fraction, z = blended_hop_profile(
            float(np.hypot(*offset)), start_z, first_z, limits, HOP_CLEARANCE_M,
            c.vertical_sample_period_s,
        )  # fmt: skip
        return self._line_move(seed, offset, times, fraction, z, first_rotation)

    def _line_move(
        self,
        seed: np.ndarray,
        offset: np.ndarray,
        times: np.ndarray,
        fraction: np.ndarray,
        height: np.ndarray,
        end_rotation: tuple,
    ) -> PlanSegment | None:
        """The tip from where `seed` holds it along the straight line by `offset` (paper x, y),
        at `fraction` of it and `height` at `times`, the tilt turning with the travel, at rest at
        both ends. None where the line needs a joint jump or a joint faster than the travel's
        limit (the caller then travels in joint space)."""
        tip_now = self.tip_in_paper(seed)
        start_tilt = np.array(self._tilts(seed))
        tilts = start_tilt + np.outer(fraction, np.asarray(end_rotation) - start_tilt)
        targets = [
            self.tip_target(np.array([*(tip_now[:2] + f * offset), h]), *tilt)
            for f, h, tilt in zip(fraction, height, tilts, strict=True)
        ]
        try:
            q = self._solve_chain(targets, seed, 'hop')
        except MotionError:
            return None
        velocities, accelerations = joint_rates(times, q)
        velocities[[0, -1]] = 0.0
        accelerations[[0, -1]] = 0.0
        if np.max(np.abs(velocities)) > self.config.joint_velocity_rad_s:
            return None
        return PlanSegment(PHASE_APPROACH, times, q, velocities, accelerations)

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
