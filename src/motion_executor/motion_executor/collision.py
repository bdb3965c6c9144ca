"""The cell's fixed objects as primitives, and the brush tip's planned path checked against them.

The objects come from `urdf/cell.yaml`: the ink well (an upright hollow cylinder whose wall the tip
must not cross below the rim's top; its interior, entered from above, is the goal of a dip), and
the `obstacles` entries (boxes and upright cylinders in base_link: the table, the camera's post,
arm and body, and sheet clamps where a cell has them). Each keeps a clearance from the tip. Two
contacts are the cell's work and are allowed: writing on the sheet (the table under the sheet's
footprint is not checked; how deep the tip presses is the planner's TOO_DEEP check) and wiping the
bristles on the rim (the tip may press `wipe_band_m` into the rim's top, less the clearance).

A plan is checked on its tip positions (the plan's `tip_in_paper`), with the straight chord between
two samples resampled every `max_step_m`: consecutive plan samples lie 20 ms apart, along which the
tip's arc leaves the chord by micrometres. A plan that starts inside an object's clearance (the arm
is already there, e.g. a lift from a low point) may move away from it but never closer.

Core module: no ROS. Units: metres, seconds; all geometry in the `paper` frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from calligraphy_model.cell_description import load_cell_yaml, pose_matrix
from motion_executor.errors import MotionError, MotionErrorCode

if TYPE_CHECKING:
    from motion_executor.brush_motion import MotionPlan

# Resampling step of the tip's path between plan samples (m).
DEFAULT_MAX_STEP_M = 0.001
# A plan starting inside a clearance may not go deeper than where it starts, by this much (m).
_DEEPER_TOLERANCE_M = 1e-4
_UPRIGHT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Box:
    """A box: `pose_in_paper` (4x4) of its centre, `half_size_m` (3,), clearance kept from it."""

    name: str
    pose_in_paper: np.ndarray
    half_size_m: np.ndarray
    clearance_m: float
    # The table: not checked under the sheet's footprint, where the brush writes.
    under_sheet: bool = False

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Signed distance of (N, 3) points in paper to the box (negative inside), m."""
        local = (points - self.pose_in_paper[:3, 3]) @ self.pose_in_paper[:3, :3]
        return _box_sdf(np.abs(local) - self.half_size_m)


@dataclass(frozen=True)
class UprightTube:
    """A solid upright cylinder (`inner_radius_m` 0) or hollow one (a wall between the radii),
    axis along paper z through (`x_m`, `y_m`), from `z_min_m` to `z_max_m` in paper."""

    name: str
    x_m: float
    y_m: float
    inner_radius_m: float
    outer_radius_m: float
    z_min_m: float
    z_max_m: float
    clearance_m: float

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Signed distance of (N, 3) points in paper to the solid (negative inside), m."""
        radial = np.hypot(points[:, 0] - self.x_m, points[:, 1] - self.y_m)
        # A solid of revolution: the distance is that to its rectangle in the (r, z) half-plane.
        r_mid = 0.5 * (self.inner_radius_m + self.outer_radius_m)
        r_half = 0.5 * (self.outer_radius_m - self.inner_radius_m)
        z_mid = 0.5 * (self.z_min_m + self.z_max_m)
        z_half = 0.5 * (self.z_max_m - self.z_min_m)
        q = np.stack([np.abs(radial - r_mid) - r_half, np.abs(points[:, 2] - z_mid) - z_half], 1)
        return _box_sdf(q)


Obstacle = Box | UprightTube


def _box_sdf(q: np.ndarray) -> np.ndarray:
    outside = np.linalg.norm(np.maximum(q, 0.0), axis=1)
    inside = np.minimum(np.max(q, axis=1), 0.0)
    return outside + inside


@dataclass(frozen=True)
class Contact:
    """The first place where a plan's tip comes closer to an object than its clearance."""

    obstacle: str
    distance_m: float
    clearance_m: float
    time_s: float
    point_in_paper: np.ndarray


