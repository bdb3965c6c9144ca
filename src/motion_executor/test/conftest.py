"""The motion executor's graph tests share one harness: the executor node in the test process, the
MuJoCo arm (or a stand-in the test builds) in a process of its own, DDS in between, and a client
node that spins apart from the server, as in two processes."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading

import pytest
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.action import ActionClient
from rclpy.context import Context
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory

from calligraphy_interfaces.action import ExecuteBrushPath
from calligraphy_interfaces.msg import TrajectoryAck
from calligraphy_model.polling import wait_until
from motion_executor.brush_motion import BrushPathSpec
from motion_executor.conversions import brush_path_to_msg


class ExecutorGraph:
    """The executor with `parameters` (name → value); the arm at `real_time_factor` unless
    `real_arm` is false. As in sim.yaml, the executor waits for the arm's acknowledgements."""

    def __init__(
        self,
        name: str,
        parameters: dict,
        real_arm: bool = True,
        real_time_factor: float = 4.0,
    ) -> None:
        from motion_executor.motion_executor_node import MotionExecutorNode

        # A domain per test module: modules that run one after another never hear each other.
        self.domain = random.Random(f'{os.getpid()}-{name}').randint(150, 230)
        self.arm = None
        if real_arm:
            self.arm = subprocess.Popen(
                [
                    sys.executable,
                    '-m',
                    'calligraphy_sim.mujoco_arm_node',
                    '--ros-args',
                    '-p',
                    f'real_time_factor:={real_time_factor}',
                ],
                env=dict(os.environ, ROS_DOMAIN_ID=str(self.domain)),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        self.context = Context()
        rclpy.init(context=self.context, domain_id=self.domain)
        values = {'trajectory_ack': True, 'joint_state_timeout_s': 2.0, **parameters}
        self.server = MotionExecutorNode(
            context=self.context,
            parameter_overrides=[Parameter(k, value=v) for k, v in values.items()],
        )
        self.client_node = Node(f'{name}_client', context=self.context)
        self.tip_z: list[float] = []
        self.trajectories: list[JointTrajectory] = []
        self.acks: list[TrajectoryAck] = []
        self.client_node.create_subscription(
            PoseStamped, '/brush_tip_pose', lambda m: self.tip_z.append(m.pose.position.z), 10
        )
        self.client_node.create_subscription(
            JointTrajectory, '/arm_controller/joint_trajectory', self.trajectories.append, 10
        )
        self.client_node.create_subscription(
            TrajectoryAck, '/arm_controller/trajectory_ack', self.acks.append, 10
        )
        self.client = ActionClient(self.client_node, ExecuteBrushPath, 'execute_brush_path')
        self.lift = self.client_node.create_client(Trigger, 'lift_brush')
        # The server's 400 joint states a second must not delay the client's result, feedback
        # and tip poses: they spin on executors of their own.
        self.executor = MultiThreadedExecutor(num_threads=4, context=self.context)
        self.executor.add_node(self.server)
        self.client_executor = SingleThreadedExecutor(context=self.context)
        self.client_executor.add_node(self.client_node)
        self.threads = [
            threading.Thread(target=executor.spin, daemon=True)
            for executor in (self.executor, self.client_executor)
        ]
        for thread in self.threads:
            thread.start()

    wait_until = staticmethod(wait_until)

    def send(self, path: BrushPathSpec | None = None, feedback=None, msg=None, **goal_fields):
        goal = ExecuteBrushPath.Goal(path=msg or brush_path_to_msg(path), **goal_fields)
        future = self.client.send_goal_async(
            goal,
            feedback_callback=(lambda m: feedback.append(m.feedback))
            if feedback is not None
            else None,
        )
        assert wait_until(future.done, 20.0), 'goal not answered'
        assert future.result().accepted
        return future.result()

    def result(self, handle, timeout_s: float = 60.0):
        future = handle.get_result_async()
        assert wait_until(future.done, timeout_s), 'no result in time'
        return future.result().result

    def call_lift(self, timeout_s: float = 30.0) -> Trigger.Response:
        future = self.lift.call_async(Trigger.Request())
        assert wait_until(future.done, timeout_s), 'lift_brush did not answer'
        return future.result()

    def close(self) -> None:
        self.executor.shutdown()
        self.client_executor.shutdown()
        for thread in self.threads:  # no spin loop may look at the context once it is destroyed
            thread.join(timeout=5.0)
        self.client.destroy()
        self.server.destroy_node()
        self.client_node.destroy_node()
        self.context.try_shutdown()
        self.context.destroy()  # its participant leaves the domain before the next test's
        if self.arm is not None and self.arm.poll() is None:
            self.arm.terminate()
            try:
                self.arm.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.arm.kill()
                self.arm.wait()


@pytest.fixture(scope='session')
def executor_graph() -> type[ExecutorGraph]:
    """The harness class: `executor_graph(name, parameters, real_arm=..., ...)`."""
    return ExecutorGraph
