"""ROS 2 node: the simulated arm (MuJoCo) behaving like a ros2_control trajectory controller."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory

from calligraphy_interfaces.msg import TrajectoryAck
from calligraphy_ros_kit.parameters import declare_config
from calligraphy_ros_kit.runner import run_node
from calligraphy_sim import arm_conversions
from calligraphy_sim.arm import ArmNodeConfig, ArmSimConfig, ArmSimulation
from calligraphy_sim.arm_trajectory import TrajectoryRejectedError

# A joint slower than this (rad/s) counts as standing still.
STILL_RAD_S = 1e-3


class MujocoArmNode(Node):
    """The cell's arm in MuJoCo, driven like joint_trajectory_controller.

    Names are relative (the cell's namespace) except /clock, which ROS time reads globally.
    Subscribes:
        arm_controller/joint_trajectory (trajectory_msgs/JointTrajectory): replaces the active
            trajectory at its stamp (zero stamp = on arrival), interpolated as the controller does.
            A trajectory that arrives after its stamp starts on arrival, from its first point
            (never part-way through).
    Publishes (at publish_rate_hz of simulated time; once the arm has stood still for
    `idle_divider` cycles, at one cycle in `idle_divider` until it moves again, and then the
    last still cycle's joint state and tip pose go out first, so that every reader has the
    arm's state right before it moved):
        /clock (rosgraph_msgs/Clock): simulated time, starting at 0; while the arm moves too at
            one cycle in `idle_divider` (the full rate for `idle_divider` cycles after it stops).
        joint_states (sensor_msgs/JointState): the six arm joints, stamped in simulated time.
        brush_tip_pose (geometry_msgs/PoseStamped): `brush_tip` in the `paper` frame.
        arm_controller/trajectory_ack (calligraphy_interfaces/TrajectoryAck): for each
            trajectory received, whether it was taken and the robot time it starts at.
    Parameters (read once at start):
        real_time_factor (float, 1.0): 1 = real time, N = N times faster, 0 = as fast as possible.
        publish_rate_hz (float, 100.0): rate of the three topics in simulated time.
        idle_divider (int, 10): the rate's divider while the arm stands still, and /clock's
            while it moves (1 = none).
        urdf_path (str, ''): the cell URDF ('' = urdf/calligraphy_cell.urdf of the checkout).
        initial_positions_rad (float[6]): joint positions at start (brush above the sheet).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('mujoco_arm_node', **kwargs)
        self.config = declare_config(self, ArmNodeConfig)
        sim_config = ArmSimConfig(initial_positions=self.config.initial_positions_rad)
        if self.config.urdf_path:
            sim_config = ArmSimConfig(
                urdf_path=self.config.urdf_path,
                initial_positions=self.config.initial_positions_rad,
            )
        self.simulation = ArmSimulation(sim_config)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        group = ReentrantCallbackGroup()
        qos = QoSProfile(depth=10)
        self._clock_pub = self.create_publisher(Clock, '/clock', qos)
        self._joint_pub = self.create_publisher(JointState, 'joint_states', qos)
        # The virtual paper inks from every tip pose: keep 2.5 s of them (at 4x real time) for
        # a reader its process left waiting, so that a starved paper inks a fast stroke late
        # instead of losing it. With 10, a loaded machine lost whole strokes of 60 mm/s writing.
        self._tip_pub = self.create_publisher(
            PoseStamped, 'brush_tip_pose', QoSProfile(depth=1000)
        )
        self._ack_pub = self.create_publisher(TrajectoryAck, 'arm_controller/trajectory_ack', qos)
        self.create_subscription(
            JointTrajectory,
            'arm_controller/joint_trajectory',
            self._on_trajectory,
            10,
            callback_group=group,
        )
        self._thread = threading.Thread(target=self._run, name='mujoco_arm', daemon=True)
        self._thread.start()
        rate = self.config.real_time_factor
        self.get_logger().info(
            'simulating the arm '
            + ('as fast as possible' if rate == 0.0 else f'at {rate:g}x real time')
        )

    def _on_trajectory(self, msg: JointTrajectory) -> None:
        trajectory, requested = arm_conversions.trajectory_from_msg(msg)
        ack = TrajectoryAck(requested_start=msg.header.stamp)
        try:
            with self._lock:
                now = self.simulation.time_s
                # Late (a loaded machine, a slow link): start it now rather than jump into it.
                start = now if requested is None or requested < now else requested
                self.simulation.set_trajectory(trajectory, start)
            ack.accepted, ack.start = True, arm_conversions.seconds_to_time(start)
            if requested is not None and requested < now:
                self.get_logger().debug(
                    f'trajectory arrived {now - requested:.3f} s after its start; started now'
                )
        except TrajectoryRejectedError as error:
            ack.reason = str(error)
            self.get_logger().error(f'trajectory rejected: {error}')
        self._ack_pub.publish(ack)

    def _run(self) -> None:
        sim = self.simulation
        period = 1.0 / self.config.publish_rate_hz
        steps = max(1, round(period / sim.model.opt.timestep))
        rate = self.config.real_time_factor
        divider = self.config.idle_divider
        wall_start, sim_start = time.monotonic(), sim.time_s
        cycle = still_cycles = 0
        held = None  # the newest still cycle not published: (state, tip) as _publish_state takes
        while not self._stop.is_set():
            with self._lock:
                sim.step(steps)
                now = sim.time_s
                state = (now, sim.joint_positions, sim.joint_velocities, sim.joint_efforts)
                tip = sim.brush_tip_in_paper()
            # While the arm stands still, one cycle in `divider`: its readers (the virtual paper
            # inks every tip pose; the camera, the executor and the clock's readers wake for
            # each message) took 400 messages a second on each topic at 4x real time for a
            # state that did not change. The full rate for `divider` cycles after it stops, so
            # the newest clock a reader holds is never older than the moment the arm stopped.
            cycle += 1
            moving = float(np.max(np.abs(state[2]))) > STILL_RAD_S
            still_cycles = 0 if moving else still_cycles + 1
            # /clock, also while the arm moves, at one cycle in `divider`: its readers (the nodes
            # on simulated time) ask for the time when the arm has stopped, and the full rate
            # after a stop gives them that moment exactly; each of them had woken 400 times a
            # second during every motion.
            on_beat = cycle % divider == 0
            just_stopped = 0 < still_cycles <= divider
            try:
                if just_stopped or on_beat:
                    self._clock_pub.publish(Clock(clock=arm_conversions.seconds_to_time(now)))
                if moving or just_stopped or on_beat:
                    if moving and held is not None:
                        self._publish_state(*held)  # the arm's state right before it moved
                    held = None
                    self._publish_state(state, tip)
                else:
                    held = (state, tip)
            except Exception:  # noqa: BLE001 - the context went away during shutdown
                if self._stop.is_set() or not rclpy.ok(context=self.context):
                    return
                raise
            if rate > 0.0:
                delay = wall_start + (now - sim_start) / rate - time.monotonic()
                if delay > 0.0:
                    time.sleep(delay)
                    continue
                if delay < -0.1:
                    # Fell behind (a busy machine): carry on from here instead of bursting ahead
                    # to catch up, which would make simulated time leap past trajectory stamps.
                    wall_start, sim_start = time.monotonic(), now
            # Let the executor threads take the GIL for incoming trajectories.
            time.sleep(0)

    def _publish_state(self, state, tip) -> None:
        now, positions, velocities, efforts = state
        self._joint_pub.publish(
            arm_conversions.joint_state_msg(
                now, self.simulation.joint_names, positions, velocities, efforts
            )
        )
        self._tip_pub.publish(arm_conversions.pose_stamped_msg(now, 'paper', *tip))

    def destroy_node(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(MujocoArmNode, 'mujoco_arm_node', args, threads=2)


if __name__ == '__main__':
    sys.exit(main())
