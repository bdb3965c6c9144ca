"""Forward and inverse kinematics of the brush tip, from the cell's URDF with pinocchio (no ROS).

Shared by the motion executor (planning and tracking) and the dip's reach check at start.

IK is damped least squares on the 6-D pose error (Levenberg-Marquardt-style damping that grows near
singularities), warm-started from a seed so that consecutive points of a path stay on one branch,
with every iterate clamped to the joint limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pinocchio as pin

from calligraphy_model.cell_description import ARM_JOINTS, default_urdf_path


def _norm(vector: np.ndarray) -> float:
    """The Euclidean norm of a short vector. Not np.linalg.norm: its BLAS dot releases the
    interpreter lock, and in a process whose other threads keep taking it (the cell's executors)
    every release cost about 0.1 ms instead of 2 us: three quarters of the IK's time in the
    executor, 1.4 s of the 2.3 s planning 永's six motion goals."""
    return math.sqrt(float(vector @ vector))


@dataclass(frozen=True)
class IkSolution:
    """Joint positions (rad) and how well they reach the target (metres, radians)."""

    positions: np.ndarray
    success: bool
    position_error_m: float
    rotation_error_rad: float
    iterations: int


class ArmKinematics:
    """The arm chain base_link → brush_tip, and the sheet's pose in base_link."""

    def __init__(
        self,
        urdf_path: Path | None = None,
        tip_frame: str = 'brush_tip',
        base_frame: str = 'base_link',
        paper_frame: str = 'paper',
    ) -> None:
        self.urdf_path = Path(urdf_path) if urdf_path else default_urdf_path()
        self.model = pin.buildModelFromUrdf(str(self.urdf_path))
        self._data = self.model.createData()
        names = tuple(self.model.names[1:])
        if names != ARM_JOINTS:
            raise ValueError(
                f'{self.urdf_path}: joints {names} are not the arm chain {ARM_JOINTS}'
            )
        for frame in (tip_frame, base_frame, paper_frame):
            if not self.model.existFrame(frame):
                raise ValueError(f'{self.urdf_path} has no frame {frame!r}')
        self.joint_names = ARM_JOINTS
        self.lower_limits = self.model.lowerPositionLimit.copy()
        self.upper_limits = self.model.upperPositionLimit.copy()
        self.velocity_limits = self.model.velocityLimit.copy()
        self._tip = self.model.getFrameId(tip_frame)
        pin.framesForwardKinematics(self.model, self._data, pin.neutral(self.model))
        world_base = self._data.oMf[self.model.getFrameId(base_frame)]
        self._base_inverse = world_base.inverse()
        self.paper_in_base = (
            self._base_inverse * self._data.oMf[self.model.getFrameId(paper_frame)]
        ).homogeneous

    def forward(self, positions: np.ndarray) -> np.ndarray:
        """4x4 pose of brush_tip in base_link."""
        pin.framesForwardKinematics(self.model, self._data, np.asarray(positions, dtype=float))
        return (self._base_inverse * self._data.oMf[self._tip]).homogeneous

    def tip_in_paper(self, positions: np.ndarray, paper_in_base: np.ndarray | None = None):
        """Position (3,) of brush_tip in `paper`."""
        paper = self.paper_in_base if paper_in_base is None else paper_in_base
        tip = self.forward(positions)[:3, 3]
        return paper[:3, :3].T @ (tip - paper[:3, 3])

    def inverse(
        self,
        target_in_base: np.ndarray,
        seed: np.ndarray,
        max_iterations: int = 100,
        position_tolerance_m: float = 1e-6,
        rotation_tolerance_rad: float = 1e-5,
    ) -> IkSolution:
        """Joint positions placing brush_tip at `target_in_base` (4x4), starting from `seed`."""
        target = pin.SE3(np.asarray(target_in_base, dtype=float))
        world_target = self._base_inverse.inverse() * target
        q = np.clip(np.asarray(seed, dtype=float), self.lower_limits, self.upper_limits)
        damping = 1e-4
        error = self._error(q, world_target)
        for iteration in range(1, max_iterations + 1):
            if (
                _norm(error[:3]) < position_tolerance_m
                and _norm(error[3:]) < rotation_tolerance_rad
            ):
                return self._solution(q, error, True, iteration - 1)
            jacobian = pin.computeFrameJacobian(
                self.model, self._data, q, self._tip, pin.ReferenceFrame.LOCAL
            )
            jacobian = pin.Jlog6(self._current.actInv(world_target)) @ jacobian
            # Damped least squares; the damping adapts (Levenberg-Marquardt) so steps that make
            # the error worse near a singularity are retried shorter.
            while True:
                step = jacobian.T @ np.linalg.solve(
                    jacobian @ jacobian.T + damping * np.eye(6), error
                )
                candidate = np.clip(q + step, self.lower_limits, self.upper_limits)
                candidate_error = self._error(candidate, world_target)
                if _norm(candidate_error) < _norm(error) or damping > 1e2:
                    break
                damping *= 10.0
            q, error = candidate, candidate_error
            damping = max(damping / 10.0, 1e-6)
        success = (
            _norm(error[:3]) < position_tolerance_m * 10
            and _norm(error[3:]) < rotation_tolerance_rad * 10
        )
        return self._solution(q, error, bool(success), max_iterations)

    def _error(self, q: np.ndarray, world_target: pin.SE3) -> np.ndarray:
        pin.framesForwardKinematics(self.model, self._data, q)
        self._current = self._data.oMf[self._tip]
        return pin.log6(self._current.actInv(world_target)).vector

    def _solution(self, q: np.ndarray, error: np.ndarray, success: bool, iterations: int):
        # The LOCAL-frame translation error has the same norm as the base-frame one.
        return IkSolution(
            positions=q.copy(),
            success=success,
            position_error_m=_norm(error[:3]),
            rotation_error_rad=_norm(error[3:]),
            iterations=iterations,
        )
