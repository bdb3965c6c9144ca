"""Where the cell's robot description lives and what it says about the sheet (no ROS)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

URDF_NAME = 'calligraphy_cell.urdf'
CELL_YAML_NAME = 'cell.yaml'
# A4 landscape (contracts): x along the long edge.
PAPER_WIDTH_M = 0.297
PAPER_HEIGHT_M = 0.210


def description_dir() -> Path:
    """The top-level urdf/ folder: $CALLIGRAPHY_URDF's folder, $CALLIGRAPHY_ROOT/urdf, or the one
    of the checkout this module lives in (colcon symlink installs point back into src/)."""
    if os.environ.get('CALLIGRAPHY_URDF'):
        return Path(os.environ['CALLIGRAPHY_URDF']).parent
    roots = [Path(os.environ['CALLIGRAPHY_ROOT'])] if os.environ.get('CALLIGRAPHY_ROOT') else []
    roots += list(Path(__file__).resolve().parents)
    for root in roots:
        if (root / 'urdf' / URDF_NAME).is_file():
            return root / 'urdf'
    raise FileNotFoundError(
        f'urdf/{URDF_NAME} not found; set CALLIGRAPHY_URDF or CALLIGRAPHY_ROOT'
    )


def default_urdf_path() -> Path:
    if os.environ.get('CALLIGRAPHY_URDF'):
        return Path(os.environ['CALLIGRAPHY_URDF'])
    return description_dir() / URDF_NAME


def pose_matrix(xyz: tuple[float, float, float], rpy: tuple[float, float, float]) -> np.ndarray:
    """4x4 homogeneous transform from a URDF-style origin (fixed-axis roll, pitch, yaw)."""
    roll, pitch, yaw = rpy
    cr, sr, cp, sp, cy, sy = (
        np.cos(roll),
        np.sin(roll),
        np.cos(pitch),
        np.sin(pitch),
        np.cos(yaw),
        np.sin(yaw),
    )
    rotation = np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )
    transform = np.eye(4)
    transform[:3, :3] = rotation
    transform[:3, 3] = xyz
    return transform
