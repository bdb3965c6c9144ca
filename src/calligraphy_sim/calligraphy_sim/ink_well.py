"""The ink well beside the sheet: its geometry in the `paper` frame and what it does to the brush.

The well's pose comes from `urdf/cell.yaml` (base_link poses of the sheet and of the well's rim
plane, which mirror the URDF that MuJoCo shows); :func:`ink_well_in_paper` re-expresses it in the
`paper` frame, where brush paths and the brush tip pose stream live. :class:`InkWell` follows the
brush tip through that stream:

- the tip inside the opening and below the ink surface soaks the bristles: the load becomes full;
- the tip drawn from inside the opening outward across the rim while below the rim's top (a wipe:
  the bristles are squeezed against the rim) leaves at most the wipe load on the brush.

Core module: no ROS. Units: metres; ink load is a fraction of a full brush (0..1).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml
from scipy.spatial.transform import Rotation

if TYPE_CHECKING:
    from calligraphy_sim.paper import VirtualPaper

CELL_YAML_NAME = 'cell.yaml'
# Ink in the well above its bottom when nothing says otherwise (m): half the well's 30 mm depth,
# so a dip 8 mm into the ink stays well clear of the bottom.
DEFAULT_INK_DEPTH_M = 0.015
# The model takes the well's opening as a disc parallel to the sheet; a well tilted further
# than this is a configuration error, not something to approximate.
_MAX_TILT_RAD = math.radians(1.0)


@dataclass(frozen=True)
class InkWellGeometry:
    """The ink well in the `paper` frame (m).

    Attributes:
        x_m, y_m: centre of the well's opening.
        radius_m: inner radius of the opening.
        rim_height_m: height of the rim's top above the paper surface (paper z).
        ink_surface_height_m: height of the ink's surface above the paper surface (paper z).
    """

    x_m: float
    y_m: float
    radius_m: float
    rim_height_m: float
    ink_surface_height_m: float

    def __post_init__(self) -> None:
        values = (self.x_m, self.y_m, self.radius_m, self.rim_height_m, self.ink_surface_height_m)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            raise ValueError(f'ink well pose must be finite numbers, got {values}')
        if self.radius_m <= 0.005:
            raise ValueError(f'ink well radius_m must exceed 5 mm, got {self.radius_m}')
        if not 0.0 < self.ink_surface_height_m < self.rim_height_m:
            raise ValueError(
                'need 0 < ink_surface_height_m < rim_height_m (ink below the rim, above the '
                f'paper plane), got {self.ink_surface_height_m} and {self.rim_height_m}'
            )

    def contains_xy(self, x_m: float, y_m: float) -> bool:
        """Whether (x, y) lies inside the opening."""
        return math.hypot(x_m - self.x_m, y_m - self.y_m) < self.radius_m

    def contains_xy_all(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """:meth:`contains_xy` of many points at once: bool array."""
        return np.hypot(np.asarray(x_m) - self.x_m, np.asarray(y_m) - self.y_m) < self.radius_m


def default_cell_yaml_path() -> Path:
    """`cell.yaml` beside $CALLIGRAPHY_URDF, in $CALLIGRAPHY_ROOT/urdf, in the checkout this
    module lives in (colcon symlink installs point back into src/), or in the installed
    calligraphy_bringup share of a prefix on $AMENT_PREFIX_PATH."""
    candidates = []
    if os.environ.get('CALLIGRAPHY_URDF'):
        candidates.append(Path(os.environ['CALLIGRAPHY_URDF']).parent / CELL_YAML_NAME)
    if os.environ.get('CALLIGRAPHY_ROOT'):
        candidates.append(Path(os.environ['CALLIGRAPHY_ROOT']) / 'urdf' / CELL_YAML_NAME)
    candidates += [root / 'urdf' / CELL_YAML_NAME for root in Path(__file__).resolve().parents]
    for prefix in filter(None, os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep)):
        candidates.append(Path(prefix) / 'share' / 'calligraphy_bringup' / 'urdf' / CELL_YAML_NAME)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f'urdf/{CELL_YAML_NAME} not found; set CALLIGRAPHY_ROOT or give the path explicitly'
    )


def load_cell_yaml(path: str | Path | None = None) -> dict:
    """The cell's fixed poses (`urdf/cell.yaml`, or `path`); FileNotFoundError / ValueError."""
    target = Path(path) if path else default_cell_yaml_path()
    if not target.is_file():
        raise FileNotFoundError(f'cell description {target} does not exist')
    cell = yaml.safe_load(target.read_text())
    if not isinstance(cell, dict):
        raise ValueError(f'{target}: expected a mapping of cell poses')
    return cell


