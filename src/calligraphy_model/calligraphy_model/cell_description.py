"""THE loader of the cell description: the URDF, `urdf/cell.yaml`, the sheet, the arm's joints,
the fixed poses (paper, ink well, camera) and the ink well's geometry in the `paper` frame.

Where the description is found, in order: beside $CALLIGRAPHY_URDF, in $CALLIGRAPHY_ROOT/urdf, in
the urdf/ folder of the checkout this module lives in (colcon symlink installs point back into
src/), then in the installed calligraphy_bringup share of a prefix on $AMENT_PREFIX_PATH.

`cell.yaml` is the one cell description (the sheet, the ink well, the camera's extrinsics, the
brush tip on tool0), which calibration writes and every node reads: poses in base_link as `xyz_m`
and `rpy_rad` (URDF fixed-axis roll, pitch, yaw). The URDF's copies of them follow it
(calligraphy_model.cell_urdf; the real cell's xacro reads cell.yaml itself). Units: m, rad.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from calligraphy_model.settings import setting

URDF_NAME = 'calligraphy_cell.urdf'
CELL_YAML_NAME = 'cell.yaml'
# A4 landscape (contracts; cell.yaml's paper width_m, height_m): x along the long edge.
SHEET_WIDTH_M = 0.297
SHEET_HEIGHT_M = 0.210
ARM_JOINTS = (
    'shoulder_pan_joint',
    'shoulder_lift_joint',
    'elbow_joint',
    'wrist_1_joint',
    'wrist_2_joint',
    'wrist_3_joint',
)
# Brush upright above the sheet's centre, 0.1 m high (cell.yaml's home_positions_rad).
HOME_POSITIONS_RAD = (-0.3354, -1.7367, 2.1880, -2.0221, -1.5708, -0.3354)
# Ink in the well above its bottom when nothing says otherwise (m): half the well's 30 mm depth,
# so a dip 8 mm into the ink stays well clear of the bottom.
DEFAULT_INK_DEPTH_M = 0.015
# The model takes the well's opening as a disc parallel to the sheet; a well tilted further
# than this is a configuration error, not something to approximate.
_MAX_TILT_RAD = math.radians(1.0)


def _description_dirs() -> Iterator[Path]:
    if os.environ.get('CALLIGRAPHY_URDF'):
        yield Path(os.environ['CALLIGRAPHY_URDF']).parent
    if os.environ.get('CALLIGRAPHY_ROOT'):
        yield Path(os.environ['CALLIGRAPHY_ROOT']) / 'urdf'
    for root in Path(__file__).resolve().parents:
        yield root / 'urdf'
    for prefix in filter(None, os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep)):
        yield Path(prefix) / 'share' / 'calligraphy_bringup' / 'urdf'


def find_description_file(name: str) -> Path:
    """The first file `name` of the description folders (see module); FileNotFoundError."""
    for folder in _description_dirs():
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f'urdf/{name} not found; set CALLIGRAPHY_URDF or CALLIGRAPHY_ROOT, or give the path'
    )


def description_dir() -> Path:
    """The folder of the cell URDF (the top-level urdf/ of the checkout by default)."""
    return default_urdf_path().parent


def default_urdf_path() -> Path:
    """The cell's URDF: $CALLIGRAPHY_URDF, else found as the module says."""
    if os.environ.get('CALLIGRAPHY_URDF'):
        return Path(os.environ['CALLIGRAPHY_URDF'])
    return find_description_file(URDF_NAME)


def default_cell_yaml_path() -> Path:
    """`cell.yaml`, found as the module says (beside the URDF by default)."""
    return find_description_file(CELL_YAML_NAME)


def load_yaml_text(text: str):
    """A YAML document as yaml.safe_load reads it, with libyaml's safe loader where PyYAML has
    it: 10x faster (13 ms against 1.2 ms for sim.yaml), and every process of the cell reads
    cell.yaml and its parameters file at start."""
    return yaml.load(text, Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))


def load_cell_yaml(path: str | Path | None = None) -> dict:
    """The cell's fixed poses (`urdf/cell.yaml`, or `path`); FileNotFoundError / ValueError."""
    target = Path(path) if path else default_cell_yaml_path()
    if not target.is_file():
        raise FileNotFoundError(f'cell description {target} does not exist')
    cell = load_yaml_text(target.read_text())
    if not isinstance(cell, dict):
        raise ValueError(f'{target}: expected a mapping of cell poses')
    return cell


@dataclass(frozen=True)
class SheetSize:
    """The sheet's size, for nodes that take it as parameters (`sheet.width_m`, ...)."""

    width_m: float = setting(SHEET_WIDTH_M, 'sheet width along paper x', unit='m', low=0.0)
    height_m: float = setting(SHEET_HEIGHT_M, 'sheet height along paper y', unit='m', low=0.0)


def sheet_size_m(cell: dict | None = None) -> tuple[float, float]:
    """(width, height) of the sheet from the cell description's `paper` entry (m), defaulting to
    SHEET_WIDTH_M x SHEET_HEIGHT_M where it does not say."""
    paper = (cell or {}).get('paper') or {}
    return float(paper.get('width_m', SHEET_WIDTH_M)), float(paper.get('height_m', SHEET_HEIGHT_M))


