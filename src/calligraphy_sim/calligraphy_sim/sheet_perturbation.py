"""A sheet that does not lie where the cell description says: the simulated world of
`calligraphy calibrate --sim-perturb SEED`.

The perturbation moves the sheet on the table: its centre shifts by up to `max_shift_m` in
base_link x/y, it turns by up to `max_yaw_rad` about its centre, and it lies up to
`max_height_m` higher or lower. The simulated world (the MuJoCo arm, which reports the brush tip
in the sheet's frame; the virtual paper's ink well; the simulated camera) is given a copy of the
cell description with the moved sheet (:func:`write_perturbed_description`); the nodes under
calibration keep reading the nominal one, so only what a real cell could observe (ink seen by the
camera) tells them where the sheet is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from calligraphy_model.cell_description import (
    fixed_pose_in_base,
    load_cell_yaml,
    pose_matrix,
    sheet_size_m,
)
from calligraphy_model.cell_urdf import cell_urdf


@dataclass(frozen=True)
class SheetPerturbation:
    """How the true sheet differs from the described one (base_link, m and rad)."""

    shift_x_m: float = 0.0
    shift_y_m: float = 0.0
    height_m: float = 0.0
    yaw_rad: float = 0.0

    @classmethod
    def draw(
        cls,
        seed: int,
        max_shift_m: float = 0.005,
        max_yaw_rad: float = math.radians(2.0),
        max_height_m: float = 0.002,
    ) -> SheetPerturbation:
        """A perturbation for `seed`: shift direction uniform, its length, the yaw and the height
        uniform within their bounds."""
        rng = np.random.default_rng([seed, 15])
        angle = rng.uniform(0.0, 2.0 * math.pi)
        length = max_shift_m * math.sqrt(rng.uniform(0.0, 1.0))  # uniform over the disc
        return cls(
            shift_x_m=length * math.cos(angle),
            shift_y_m=length * math.sin(angle),
            height_m=float(rng.uniform(-max_height_m, max_height_m)),
            yaw_rad=float(rng.uniform(-max_yaw_rad, max_yaw_rad)),
        )

    def apply(self, base_from_paper: np.ndarray, size_m: tuple[float, float]) -> np.ndarray:
        """The moved sheet's 4x4 base_T_paper: turned about its centre, shifted, raised."""
        centre = base_from_paper @ np.array([0.5 * size_m[0], 0.5 * size_m[1], 0.0, 1.0])
        turn = pose_matrix((0.0, 0.0, 0.0), (0.0, 0.0, self.yaw_rad))
        about_centre = np.eye(4)
        about_centre[:3, 3] = centre[:3]
        moved = about_centre @ turn @ np.linalg.inv(about_centre) @ base_from_paper
        moved[:3, 3] += (self.shift_x_m, self.shift_y_m, self.height_m)
        return moved


def _xyz_rpy(pose: np.ndarray) -> tuple[list[float], list[float]]:
    """URDF origin (xyz, fixed-axis rpy) of a 4x4 pose."""
    r = pose[:3, :3]
    pitch = math.asin(-float(np.clip(r[2, 0], -1.0, 1.0)))
    roll = math.atan2(r[2, 1], r[2, 2])
    yaw = math.atan2(r[1, 0], r[0, 0])
    return [float(v) for v in pose[:3, 3]], [roll, pitch, yaw]


def write_perturbed_description(
    perturbation: SheetPerturbation,
    out_dir: str | Path,
    cell_yaml: str | Path | None = None,
    urdf: str | Path | None = None,
) -> tuple[Path, Path, np.ndarray]:
    """Copies of cell.yaml and the URDF with the sheet moved, in `out_dir`.

    Returns their paths and the true base_T_paper. The URDF copy is posed from the moved cell
    description by calligraphy_model.cell_urdf (its `world_to_paper` joint moves)."""
    from calligraphy_model.cell_description import default_cell_yaml_path, default_urdf_path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cell_path = Path(cell_yaml) if cell_yaml else default_cell_yaml_path()
    urdf_path = Path(urdf) if urdf else default_urdf_path()
    cell = load_cell_yaml(cell_path)
    true_pose = perturbation.apply(fixed_pose_in_base(cell, 'paper'), sheet_size_m(cell))
    xyz, rpy = _xyz_rpy(true_pose)
    half = 0.5 * rpy[2]
    cell['paper'] = {
        **cell['paper'],
        'xyz_m': xyz,
        'rpy_rad': rpy,
        'quaternion_xyzw': [0.0, 0.0, math.sin(half), math.cos(half)],
    }
    new_cell = out / cell_path.name
    new_cell.write_text(
        '# The simulated world of calligraphy calibrate --sim-perturb: the sheet moved.\n'
        + yaml.safe_dump(cell, sort_keys=False)
    )
    text = cell_urdf(urdf_path, cell)  # the URDF posed from the moved description
    new_urdf = out / urdf_path.name
    new_urdf.write_text(text)
    return new_cell, new_urdf, true_pose