def _pose_in_base(cell: dict, name: str) -> np.ndarray:
    entry = cell.get(name)
    if not isinstance(entry, dict) or 'xyz_m' not in entry:
        raise ValueError(f'the cell description has no {name!r} pose (xyz_m, rpy_rad)')
    xyz = np.asarray(entry['xyz_m'], dtype=float)
    rpy = np.asarray(entry.get('rpy_rad', (0.0, 0.0, 0.0)), dtype=float)
    if xyz.shape != (3,) or rpy.shape != (3,) or not np.all(np.isfinite([*xyz, *rpy])):
        raise ValueError(f'{name}: xyz_m and rpy_rad must be 3 finite numbers each')
    pose = np.eye(4)
    # URDF rpy: fixed-axis roll, pitch, yaw = extrinsic x-y-z rotations.
    pose[:3, :3] = Rotation.from_euler('xyz', rpy).as_matrix()
    pose[:3, 3] = xyz
    return pose


def cell_pose_in_paper(cell: dict, name: str) -> np.ndarray:
    """4x4 pose of the cell.yaml entry `name` (given in base_link) in the `paper` frame."""
    return np.linalg.inv(_pose_in_base(cell, 'paper')) @ _pose_in_base(cell, name)


def ink_well_in_paper(
    cell_yaml: str | Path | dict | None = None, ink_depth_m: float = DEFAULT_INK_DEPTH_M
) -> InkWellGeometry:
    """The ink well of the cell description in the `paper` frame.

    Args:
        cell_yaml: path of cell.yaml, its loaded contents, or None for the checkout's.
        ink_depth_m: depth of the ink in the well, from its bottom (m).
    Raises:
        FileNotFoundError: no cell description.
        ValueError: no `ink_well` entry, a tilted well, or ink deeper than the well.
    """
    cell = cell_yaml if isinstance(cell_yaml, dict) else load_cell_yaml(cell_yaml)
    pose = cell_pose_in_paper(cell, 'ink_well')
    tilt = math.acos(float(np.clip(pose[2, 2], -1.0, 1.0)))
    if tilt > _MAX_TILT_RAD:
        raise ValueError(
            f'the ink well is tilted {math.degrees(tilt):.1f} degrees against the sheet; the '
            'dip model needs its opening parallel to the paper'
        )
    entry = cell['ink_well']
    try:
        radius, depth = float(entry['inner_radius_m']), float(entry['depth_m'])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f'ink_well needs inner_radius_m and depth_m: {error}') from None
    if not 0.0 < ink_depth_m < depth:
        raise ValueError(
            f'ink_depth_m must lie in (0, {depth}) (the well depth), got {ink_depth_m}'
        )
    rim = float(pose[2, 3])
    return InkWellGeometry(
        x_m=float(pose[0, 3]),
        y_m=float(pose[1, 3]),
        radius_m=radius,
        rim_height_m=rim,
        ink_surface_height_m=rim - depth + ink_depth_m,
    )


@dataclass(frozen=True)
class WellEvent:
    """The well changed the brush's load: `kind` is 'soak' or 'wipe', `ink_load` the new load."""

    kind: str
    ink_load: float


