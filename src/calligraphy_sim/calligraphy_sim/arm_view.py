"""The arm as the cell's camera sees it: what it hides of the sheet, and its shadow (MuJoCo).

The simulated camera (calligraphy_sim.camera) images the virtual paper; this renders the cell's
URDF (arm and brush) from the same camera pose and intrinsics with MuJoCo's offscreen renderer, so
that a frame shows the arm and brush where they stand over the sheet, and the shadow they cast
from the cell's ceiling light onto the table plane.

Both come from segmentation renders (which geom each pixel sees), the cheap kind of MuJoCo render
on a machine without a GPU: one from the camera (the arm's silhouette, coloured with each geom's
URDF material under a fixed light direction), one from the ceiling light looking down (the arm's
silhouette as the light sees it = the shadow on the sheet plane, carried into the camera image by
the plane's homographies). At 320 x 180 each takes about 15 ms with OSMesa; a shaded render with
MuJoCo's shadow maps took 120 ms.

Rendering needs an OpenGL context: without a display MuJoCo uses OSMesa (`MUJOCO_GL=osmesa`,
Debian's libosmesa6, installed by scripts/setup.sh); this module makes that the default before
MuJoCo is imported when MUJOCO_GL is not set.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault('MUJOCO_GL', 'osmesa')
os.environ.setdefault('PYOPENGL_PLATFORM', os.environ['MUJOCO_GL'])

import mujoco  # noqa: E402 - after the GL platform is chosen

from calligraphy_model.cell_description import ARM_JOINTS, HOME_POSITIONS_RAD  # noqa: E402
from calligraphy_sim.camera import STILL_RAD  # noqa: E402

# Links that stand still whatever the arm does. Everything else in the URDF moves with the arm.
STATIC_BODIES = ('world', 'table', 'paper', 'ink_well', 'camera_mount', 'camera_link')
# MuJoCo cameras look along their -z with y up; an optical frame (REP-103) along +z with y down.
_OPTICAL_TO_MUJOCO = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class LightConfig:
    """The ceiling light whose shadow the arm casts (position in `paper`, m)."""

    position_m: tuple[float, float, float] = (0.2, 0.15, 1.2)
    # Light reaching a shadowed spot of the sheet, relative to a lit one (the room's ambient).
    shadow_level: float = 0.6
    # Penumbra: the shadow's edge is blurred over this many camera pixels (sigma).
    penumbra_px: float = 4.0
    # Field of view of the light's render, degrees: the sheet and its surroundings.
    fov_deg: float = 90.0


@dataclass(frozen=True)
class ArmOverlay:
    """What the arm does to one camera frame, at the frame's resolution.

    mask: bool (H, W), True where the arm or brush hides the sheet.
    rgb: float32 (H, W, 3), 0..1, the arm's colour (meaningful where `mask`).
    shade: float32 (H, W), light on the sheet relative to the unshadowed sheet, (0, 1].
    """

    mask: np.ndarray
    rgb: np.ndarray
    shade: np.ndarray

    @property
    def hidden_fraction(self) -> float:
        return float(np.mean(self.mask))


def _quat(rotation: np.ndarray) -> np.ndarray:
    quaternion = np.empty(4)
    mujoco.mju_mat2Quat(quaternion, np.ascontiguousarray(rotation, dtype=float).reshape(-1))
    return quaternion


def _plane_homography(
    camera_matrix: np.ndarray, rotation_paper_from_optical: np.ndarray, position_m: np.ndarray
) -> np.ndarray:
    """3x3 map of the sheet plane (x, y, 1) in `paper` to a camera's pixels."""
    rotation = np.asarray(rotation_paper_from_optical, float).T
    translation = -rotation @ np.asarray(position_m, float)
    homography = camera_matrix @ np.column_stack([rotation[:, 0], rotation[:, 1], translation])
    return homography / homography[2, 2]


