"""The simulated cell's layout: its nodes, which of them run in processes of their own, their
parameters from the YAML of a cell configuration, and how such a process is started.

Nothing here imports rclpy: `calligraphy write` checks its command line against these names and
starts the cell's processes before it imports rclpy and the nodes of its own process (about 0.4 s
of CPU), so that the processes on the critical path (the camera's) start that much earlier.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


def _config_dir() -> Path:
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory('calligraphy_bringup')) / 'config'
    except (ImportError, LookupError):
        return Path(__file__).resolve().parent.parent / 'config'


@dataclass(frozen=True)
class NodeSpec:
    """A node of the cell: its name (= executable = YAML key), module and class."""

    name: str
    module: str
    cls: str


SIM_CELL = (
    NodeSpec('mujoco_arm_node', 'calligraphy_sim.mujoco_arm_node', 'MujocoArmNode'),
    NodeSpec('virtual_paper_node', 'calligraphy_sim.virtual_paper_node', 'VirtualPaperNode'),
    NodeSpec('sim_camera_node', 'calligraphy_sim.sim_camera_node', 'SimCameraNode'),
    NodeSpec('stroke_planner_node', 'stroke_planner.stroke_planner_node', 'StrokePlannerNode'),
    NodeSpec('brush_policy_node', 'brush_policy_node.brush_policy_node', 'BrushPolicyNode'),
    NodeSpec('motion_executor_node', 'motion_executor.motion_executor_node', 'MotionExecutorNode'),
    NodeSpec('ink_dipping_node', 'ink_dipping.ink_dipping_node', 'InkDippingNode'),
    NodeSpec('camera_feedback_node', 'camera_feedback.camera_feedback_node', 'CameraFeedbackNode'),
    NodeSpec('writer_node', 'calligraphy_writer.writer_node', 'WriterNode'),
    NodeSpec('calibration_node', 'calligraphy_bringup.calibration_node', 'CalibrationNode'),
)

# What `calligraphy write` brings up: the cell without calibration_node, which serves only the
# calibrate_cell action (`calligraphy calibrate --sim` brings up a cell of its own). In the
# writer's process it took 0.3 s of CPU to import at every start, and its simulated-time clock
# subscription woke the executor of that process's seven nodes for every /clock message, 400 a
# second while the arm moved at 4x real time.
WRITE_CELL = tuple(spec for spec in SIM_CELL if spec.name != 'calibration_node')


# Nodes that run in processes of their own when the whole sim cell is brought up. The virtual
# paper is alone: it must apply the arm's tip poses (400 a second at 4x real time) as they come,
# and sharing an interpreter with the simulated camera (~0.15 s of CPU per frame at 5 Hz) it fell
# seconds behind on the loaded 2-core machine, so an observation requested after a stroke was
# answered with a frame of a sheet that did not show the stroke yet (IoU 0 for a written 十).
SIM_PROCESS_GROUPS = (
    ('mujoco_arm_node',),
    ('virtual_paper_node',),
    ('sim_camera_node', 'camera_feedback_node'),
)


# The nodes that render with MuJoCo (the camera's view of the arm): a process without one runs
# with MUJOCO_GL=disable, so `import mujoco` does not load OpenGL (0.1 s of CPU at each start).
RENDERING_NODES = ('sim_camera_node',)


def config_path(name: str = 'sim') -> Path:
    """The installed (or source) YAML of a cell configuration."""
    path = _config_dir() / f'{name}.yaml'
    if not path.exists():
        raise FileNotFoundError(f'no cell configuration {path}')
    return path


def _flatten(values: dict, prefix: str = '') -> dict:
    flat = {}
    for key, value in values.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            flat.update(_flatten(value, f'{name}.'))
        else:
            flat[name] = value
    return flat


def load_parameters(path: Path) -> dict[str, dict]:
    """{node name: {dotted parameter name: value}} from a ROS 2 parameters YAML file."""
    # Here: the cell description module brings numpy, which `calligraphy write` imports only
    # once the cell's processes are started.
    from calligraphy_model.cell_description import load_yaml_text

    document = load_yaml_text(path.read_text()) or {}
    return {
        node: _flatten(section.get('ros__parameters', {})) for node, section in document.items()
    }


def spawn_group(
    names: tuple[str, ...], config: Path, overrides: dict[str, dict]
) -> subprocess.Popen:
    """Start the nodes `names` in a process of their own (`python -m calligraphy_bringup.graph`)
    for this process, with `config` and the `overrides` for them."""
    command = [sys.executable, '-m', 'calligraphy_bringup.graph', *names, '--config', str(config)]
    command += ['--parent-pid', str(os.getpid())]
    selected = {name: values for name, values in overrides.items() if name in names}
    if selected:
        command += ['--overrides', json.dumps(selected)]
    # A process group of its own: a terminal's Ctrl-C goes to the parent only, which cancels the
    # goal and then stops this process with SIGTERM. Ignoring SIGINT in main() is not enough:
    # a Ctrl-C while the process still imports would end it with a traceback.
    env = dict(os.environ)
    if not set(names) & set(RENDERING_NODES):
        env['MUJOCO_GL'] = 'disable'
    return subprocess.Popen(command, env=env, process_group=0)


def spawn_groups(
    groups: tuple[tuple[str, ...], ...], config: Path, overrides: dict[str, dict]
) -> list[subprocess.Popen]:
    """One process for each group of `groups` (spawn_group)."""
    processes: list[subprocess.Popen] = []
    try:
        for group in groups:
            processes.append(spawn_group(group, config, overrides))
    except BaseException:
        stop_processes(processes)
        raise
    return processes


def stop_processes(processes: list[subprocess.Popen], timeout_s: float = 10.0) -> None:
    """SIGTERM to each process still running, then wait for each (killed after `timeout_s`)."""
    tell_to_stop(processes)
    wait_for(processes, timeout_s)


def tell_to_stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to each process still running: it stops its nodes and ends (graph.main)."""
    import signal

    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)


def wait_for(processes: list[subprocess.Popen], timeout_s: float = 10.0) -> None:
    """Wait for each process to end, killed after `timeout_s`."""
    for process in processes:
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