def pose_matrix(xyz: tuple[float, float, float], rpy: tuple[float, float, float]) -> np.ndarray:
    """4x4 homogeneous transform from a URDF-style origin (fixed-axis roll, pitch, yaw: scipy's
    extrinsic 'xyz' Euler angles, the frame library of this project)."""
    roll, pitch, yaw = (float(angle) for angle in rpy)
    cr, sr, cp, sp, cy, sy = (
        np.cos(roll),
        np.sin(roll),
        np.cos(pitch),
        np.sin(pitch),
        np.cos(yaw),
        np.sin(yaw),
    )
    transform = np.eye(4)
    # Rz(yaw) @ Ry(pitch) @ Rx(roll), written out: every process reads the cell description
    # as it starts, and importing scipy's Rotation for it cost each one about half a second.
    transform[:3, :3] = [
        [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
        [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
        [-sp, cp * sr, cp * cr],
    ]
    transform[:3, 3] = xyz
    return transform


def quaternion_from_rotation(rotation: np.ndarray) -> tuple[float, float, float, float]:
    """Unit quaternion (x, y, z, w) of a 3x3 rotation (Shepperd's method)."""
    m = rotation
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    candidates = [trace, m[0, 0], m[1, 1], m[2, 2]]
    k = int(np.argmax(candidates))
    if k == 0:
        s = 2.0 * math.sqrt(1.0 + trace)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4]
    elif k == 1:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif k == 2:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4, (m[1, 0] - m[0, 1]) / s]
    q = np.asarray(q) / np.linalg.norm(q)
    return tuple(float(v) for v in (q if q[3] >= 0 else -q))


def origin_of(pose: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(xyz, rpy) of a 4x4 pose, as a URDF <origin> writes them; the inverse of pose_matrix."""
    from scipy.spatial.transform import Rotation

    with warnings.catch_warnings():
        # A pitch of +-90 degrees (the camera's mount) leaves roll and yaw one sum: scipy
        # warns and puts it all in roll, which composes to the same rotation.
        warnings.simplefilter('ignore', UserWarning)
        rpy = Rotation.from_matrix(pose[:3, :3]).as_euler('xyz')
    return tuple(float(v) for v in pose[:3, 3]), tuple(float(v) for v in rpy)


def fixed_pose_in_base(cell: dict, name: str) -> np.ndarray:
    """4x4 pose in base_link of the cell.yaml entry `name` (paper, ink_well,
    camera_color_optical_frame, ...); ValueError when missing or malformed."""
    entry = cell.get(name)
    if not isinstance(entry, dict) or 'xyz_m' not in entry:
        raise ValueError(f'the cell description has no {name!r} pose (xyz_m, rpy_rad)')
    xyz = np.asarray(entry['xyz_m'], dtype=float)
    rpy = np.asarray(entry.get('rpy_rad', (0.0, 0.0, 0.0)), dtype=float)
    if xyz.shape != (3,) or rpy.shape != (3,) or not np.all(np.isfinite([*xyz, *rpy])):
        raise ValueError(f'{name}: xyz_m and rpy_rad must be 3 finite numbers each')
    return pose_matrix(tuple(xyz), tuple(rpy))


def fixed_pose_in_paper(cell: dict, name: str) -> np.ndarray:
    """4x4 pose of the cell.yaml entry `name` (given in base_link) in the `paper` frame."""
    return np.linalg.inv(fixed_pose_in_base(cell, 'paper')) @ fixed_pose_in_base(cell, name)


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


@dataclass(frozen=True)
class InkWellSettings:
    """The well as nodes take it (parameters `ink_well.*`): the ink's depth, and explicit values
    in `paper` that override the cell description's (NaN = from the cell description)."""

    ink_depth_m: float = setting(
        DEFAULT_INK_DEPTH_M, 'ink above the bottom of the well', unit='m', low=0.0
    )
    x_m: float = setting(math.nan, 'well centre x in paper (NaN = cell_yaml)', unit='m')
    y_m: float = setting(math.nan, 'well centre y in paper (NaN = cell_yaml)', unit='m')
    radius_m: float = setting(math.nan, 'inner radius (NaN = cell_yaml)', unit='m')
    rim_height_m: float = setting(
        math.nan, "rim's top above the sheet (NaN = cell_yaml)", unit='m'
    )
    ink_surface_height_m: float = setting(
        math.nan, 'ink surface above the sheet (NaN = cell_yaml)', unit='m'
    )

    def overrides(self) -> dict[str, float]:
        """The InkWellGeometry fields, NaN where the cell description decides."""
        return {name: getattr(self, name) for name in InkWellGeometry.__dataclass_fields__}

    def geometry(self, cell_yaml: str | Path | None = None) -> InkWellGeometry:
        """The well these settings and the cell description (`cell_yaml`) describe."""
        return resolve_ink_well(cell_yaml, self.ink_depth_m, self.overrides())


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
    pose = fixed_pose_in_paper(cell, 'ink_well')
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