class InkWell:
    """Follows the brush tip and reloads or wipes the brush where the well says so.

    Args:
        geometry: the well in the paper frame.
        wipe_load: load a wipe on the rim leaves on a fuller brush (0..1).
    """

    def __init__(self, geometry: InkWellGeometry, wipe_load: float = 0.9) -> None:
        if not 0.0 < wipe_load <= 1.0:
            raise ValueError(f'wipe_load must lie in (0, 1], got {wipe_load}')
        self.geometry = geometry
        self.wipe_load = float(wipe_load)
        self.soaks = 0
        self.wipes = 0
        self._last: np.ndarray | None = None

    def update(self, x_m: float, y_m: float, z_m: float, ink_load: float) -> WellEvent | None:
        """Move the tip to (x, y, z) in `paper` (z = -pressing depth) holding `ink_load`.

        The tip goes in a straight line from the previous position. Returns the event when the
        well changes the load, else None.
        """
        here = np.array([x_m, y_m, z_m], dtype=float)
        last, self._last = self._last, here
        g = self.geometry
        inside = g.contains_xy(x_m, y_m)
        if inside and z_m < g.ink_surface_height_m:
            if ink_load < 1.0:
                self.soaks += 1
                return WellEvent('soak', 1.0)
            return None
        if last is None or inside or not g.contains_xy(last[0], last[1]):
            return None
        crossing_z = self._rim_crossing_height(last, here)
        if crossing_z < g.rim_height_m and ink_load > self.wipe_load:
            self.wipes += 1
            return WellEvent('wipe', self.wipe_load)
        return None

    def was_inside(self) -> bool:
        """Whether the tip's previous position lay inside the opening."""
        return self._last is not None and self.geometry.contains_xy(self._last[0], self._last[1])

    def _rim_crossing_height(self, inside: np.ndarray, outside: np.ndarray) -> float:
        """Tip height where the straight move inside -> outside crosses the rim's circle."""
        g = self.geometry
        start = inside[:2] - (g.x_m, g.y_m)
        step = outside[:2] - inside[:2]
        # |start + s step| = radius, the root in [0, 1] (start is inside, the end outside).
        a, b, c = step @ step, 2.0 * start @ step, start @ start - g.radius_m**2
        s = (-b + math.sqrt(max(b * b - 4.0 * a * c, 0.0))) / (2.0 * a)
        return float(inside[2] + float(np.clip(s, 0.0, 1.0)) * (outside[2] - inside[2]))


def ink_tip_samples(
    paper: VirtualPaper, well: InkWell | None, samples: np.ndarray
) -> list[WellEvent]:
    """Move the brush of `paper` through timed tip samples, with the ink well acting on it.

    The result is the one of giving the samples one by one to ``paper.add_pose`` and
    ``well.update`` (up to the paper's arc-length resampling), at a fraction of the cost: runs of
    samples away from the well go to the paper in one call; samples in or leaving the well go
    singly, so that the well sees the load the paper has at that moment. A sample earlier than the
    one before it starts a new path, as in ``add_pose``.

    Args:
        samples: (N, 4) rows of (x m, y m, pressing depth m, t s) in the `paper` frame, finite.
    Returns:
        The well's events, in order (the paper's load already set by each).
    """
    samples = np.asarray(samples, dtype=float).reshape(-1, 4)
    x, y, depth, t = samples.T
    count = len(samples)
    at_well = np.zeros(count, dtype=bool)
    if well is not None and count:
        inside = well.geometry.contains_xy_all(x, y)
        at_well = inside | np.concatenate([[well.was_inside()], inside[:-1]])
    # A run ends before a sample at the well and before a step back in time.
    breaks = at_well.copy()
    breaks[1:] |= at_well[:-1] | (t[1:] < t[:-1])
    starts = np.flatnonzero(breaks | (np.arange(count) == 0))
    events = []
    for start, stop in zip(starts, [*starts[1:], count], strict=True):
        run = slice(start, stop)
        paper.add_path(x[run], y[run], depth[run], t[run])
        if well is None:
            continue
        # Away from the well only the last position matters to it (nothing can happen there).
        last = stop - 1
        event = well.update(x[last], y[last], -depth[last], paper.ink_load)
        if event is not None:
            paper.reload(event.ink_load)
            events.append(event)
    return events


def resolve_ink_well(
    cell_yaml: str | Path | None = None,
    ink_depth_m: float = DEFAULT_INK_DEPTH_M,
    overrides: dict[str, float] | None = None,
) -> InkWellGeometry:
    """The well from the cell description, with explicitly given fields taking precedence.

    `overrides` maps InkWellGeometry field names to values; NaN (a parameter left unset) keeps the
    cell description's value. With every field given, no cell description is read.
    """
    given = {k: float(v) for k, v in (overrides or {}).items() if not math.isnan(float(v))}
    unknown = set(given) - set(InkWellGeometry.__dataclass_fields__)
    if unknown:
        raise ValueError(f'unknown ink well fields {sorted(unknown)}')
    if len(given) == len(InkWellGeometry.__dataclass_fields__):
        return InkWellGeometry(**given)
    derived = ink_well_in_paper(cell_yaml or None, ink_depth_m)
    return InkWellGeometry(**{**derived.__dict__, **given})
