"""Launch files and YAML: everything they name exists, and every YAML key and every parameter a
launch file sets is a declared parameter of its node (`ros2 launch` is not installed here, so this
is checked statically)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
import rclpy
from rclpy.context import Context
from rclpy.parameter import Parameter

from calligraphy_bringup.graph import SIM_CELL, load_parameters
from conftest import REPO_ROOT

LAUNCH_DIR = REPO_ROOT / 'launch'
CONFIG_DIR = REPO_ROOT / 'src' / 'calligraphy_bringup' / 'config'
# Provided by the ROS distribution on a real cell / Gazebo machine (docker/), not by this repo.
DISTRIBUTION_PACKAGES = {
    'ur_robot_driver',
    'realsense2_camera',
    'ros_gz_sim',
    'ros_gz_bridge',
    'controller_manager',
    'robot_state_publisher',
}
# Files of those packages that launch files name (ur_description/config/<ur_type>/,
# ur_moveit_config/srdf/).
DISTRIBUTION_FILES = {'default_kinematics.yaml', 'ur.srdf.xacro'}
# Files under urdf/ that launch files name besides the nodes' config/*.yaml.
DESCRIPTION_FILES = {'gazebo_controllers.yaml', 'gazebo_bridge.yaml', 'moveit_py.yaml'}
OURS = {spec.name: spec for spec in SIM_CELL}


def _strings_in_calls(tree: ast.AST) -> list[tuple[str, str]]:
    """(package, executable) pairs from Node(package=..., executable=...) and NODES tuples."""
    pairs = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'Node':
            kw = {k.arg: k.value for k in node.keywords}
            if isinstance(kw.get('package'), ast.Constant):
                pairs.append((kw['package'].value, kw['executable'].value))
        if (
            isinstance(node, ast.Tuple)
            and len(node.elts) == 2
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)
            and node.elts[1].value.endswith('_node')
        ):
            pairs.append((node.elts[0].value, node.elts[1].value))
    return pairs


def _install_prefix(package: str) -> Path:
    for prefix in os.environ['AMENT_PREFIX_PATH'].split(os.pathsep):
        if (Path(prefix) / 'share' / package / 'package.xml').exists():
            return Path(prefix)
    raise AssertionError(f'package {package} is not installed')


@pytest.mark.parametrize('launch_file', sorted(LAUNCH_DIR.glob('*.launch.py')), ids=str)
def test_launch_file_names_existing_executables_and_files(launch_file: Path):
    source = launch_file.read_text()
    tree = ast.parse(source)
    pairs = _strings_in_calls(tree)
    assert pairs, 'no nodes found'
    for package, executable in pairs:
        if package in DISTRIBUTION_PACKAGES:
            continue
        exe = _install_prefix(package) / 'lib' / package / executable
        assert exe.exists(), f'{launch_file.name}: {package}/{executable} is not installed'
    share = _install_prefix('calligraphy_bringup') / 'share' / 'calligraphy_bringup'
    assert (share / 'launch' / launch_file.name).exists(), 'launch file not installed'
    for literal in {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}:
        if isinstance(literal, str) and literal.endswith(('.yaml', '.urdf', '.xacro', '.sdf')):
            if literal in DISTRIBUTION_FILES:
                continue
            assert list(share.rglob(literal)), f'{launch_file.name} names missing {literal}'


def test_every_launch_config_exists():
    named = {
        n.value
        for f in LAUNCH_DIR.glob('*.launch.py')
        for n in ast.walk(ast.parse(f.read_text()))
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.endswith('.yaml')
    }
    assert named - DISTRIBUTION_FILES - DESCRIPTION_FILES == {
        'sim.yaml',
        'real_cell.yaml',
        'gazebo.yaml',
    }
    assert all(
        (CONFIG_DIR / name).exists() for name in named - DISTRIBUTION_FILES - DESCRIPTION_FILES
    )
    assert all((REPO_ROOT / 'urdf' / name).exists() for name in DESCRIPTION_FILES)


def _launch_parameter_keys(config: str) -> dict[str, set[str]]:
    """Node name → the parameter names that `config`.launch.py sets inline (dict literals in a
    Node's `parameters`); a Node made in a loop over NODES sets them on each of those nodes."""
    tree = ast.parse((LAUNCH_DIR / f'{config}.launch.py').read_text())
    ours_in_file = [exe for package, exe in _strings_in_calls(tree) if exe in OURS]
    keys: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'Node'):
            continue
        kw = {k.arg: k.value for k in node.keywords}
        executable = kw.get('executable')
        names = [executable.value] if isinstance(executable, ast.Constant) else ours_in_file
        for item in getattr(kw.get('parameters'), 'elts', []):
            if isinstance(item, ast.Dict):
                for name in names:
                    if name in OURS:
                        keys.setdefault(name, set()).update(
                            k.value for k in item.keys if isinstance(k, ast.Constant)
                        )
    return keys


def test_launch_parameter_keys_are_found():
    assert 'real_time_factor' in _launch_parameter_keys('sim')['mujoco_arm_node']


@pytest.mark.parametrize('config', ['sim', 'real_cell', 'gazebo'])
def test_every_yaml_key_is_a_declared_parameter(config: str):
    parameters = load_parameters(CONFIG_DIR / f'{config}.yaml')
    inline = _launch_parameter_keys(config)
    assert set(parameters) <= set(OURS), f'unknown nodes {set(parameters) - set(OURS)}'
    context = Context()
    # A domain of its own: the nodes built here must not linger in the graph of later tests.
    rclpy.init(context=context, domain_id=(int(os.environ.get('ROS_DOMAIN_ID', '0')) + 101) % 232)
    try:
        for name, values in parameters.items():
            spec = OURS[name]
            module = __import__(spec.module, fromlist=[spec.cls])
            overrides = [Parameter(k, value=v) for k, v in values.items()]
            if name == 'motion_executor_node':
                # moveit_py is not installed here: check the keys against the native node
                # (control_msgs is: setup.sh builds it from test/ros_interfaces).
                overrides = [p for p in overrides if p.name != 'backend']
            node = getattr(module, spec.cls)(context=context, parameter_overrides=overrides)
            try:
                undeclared = [k for k in values if not node.has_parameter(k)]
                assert not undeclared, f'{config}.yaml: {name} does not declare {undeclared}'
                undeclared = [k for k in inline.get(name, ()) if not node.has_parameter(k)]
                assert not undeclared, f'{config}.launch.py: {name} does not declare {undeclared}'
            finally:
                node.destroy_node()
    finally:
        context.try_shutdown()
        context.destroy()
