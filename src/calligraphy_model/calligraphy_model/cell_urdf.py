"""The cell URDF posed from the cell description: cell.yaml decides, the URDF follows (no ROS).

`urdf/calligraphy_cell.urdf` carries the cell's fixed frames for the tools that read URDF alone
(pinocchio, MuJoCo, Gazebo, robot_state_publisher). `cell_urdf()` rewrites the joints that place
them so that each frame sits where cell.yaml says: the sheet, the ink well, the camera's optical
frame (by moving camera_link, so the REP-103 optical rotation stays the camera's) and the brush
tip on tool0. The checked-in URDF is its fixed point (a test checks), so a calibration that
writes cell.yaml reaches every consumer that loads the URDF through here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from calligraphy_model.cell_description import (
    default_urdf_path,
    load_cell_yaml,
    origin_of,
    pose_matrix,
)

# cell.yaml entry → (the URDF joint whose origin places it, the frame the entry is given in).
POSED_BY = {
    'paper': ('world_to_paper', None),
    'ink_well': ('world_to_ink_well', None),
    'camera_color_optical_frame': ('camera_mount_to_camera_link', None),
    'brush_tip': ('brush_holder_to_brush_tip', 'parent_frame'),
}


def _origin(joint: ET.Element) -> np.ndarray:
    origin = joint.find('origin')
    if origin is None:
        return np.eye(4)
    xyz = [float(v) for v in origin.get('xyz', '0 0 0').split()]
    rpy = [float(v) for v in origin.get('rpy', '0 0 0').split()]
    return pose_matrix(tuple(xyz), tuple(rpy))


def link_poses(robot: ET.Element) -> dict[str, np.ndarray]:
    """Every link's pose in the root link's frame with all joints at zero."""
    joints = {j.find('child').get('link'): j for j in robot.findall('joint')}
    poses: dict[str, np.ndarray] = {}

    def pose(link: str) -> np.ndarray:
        if link not in poses:
            joint = joints.get(link)
            poses[link] = (
                np.eye(4)
                if joint is None
                else pose(joint.find('parent').get('link')) @ _origin(joint)
            )
        return poses[link]

    for link in robot.findall('link'):
        pose(link.get('name'))
    return poses


def pose_cell_frames(robot: ET.Element, cell: dict) -> None:
    """Rewrite, in place, the origins of the joints of POSED_BY so that each frame lies where
    `cell` puts it; ValueError naming what the URDF or the cell lacks."""
    base = cell.get('parent_frame', 'base_link')
    for name, (joint_name, parent_key) in POSED_BY.items():
        entry = cell.get(name)
        if not isinstance(entry, dict) or 'xyz_m' not in entry:
            raise ValueError(f'the cell description has no {name!r} pose (xyz_m, rpy_rad)')
        joint = robot.find(f"joint[@name='{joint_name}']")
        if joint is None:
            raise ValueError(f'the URDF has no joint {joint_name!r} placing {name!r}')
        poses = link_poses(robot)
        reference = entry.get(parent_key, base) if parent_key else base
        for link in (reference, name):
            if link not in poses:
                raise ValueError(f'the URDF has no link {link!r}')
        wanted = poses[reference] @ pose_matrix(
            tuple(entry['xyz_m']), tuple(entry.get('rpy_rad', (0.0, 0.0, 0.0)))
        )
        parent, child = joint.find('parent').get('link'), joint.find('child').get('link')
        child_to_frame = np.linalg.inv(poses[child]) @ poses[name]
        new = np.linalg.inv(poses[parent]) @ wanted @ np.linalg.inv(child_to_frame)
        xyz, rpy = origin_of(new)
        origin = joint.find('origin')
        if origin is None:
            origin = ET.SubElement(joint, 'origin')
        origin.set('xyz', ' '.join(f'{v:.15g}' for v in xyz))
        origin.set('rpy', ' '.join(f'{v:.15g}' for v in rpy))


def cell_urdf(urdf: str | Path | None = None, cell: dict | str | Path | None = None) -> str:
    """The cell URDF (`urdf` path, default the checkout's) with its fixed frames posed from the
    cell description (`cell`: loaded contents or path, default urdf/cell.yaml)."""
    robot = ET.parse(Path(urdf) if urdf else default_urdf_path()).getroot()
    pose_cell_frames(robot, cell if isinstance(cell, dict) else load_cell_yaml(cell))
    return ET.tostring(robot, encoding='unicode')
