"""The executor on a real cell: MoveIt's IK answers judged against a calibrated robot, MoveIt that
cannot start reported with its reason (no traceback), the pendant's speed scaling read, the sheet
taken from cell.yaml."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import threading
import types
from pathlib import Path

import numpy as np
import pytest
import rclpy
import yaml
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import Float64

from calligraphy_model.cell_description import fixed_pose_in_base, load_cell_yaml
from calligraphy_model.polling import wait_until
from motion_executor.brush_motion import BrushMotionConfig
from motion_executor.errors import BackendUnavailableError
from motion_executor.moveit_backend import IkCheck, judge_ik_answer

# A UR's speed_scaling_state_broadcaster (ur_controllers, Universal_Robots_ROS2_Driver):
# std_msgs/Float64 on ~/speed_scaling, the factor times 100.
SPEED_SCALING_TOPIC = '/speed_scaling_state_broadcaster/speed_scaling'


def _shifted(pose: np.ndarray, metres: float = 0.0, radians: float = 0.0) -> np.ndarray:
    moved = pose.copy()
    moved[0, 3] += metres
    c, s = np.cos(radians), np.sin(radians)
    moved[:3, :3] = moved[:3, :3] @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return moved


@pytest.mark.parametrize(
    ('found', 'moveit_off_m', 'nominal_off_m', 'nominal_off_rad', 'accepted'),
    [
        (True, 0.0, 0.004, 0.004, True),  # a factory calibration: mm to cm, a fraction of a degree
        (True, 0.0, 0.0195, 0.0, True),
        (True, 0.0, 0.03, 0.0, False),  # a brush 3 cm shorter than the URDF's: not a calibration
        (True, 0.0, 0.0, 0.05, False),
        (True, 0.001, 0.0, 0.0, False),  # MoveIt's own model misses the target
        (False, 0.0, 0.0, 0.0, False),  # no solution found
    ],
)
def test_moveit_answers_off_the_nominal_model_by_a_calibration_are_accepted(
    found, moveit_off_m, nominal_off_m, nominal_off_rad, accepted
):
    target = np.eye(4)
    target[:3, 3] = (0.45, 0.0, 0.10)
    solution = judge_ik_answer(
        np.zeros(6),
        found,
        target,
        _shifted(target, moveit_off_m),
        _shifted(target, nominal_off_m, nominal_off_rad),
        IkCheck(),
    )
    assert solution.success is accepted
    assert solution.position_error_m == pytest.approx(nominal_off_m, abs=1e-12)


class _ModelWithoutBrush:
    """What moveit_py answers for a description without the brush tool (robot_state.cpp:
    get_frame_transform gives identity for a frame the model lacks)."""

    def __init__(self, **_kwargs) -> None:
        pass

    def get_robot_model(self):
        return types.SimpleNamespace(has_joint_model_group=lambda group: group == 'ur_manipulator')

    @staticmethod
    def state(_model):
        return types.SimpleNamespace(
            set_to_default_values=lambda: None,
            update=lambda: None,
            get_frame_transform=lambda _frame: np.eye(4),
        )


def _refuse(**_kwargs):
    raise RuntimeError('Unable to initialize planning scene monitor: no robot_description')


@pytest.mark.parametrize(
    ('moveit_py', 'said'),
    [
        (_refuse, 'no robot_description'),  # MoveItPy raises without its parameters
        (_ModelWithoutBrush, 'robot_description has no brush_tip'),
    ],
    ids=['no_parameters', 'no_brush_tool'],
)
def test_moveit_that_cannot_start_is_reported_with_its_reason(monkeypatch, moveit_py, said):
    """The backend turns MoveIt's start-up failures into BackendUnavailableError with MoveIt's
    words and what it needs (the node prints it and exits 2)."""
    from calligraphy_model.kinematics import ArmKinematics
    from motion_executor.backends import create_backend

    planning = types.ModuleType('moveit.planning')
    planning.MoveItPy = moveit_py
    robot_state = types.ModuleType('moveit.core.robot_state')
    robot_state.RobotState = getattr(moveit_py, 'state', object)
    for name, module in {
        'moveit': types.ModuleType('moveit'),
        'moveit.core': types.ModuleType('moveit.core'),
        'moveit.core.robot_state': robot_state,
        'moveit.planning': planning,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    with pytest.raises(BackendUnavailableError) as error:
        create_backend('moveit', ArmKinematics(), BrushMotionConfig())
    message = str(error.value)
    assert 'could not start MoveIt' in message and said in message
    assert 'brush_tip' in message and 'native' in message


def test_the_node_without_moveit_exits_with_the_reason_and_no_traceback():
    pytest.importorskip('rclpy')
    try:
        import moveit  # noqa: F401

        pytest.skip('moveit_py is installed here')
    except ImportError:
        pass
    domain = random.Random(f'{os.getpid()}-moveit-exit').randint(150, 230)
    process = subprocess.run(
        [
            sys.executable,
            '-m',
            'motion_executor.motion_executor_node',
            '--ros-args',
            '-p',
            'backend:=moveit',
        ],
        env=dict(os.environ, ROS_DOMAIN_ID=str(domain)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 2, process.stderr[-2000:]
    assert "motion_executor_node: error: motion backend 'moveit' needs moveit_py" in (
        process.stderr
    )
    assert 'Traceback' not in process.stderr + process.stdout


@pytest.fixture
def executor_node(request):
    from motion_executor.motion_executor_node import MotionExecutorNode

    domain = random.Random(f'{os.getpid()}-real-cell').randint(150, 230)
    context = Context()
    rclpy.init(context=context, domain_id=domain)
    values = {'speed_scaling_topic': SPEED_SCALING_TOPIC, **getattr(request, 'param', {})}
    node = MotionExecutorNode(
        context=context,
        parameter_overrides=[Parameter(k, value=v) for k, v in values.items()],
    )
    pendant = Node('pendant', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    executor.add_node(pendant)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        yield node, pendant
    finally:
        executor.shutdown()
        thread.join(timeout=10.0)
        pendant.destroy_node()
        node.destroy_node()
        context.try_shutdown()
        context.destroy()


def test_the_pendants_speed_scaling_stretches_the_executors_waits(executor_node):
    node, pendant = executor_node
    assert node.supervisor.speed_fraction == 1.0
    slider = pendant.create_publisher(Float64, SPEED_SCALING_TOPIC, 10)
    assert wait_until(lambda: slider.get_subscription_count() > 0, 10.0)
    slider.publish(Float64(data=50.0))
    assert wait_until(lambda: node.supervisor.speed_fraction == pytest.approx(0.5), 10.0)
    slider.publish(Float64(data=140.0))  # above 100 %: the arm never runs faster than planned
    assert wait_until(lambda: node.supervisor.speed_fraction == 1.0, 10.0)


def _calibrated_cell_yaml() -> str:
    """cell.yaml with the sheet 4 mm and 1 degree off the URDF's (as calibration writes it)."""
    cell = load_cell_yaml()
    cell['paper']['xyz_m'][0] += 0.004
    cell['paper']['rpy_rad'][2] += float(np.radians(1.0))
    path = Path(tempfile.mkdtemp()) / 'cell.yaml'
    path.write_text(yaml.safe_dump(cell))
    return str(path)


CALIBRATED = _calibrated_cell_yaml()


@pytest.mark.parametrize('executor_node', [{'cell_yaml': CALIBRATED}], indirect=True)
def test_the_sheet_is_where_cell_yaml_puts_it_not_where_the_urdf_does(executor_node):
    node, _ = executor_node
    wanted = fixed_pose_in_base(load_cell_yaml(CALIBRATED), 'paper')
    np.testing.assert_allclose(node.backend.planner.paper_in_base, wanted, atol=1e-12)
    urdf_paper = node.backend.planner.kinematics.paper_in_base
    assert np.linalg.norm(wanted[:3, 3] - urdf_paper[:3, 3]) == pytest.approx(0.004)
