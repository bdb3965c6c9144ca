"""The brush's moves in the air around a stroke, for the brush motion planner: the approach to a
path's start (a low hop in one straight move, or a joint-space travel whose end overlaps the
descent, or travel then descent, whichever is fastest and clear of the cell) and the hop between
two chained paths of one goal. A mixin of `BrushMotionPlanner`, which provides the IK, the
vertical and travel profiles, the collision check and the joining. No ROS.
"""

from __future__ import annotations

import numpy as np

from motion_executor.brush_motion import (
    PHASE_APPROACH,
    PHASE_RETREAT,
    BrushPathSpec,
    PlanSegment,
    descend_while_arriving,
)
from motion_executor.errors import MotionError
from motion_executor.timing import blended_hop_profile, joint_rates, lift_hop_profile

# Lowest travel height a goal may ask for (tip above the sheet): clear of the paper and of the
# bristles' sag.
MIN_TRAVEL_HEIGHT_M = 0.005
# A low hop's tip goes below this height only over the next path's start (see _low_hop).
HOP_CLEARANCE_M = MIN_TRAVEL_HEIGHT_M


class AirMoves:
    """The approach and the hops of `BrushMotionPlanner` (see the module docstring)."""

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