class ArmView:
    """Renders the arm's overlay for a camera fixed in the `paper` frame.

    Args:
        urdf_path: the cell URDF (the one the MuJoCo arm simulates).
        position_m, rotation: the optical frame's pose in `paper` (REP-103: z forward, y down).
        camera_matrix: 3x3 intrinsics of the frames it overlays (principal point at the centre,
            as MuJoCo's cameras have it); width_px, height_px: their size.
        scale: render at this fraction of the frame's size, then resize (cost vs edge detail).
    """

    def __init__(
        self,
        urdf_path: str | Path,
        position_m: np.ndarray,
        rotation: np.ndarray,
        camera_matrix: np.ndarray,
        width_px: int,
        height_px: int,
        scale: float = 0.25,
        light: LightConfig | None = None,
    ) -> None:
        self.light = light or LightConfig()
        spec = mujoco.MjSpec.from_file(str(urdf_path))
        if 'paper' not in {body.name for body in spec.bodies}:
            raise ValueError(f'{urdf_path} has no paper link')
        self._size = (int(width_px), int(height_px))
        render_w = max(16, int(round(width_px * scale)))
        render_h = max(16, int(round(height_px * scale)))
        spec.visual.global_.offwidth = max(render_w, spec.visual.global_.offwidth)
        spec.visual.global_.offheight = max(render_h, spec.visual.global_.offheight)
        fy = float(camera_matrix[1, 1])
        camera = spec.worldbody.add_camera(name='cell_camera')
        camera.fovy = math.degrees(2.0 * math.atan(height_px / (2.0 * fy)))
        light_camera = spec.worldbody.add_camera(name='ceiling_light')
        light_camera.fovy = self.light.fov_deg
        self.model = spec.compile()
        self.data = mujoco.MjData(self.model)
        self._qpos = np.array([self.model.joint(n).qposadr[0] for n in ARM_JOINTS])
        mujoco.mj_kinematics(self.model, self.data)
        paper = self.model.body('paper').id
        paper_rotation = self.data.xmat[paper].reshape(3, 3).copy()
        paper_position = self.data.xpos[paper].copy()

        def place(name: str, position: np.ndarray, optical: np.ndarray) -> None:
            cam = self.model.camera(name)
            cam.pos[:] = paper_position + paper_rotation @ np.asarray(position, float)
            cam.quat[:] = _quat(paper_rotation @ optical @ _OPTICAL_TO_MUJOCO)

        place('cell_camera', position_m, rotation)
        # The light looks straight down, image x along paper x (optical y along paper -y).
        light_optical = np.diag([1.0, -1.0, -1.0])
        place('ceiling_light', np.asarray(self.light.position_m), light_optical)
        # Pixels of the light's render → the sheet plane → the camera's frame (full size).
        light_f = render_h / (2.0 * math.tan(math.radians(self.light.fov_deg) / 2.0))
        light_k = np.array(
            [[light_f, 0, (render_w - 1) / 2], [0, light_f, (render_h - 1) / 2], [0, 0, 1]]
        )
        light_from_paper = _plane_homography(light_k, light_optical, self.light.position_m)
        camera_from_paper = _plane_homography(camera_matrix, rotation, position_m)
        self._camera_from_light = camera_from_paper @ np.linalg.inv(light_from_paper)
        static = {self.model.body(n).id for n in STATIC_BODIES if self._has_body(n)}
        moving = [g for g in range(self.model.ngeom) if self.model.geom_bodyid[g] not in static]
        self._arm_geoms = np.array(moving, dtype=int)
        # Flat colours of the arm's geoms (by geom id), lit from above at a fixed angle.
        self._geom_rgb = np.zeros((self.model.ngeom + 1, 3), np.float32)
        self._geom_rgb[self._arm_geoms] = 0.85 * self.model.geom_rgba[self._arm_geoms, :3]
        self._renderer = mujoco.Renderer(self.model, render_h, render_w)
        self._renderer.enable_segmentation_rendering()
        self.set_joint_positions(np.asarray(HOME_POSITIONS_RAD, float))

    def _has_body(self, name: str) -> bool:
        try:
            self.model.body(name)
        except KeyError:
            return False
        return True

    def set_joint_positions(self, positions: np.ndarray) -> None:
        self._last = None
        self.data.qpos[self._qpos] = np.asarray(positions, dtype=float)
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_camlight(self.model, self.data)

    def _arm_pixels(self, camera: str) -> np.ndarray:
        """int (h, w): the arm geom each pixel of `camera`'s render sees, -1 for none."""
        self._renderer.update_scene(self.data, camera=camera)
        segmentation = self._renderer.render()
        ids, types = segmentation[..., 0], segmentation[..., 1]
        # int(): compared with the enum itself numpy goes element by element (100 ms a frame).
        arm = (types == int(mujoco.mjtObj.mjOBJ_GEOM)) & np.isin(ids, self._arm_geoms)
        return np.where(arm, ids, -1)

    def render(self, positions: np.ndarray | None = None) -> ArmOverlay:
        """The overlay of the arm at joint `positions` (None: as last set). An arm that has
        not moved by more than STILL_RAD on any joint since the last render gets that render
        again: two MuJoCo renders and a warp took 0.1-0.5 s of a loaded 2-core machine per
        frame, and while the arm stands (the observation after a move to the clear view) they
        only delayed the frame the observation waited for."""
        if positions is not None:
            positions = np.asarray(positions, dtype=float)
            last = self._last
            if last is not None and np.max(np.abs(positions - last[0])) <= STILL_RAD:
                return last[1]
            self.set_joint_positions(positions)
        overlay = self._render()
        self._last = (self.data.qpos[self._qpos].copy(), overlay)
        return overlay

    def _render(self) -> ArmOverlay:
        seen = self._arm_pixels('cell_camera')
        lit = self._arm_pixels('ceiling_light') >= 0
        width, height = self._size
        seen = cv2.resize(seen, self._size, interpolation=cv2.INTER_NEAREST)
        mask = seen >= 0
        rgb = self._geom_rgb[np.where(mask, seen, self.model.ngeom)]
        shadow = cv2.warpPerspective(
            lit.astype(np.float32), self._camera_from_light, (width, height),
            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0,
        )  # fmt: skip
        if self.light.penumbra_px > 0:
            shadow = cv2.GaussianBlur(shadow, (0, 0), self.light.penumbra_px)
        shade = 1.0 - (1.0 - self.light.shadow_level) * np.clip(shadow, 0.0, 1.0)
        shade[mask] = 1.0
        return ArmOverlay(mask, rgb, shade.astype(np.float32))

    def close(self) -> None:
        """Free the GL context (left to interpreter exit, MuJoCo prints an error)."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
