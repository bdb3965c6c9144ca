"""The simulated arm: the cell's URDF in MuJoCo with position-servoed joints (no ROS).

MuJoCo compiles `urdf/calligraphy_cell.urdf` directly; actuators and solver options are added
programmatically through `mujoco.MjSpec`, so the robot description stays the single source of the
kinematics. Each joint is driven like an industrial servo drive in position mode:

    torque = kp (q_cmd - q) + kd (qd_cmd - qd) + M(q) qdd_cmd
             (+ gravity compensation, + torque limit)

with the setpoint (`q_cmd`, `qd_cmd`, `qdd_cmd`) coming from a `TrajectoryFollower` updated every
physics step (500 Hz, the UR control rate). Reflected rotor inertia is modelled as joint armature.
Contacts are disabled: nothing in the cell collides by design and the brush-paper contact lives in
the virtual paper, not here.

Units: seconds, radians, metres, N·m.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np

from calligraphy_model.cell_description import ARM_JOINTS, HOME_POSITIONS_RAD, default_urdf_path
from calligraphy_model.settings import setting
from calligraphy_sim.arm_trajectory import JointTrajectory, TrajectoryFollower

DRIVE_TORQUE_LIMITS_NM = (150.0, 150.0, 150.0, 28.0, 28.0, 28.0)


@dataclass(frozen=True)
class ArmSimConfig:
    """How the simulated arm is built. Per-joint tuples are in ARM_JOINTS order."""

    urdf_path: Path = field(default_factory=default_urdf_path)
    timestep_s: float = 0.002
    # Servo stiffness (N·m/rad) and damping (N·m·s/rad): stiff shoulder and elbow, softer wrists,
    # critically damped around the reflected inertia of each drive.
    stiffness: tuple[float, ...] = (8000.0, 8000.0, 6000.0, 1500.0, 1500.0, 1000.0)
    damping: tuple[float, ...] = (400.0, 400.0, 300.0, 50.0, 50.0, 30.0)
    # Reflected rotor inertia of the harmonic drives, kg·m².
    armature: tuple[float, ...] = (0.6, 0.6, 0.4, 0.12, 0.12, 0.1)
    # Gravity compensation by the drive (as the real controller does).
    gravity_compensation: bool = True
    # Inertial feed-forward of the commanded acceleration, M(q) qdd_cmd (model-based, as the real
    # controller's): without it the servo lags through every acceleration and settles for about
    # 0.15 s after each trajectory (measured on 永's plans).
    acceleration_feedforward: bool = True
    initial_positions: tuple[float, ...] = HOME_POSITIONS_RAD

    def __post_init__(self) -> None:
        for name in ('stiffness', 'damping', 'armature', 'initial_positions'):
            if len(getattr(self, name)) != len(ARM_JOINTS):
                raise ValueError(f'{name} needs {len(ARM_JOINTS)} values, one per arm joint')
        if not 1e-4 <= self.timestep_s <= 0.01:
            raise ValueError('timestep_s must lie in [0.0001, 0.01] s for a stable servo')
        if min(self.stiffness) <= 0.0 or min(self.damping) < 0.0 or min(self.armature) < 0.0:
            raise ValueError('stiffness must be > 0, damping and armature >= 0')
        if self.acceleration_feedforward and min(self.damping) <= 0.0:
            raise ValueError(
                'the acceleration feed-forward rides on the damping term: damping > 0 needed'
            )


@dataclass(frozen=True)
class ArmNodeConfig:
    """Parameters of the simulated arm node (see MujocoArmNode), read once at start."""

    real_time_factor: float = setting(
        1.0, '1 = real time, N = N x, 0 = as fast as possible', low=0.0, high=1000.0
    )
    publish_rate_hz: float = setting(
        100.0, 'topic rate in simulated time', unit='Hz', low=1.0, high=1000.0
    )
    idle_divider: int = setting(
        10,
        'while the arm stands still, the topics go out at one publish cycle in this many, '
        'and /clock also while it moves (1 = always at the full rate)',
        low=1,
        high=1000,
    )
    urdf_path: str = setting('', "cell URDF ('' = the checkout's urdf/)")
    initial_positions_rad: tuple[float, ...] = setting(
        HOME_POSITIONS_RAD, 'start joints, shoulder_pan .. wrist_3', unit='rad'
    )

    def __post_init__(self) -> None:
        if not np.isfinite(self.real_time_factor) or self.real_time_factor < 0.0:
            raise ValueError('real_time_factor must be >= 0 (0 = as fast as possible)')
        if not self.publish_rate_hz > 0.0:
            raise ValueError('publish_rate_hz must be > 0')
        if len(self.initial_positions_rad) != len(ARM_JOINTS):
            raise ValueError(f'initial_positions_rad needs {len(ARM_JOINTS)} values')


def build_model(config: ArmSimConfig) -> mujoco.MjModel:
    """Compile the URDF with one position and one velocity servo term per arm joint."""
    spec = mujoco.MjSpec.from_file(str(config.urdf_path))
    spec.option.timestep = config.timestep_s
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONTACT
    joints = {joint.name: joint for joint in spec.joints}
    missing = [name for name in ARM_JOINTS if name not in joints]
    if missing:
        raise ValueError(f'{config.urdf_path} lacks arm joints {missing}')
    if config.gravity_compensation:
        for body in spec.bodies:
            body.gravcomp = 1.0
    for index, name in enumerate(ARM_JOINTS):
        joint = joints[name]
        joint.armature = config.armature[index]
        kp, kd = config.stiffness[index], config.damping[index]
        # Position term: kp * ctrl - kp * q; velocity term: kd * ctrl - kd * qd.
        position = spec.add_actuator(
            name=f'{name}_position', target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT
        )
        position.gainprm[0] = kp
        position.biastype = mujoco.mjtBias.mjBIAS_AFFINE
        position.biasprm[:3] = [0.0, -kp, 0.0]
        velocity = spec.add_actuator(
            name=f'{name}_velocity', target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT
        )
        velocity.gainprm[0] = kd
        velocity.biastype = mujoco.mjtBias.mjBIAS_AFFINE
        velocity.biasprm[:3] = [0.0, 0.0, -kd]
        # The drive's torque limit bounds the sum of both terms (MuJoCo's URDF import does not
        # carry <limit effort>; these are the UR5e drive limits the URDF also states).
        limit = DRIVE_TORQUE_LIMITS_NM[index]
        joint.actfrclimited = mujoco.mjtLimited.mjLIMITED_TRUE
        joint.actfrcrange = [-limit, limit]
    model = spec.compile()
    return model


class ArmSimulation:
    """The arm in MuJoCo following joint trajectories; time starts at 0 s."""

    def __init__(self, config: ArmSimConfig | None = None) -> None:
        self.config = config or ArmSimConfig()
        self.model = build_model(self.config)
        self.data = mujoco.MjData(self.model)
        self.joint_names = ARM_JOINTS
        self._qpos = np.array([self.model.joint(n).qposadr[0] for n in ARM_JOINTS])
        self._qvel = np.array([self.model.joint(n).dofadr[0] for n in ARM_JOINTS])
        self._position_actuators = np.array(
            [self.model.actuator(f'{n}_position').id for n in ARM_JOINTS]
        )
        self._velocity_actuators = np.array(
            [self.model.actuator(f'{n}_velocity').id for n in ARM_JOINTS]
        )
        self._damping = np.asarray(self.config.damping, dtype=float)
        self._qdd, self._torque = np.zeros(self.model.nv), np.zeros(self.model.nv)
        self._tip = self.model.body('brush_tip').id
        self._paper = self.model.body('paper').id
        initial = np.asarray(self.config.initial_positions, dtype=float)
        self.data.qpos[self._qpos] = initial
        mujoco.mj_forward(self.model, self.data)
        self.follower = TrajectoryFollower(ARM_JOINTS, initial)
        self._apply_setpoint()

    @property
    def time_s(self) -> float:
        return float(self.data.time)

    @property
    def joint_positions(self) -> np.ndarray:
        return self.data.qpos[self._qpos].copy()

    @property
    def joint_velocities(self) -> np.ndarray:
        return self.data.qvel[self._qvel].copy()

    @property
    def joint_efforts(self) -> np.ndarray:
        return self.data.qfrc_actuator[self._qvel].copy()

    def set_trajectory(
        self, trajectory: JointTrajectory, start_time_s: float | None = None
    ) -> None:
        """Follow `trajectory` from `start_time_s` (None = now); raises TrajectoryRejectedError."""
        start = self.time_s if start_time_s is None else float(start_time_s)
        self.follower.set_trajectory(trajectory, start)

    def _apply_setpoint(self) -> None:
        position, velocity, acceleration = self.follower.sample(self.time_s)
        self.data.ctrl[self._position_actuators] = position
        if self.config.acceleration_feedforward:
            # The feed-forward torque rides on the velocity term (force kd * ctrl - kd * qd), so
            # the drive's torque limit still bounds the sum. qM is the mass matrix of the last
            # step's state.
            self._qdd[self._qvel] = acceleration
            mujoco.mj_mulM(self.model, self.data, self._torque, self._qdd)
            velocity = velocity + self._torque[self._qvel] / self._damping
        self.data.ctrl[self._velocity_actuators] = velocity

    def step(self, count: int = 1) -> None:
        """Advance `count` physics steps, updating the servo setpoints before each.

        While the arm holds (no trajectory queued, the last one ended) the setpoints stay what
        they are: set once, and MuJoCo takes the steps in one call. The standing arm at 4x real
        time cost its process 0.17-0.21 s of CPU a second stepped one by one, 0.14-0.18 s so (3
        alternated pairs); the rest is MuJoCo's physics and the node's loop."""
        for done in range(count):
            if self.follower.holds_at(self.time_s):
                self._apply_setpoint()
                mujoco.mj_step(self.model, self.data, nstep=count - done)
                return
            self._apply_setpoint()
            mujoco.mj_step(self.model, self.data)

    def advance(self, duration_s: float) -> None:
        """Advance by `duration_s` of simulated time (rounded to whole steps)."""
        self.step(max(0, round(duration_s / self.model.opt.timestep)))

    def body_pose_in_paper(self, body: str) -> tuple[np.ndarray, np.ndarray]:
        """Position (3,) and rotation matrix (3, 3) of a body frame in the `paper` frame."""
        index = self.model.body(body).id
        paper_rotation = self.data.xmat[self._paper].reshape(3, 3)
        rotation = paper_rotation.T @ self.data.xmat[index].reshape(3, 3)
        position = paper_rotation.T @ (self.data.xpos[index] - self.data.xpos[self._paper])
        return position, rotation

    def brush_tip_in_paper(self) -> tuple[np.ndarray, np.ndarray]:
        """Position (3,) and rotation (3, 3) of `brush_tip` in `paper` (after the last step)."""
        return self.body_pose_in_paper('brush_tip')