class CellCollisionModel:
    """The fixed objects of the cell; checks tip paths against them.

    Args:
        obstacles: the objects, in the paper frame.
        sheet_width_m, sheet_height_m: the sheet's footprint (x, y from its lower-left corner),
            where `under_sheet` objects (the table) are not checked.
        max_step_m: resampling step of the tip's path.
    """

    def __init__(
        self,
        obstacles: list[Obstacle],
        sheet_width_m: float,
        sheet_height_m: float,
        max_step_m: float = DEFAULT_MAX_STEP_M,
    ) -> None:
        if not max_step_m > 0.0:
            raise ValueError(f'max_step_m must be > 0, got {max_step_m}')
        self.obstacles = list(obstacles)
        self.sheet_width_m = float(sheet_width_m)
        self.sheet_height_m = float(sheet_height_m)
        self.max_step_m = float(max_step_m)

    @classmethod
    def from_cell_yaml(
        cls, path: str | Path | dict | None = None, paper_in_base: np.ndarray | None = None
    ) -> CellCollisionModel:
        """The objects of `urdf/cell.yaml` (or `path`, or its loaded contents) in the paper frame.

        `paper_in_base` overrides the sheet pose of the file (a touch-off calibration). Raises
        FileNotFoundError or ValueError (what is missing or malformed).
        """
        cell = path if isinstance(path, dict) else load_cell_yaml(path)
        paper = _entry(cell, 'paper')
        if paper_in_base is None:
            paper_in_base = _pose(paper, 'paper')
        base_to_paper = np.linalg.inv(np.asarray(paper_in_base, dtype=float))
        obstacles: list[Obstacle] = [_ink_well(cell, base_to_paper)]
        for name, entry in (cell.get('obstacles') or {}).items():
            obstacles.append(_obstacle(name, entry, base_to_paper))
        return cls(
            obstacles, _number(paper, 'width_m', 'paper'), _number(paper, 'height_m', 'paper')
        )

    def resample(self, tips: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tip positions (N, 3) and times (N,) with every chord cut into steps <= max_step_m."""
        tips = np.asarray(tips, dtype=float).reshape(-1, 3)
        times = np.asarray(times, dtype=float)
        if len(tips) < 2:
            return tips, times
        chords = np.linalg.norm(np.diff(tips, axis=0), axis=1)
        pieces = np.maximum(np.ceil(chords / self.max_step_m).astype(int), 1)
        segment = np.repeat(np.arange(len(chords)), pieces)
        starts = np.concatenate([[0], np.cumsum(pieces)[:-1]])
        fraction = (np.arange(pieces.sum()) - np.repeat(starts, pieces)) / np.repeat(
            pieces, pieces
        )
        points = tips[segment] + fraction[:, None] * (tips[segment + 1] - tips[segment])
        at = times[segment] + fraction * (times[segment + 1] - times[segment])
        return np.vstack([points, tips[-1:]]), np.concatenate([at, times[-1:]])

    def distances(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """Signed distance (m) of each point to each object (+inf where an object is not
        checked: the table under the sheet)."""
        points = np.asarray(points, dtype=float).reshape(-1, 3)
        over_sheet = (
            (points[:, 0] >= 0.0)
            & (points[:, 0] <= self.sheet_width_m)
            & (points[:, 1] >= 0.0)
            & (points[:, 1] <= self.sheet_height_m)
        )
        result = {}
        for obstacle in self.obstacles:
            distance = obstacle.distance(points)
            if isinstance(obstacle, Box) and obstacle.under_sheet:
                distance = np.where(over_sheet, np.inf, distance)
            result[obstacle.name] = distance
        return result

    def first_contact(self, tips: np.ndarray, times: np.ndarray) -> Contact | None:
        """The first resampled point of the tip path (N, 3) at `times` (N,) that violates an
        object's clearance, or None when the path is clear."""
        points, at = self.resample(tips, times)
        first: Contact | None = None
        all_distances = self.distances(points)
        for obstacle in self.obstacles:
            distance = all_distances[obstacle.name]
            start = float(distance[0])
            allowed = obstacle.clearance_m
            if start < allowed:
                # Already inside the clearance: moving away is the way out, closing in is not.
                allowed = start - _DEEPER_TOLERANCE_M
            bad = np.flatnonzero(distance < allowed)
            if len(bad) and (first is None or at[bad[0]] < first.time_s):
                index = int(bad[0])
                first = Contact(
                    obstacle.name,
                    float(distance[index]),
                    obstacle.clearance_m,
                    float(at[index]),
                    points[index].copy(),
                )
        return first

    def min_clearances(self, tips: np.ndarray, times: np.ndarray) -> dict[str, float]:
        """Smallest signed distance (m) of the resampled tip path to each object."""
        points, _ = self.resample(tips, times)
        return {name: float(np.min(d)) for name, d in self.distances(points).items()}

    def check_plan(self, plan: MotionPlan, what: str = 'the plan') -> None:
        """Raise MotionError(COLLISION) if `plan`'s tip comes too close to a fixed object."""
        contact = self.first_contact(plan.tip_in_paper, plan.time_s)
        if contact is None:
            return
        x, y, z = contact.point_in_paper * 1e3
        closest = self.min_clearances(plan.tip_in_paper, plan.time_s)[contact.obstacle]
        how = (
            f'{-closest * 1e3:.1f} mm into the {contact.obstacle}'
            if closest < 0.0
            else f'within {closest * 1e3:.1f} mm of the {contact.obstacle}'
        )
        raise MotionError(
            MotionErrorCode.COLLISION,
            f'{what} would take the brush tip {how} (clearance {contact.clearance_m * 1e3:.0f} '
            f'mm), from ({x:.1f}, {y:.1f}, {z:.1f}) mm in paper, {contact.time_s:.2f} s into the '
            f'{plan.phase_at(contact.time_s)}',
        )


def _entry(cell: dict, name: str) -> dict:
    entry = cell.get(name)
    if not isinstance(entry, dict):
        raise ValueError(f'the cell description has no {name!r} entry')
    return entry


def _number(entry: dict, key: str, name: str) -> float:
    try:
        value = float(entry[key])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f'{name}: {key} must be a number') from None
    if not np.isfinite(value):
        raise ValueError(f'{name}: {key} must be finite, got {value}')
    return value


def _triple(entry: dict, key: str, name: str, default=None) -> tuple[float, float, float]:
    values = entry.get(key, default)
    array = np.asarray(values if values is not None else (), dtype=float)
    if array.shape != (3,) or not np.all(np.isfinite(array)):
        raise ValueError(f'{name}: {key} must be 3 finite numbers, got {values!r}')
    return tuple(float(v) for v in array)


def _pose(entry: dict, name: str) -> np.ndarray:
    return pose_matrix(
        _triple(entry, 'xyz_m', name), _triple(entry, 'rpy_rad', name, (0.0, 0.0, 0.0))
    )


def _clearance(entry: dict, name: str) -> float:
    value = _number(entry, 'clearance_m', name)
    if value < 0.0:
        raise ValueError(f'{name}: clearance_m must be >= 0, got {value}')
    return value


def _upright_in_paper(pose: np.ndarray, name: str) -> np.ndarray:
    if abs(pose[2, 2]) < 1.0 - _UPRIGHT_TOLERANCE:
        raise ValueError(f'{name}: a cylinder must stand upright (axis along the sheet normal)')
    return pose[:3, 3]


def _ink_well(cell: dict, base_to_paper: np.ndarray) -> UprightTube:
    entry = _entry(cell, 'ink_well')
    centre = _upright_in_paper(base_to_paper @ _pose(entry, 'ink_well'), 'ink_well')
    inner = _number(entry, 'inner_radius_m', 'ink_well')
    outer = _number(entry, 'outer_radius_m', 'ink_well')
    depth = _number(entry, 'depth_m', 'ink_well')
    wipe_band = _number(entry, 'wipe_band_m', 'ink_well')
    if not 0.0 < inner < outer or depth <= 0.0 or not 0.0 <= wipe_band < depth:
        raise ValueError(
            'ink_well: need 0 < inner_radius_m < outer_radius_m, depth_m > 0 and '
            '0 <= wipe_band_m < depth_m'
        )
    rim = float(centre[2])
    return UprightTube(
        'ink well rim',
        float(centre[0]),
        float(centre[1]),
        inner,
        outer,
        rim - depth,
        rim - wipe_band,
        _clearance(entry, 'ink_well'),
    )


def _obstacle(name: str, entry: object, base_to_paper: np.ndarray) -> Obstacle:
    if not isinstance(entry, dict):
        raise ValueError(f'obstacles.{name}: expected a mapping')
    where = f'obstacles.{name}'
    pose = base_to_paper @ _pose(entry, where)
    shape = entry.get('shape')
    if shape == 'box':
        size = np.asarray(_triple(entry, 'size_m', where))
        if np.any(size <= 0.0):
            raise ValueError(f'{where}: size_m must be > 0')
        return Box(
            name, pose, 0.5 * size, _clearance(entry, where), bool(entry.get('under_sheet'))
        )
    if shape == 'cylinder':
        centre = _upright_in_paper(pose, where)
        radius, length = _number(entry, 'radius_m', where), _number(entry, 'length_m', where)
        if radius <= 0.0 or length <= 0.0:
            raise ValueError(f'{where}: radius_m and length_m must be > 0')
        return UprightTube(
            name,
            float(centre[0]),
            float(centre[1]),
            0.0,
            radius,
            float(centre[2]) - 0.5 * length,
            float(centre[2]) + 0.5 * length,
            _clearance(entry, where),
        )
    raise ValueError(f"{where}: shape must be 'box' or 'cylinder', got {shape!r}")
