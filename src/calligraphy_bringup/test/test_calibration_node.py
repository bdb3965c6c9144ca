"""calibration_node in a live graph: against the simulated cell with the camera looking away from
the sheet, a goal fails with MARKERS_NOT_SEEN and its reason, writes nothing, and the node goes on
answering goals."""

from __future__ import annotations

import os
import threading

import pytest
import rclpy
import yaml
from rclpy.action import ActionClient
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from calligraphy_bringup.graph import SIM_CELL, SimNodeGraph
from calligraphy_interfaces.action import CalibrateCell
from calligraphy_model.cell_description import load_cell_yaml
from calligraphy_ros_kit.futures import wait_for_future

# The executor too: the calibration moves the brush out of the camera's way before it looks.
SIM_NODES = ('mujoco_arm_node', 'virtual_paper_node', 'sim_camera_node', 'motion_executor_node')
WAIT_S = 90.0  # a bound on waiting for an answer, not a timed assertion


@pytest.fixture(scope='module')
def cell(tmp_path_factory):
    folder = tmp_path_factory.mktemp('calibration_node')
    description = load_cell_yaml()
    description['camera_color_optical_frame']['xyz_m'] = [0.405, 0.55, 0.751]  # bare table
    cell_yaml = folder / 'cell.yaml'
    cell_yaml.write_text(yaml.safe_dump(description))
    overrides = {
        'sim_camera_node': {'cell_yaml': str(cell_yaml)},
        'calibration_node': {'cell_yaml': str(cell_yaml), 'step_timeout_s': 60.0},
    }
    # A domain of its own (the graph's processes inherit it).
    previous = os.environ.get('ROS_DOMAIN_ID')
    domain = (int(previous or '0') + 173) % 232
    os.environ['ROS_DOMAIN_ID'] = str(domain)
    context = Context()
    rclpy.init(context=context, domain_id=domain)
    graph = probe = executor = client = None
    try:
        graph = SimNodeGraph(
            context,
            'sim',
            overrides,
            nodes=tuple(s for s in SIM_CELL if s.name in {*SIM_NODES, 'calibration_node'}),
            threads=4,
            process_groups=(('mujoco_arm_node',), ('virtual_paper_node', 'sim_camera_node')),
        ).start()
        probe = Node('calibration_probe', context=context)
        client = ActionClient(probe, CalibrateCell, 'calibrate_cell')
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(probe)
        threading.Thread(target=executor.spin, daemon=True).start()
        assert client.wait_for_server(timeout_sec=WAIT_S)
        yield client, cell_yaml, folder
    finally:
        if executor is not None:
            executor.shutdown()  # before the client goes: none may be in a spinning wait set
        if client is not None:
            client.destroy()
        if probe is not None:
            probe.destroy_node()
        if graph is not None:
            graph.close()
        context.try_shutdown()
        if previous is None:
            os.environ.pop('ROS_DOMAIN_ID', None)
        else:
            os.environ['ROS_DOMAIN_ID'] = previous


def _calibrate(client: ActionClient, output_dir: str, write_cell: bool = True):
    stages: list[str] = []
    goal = CalibrateCell.Goal(output_dir=output_dir, write_cell=write_cell)
    sent = client.send_goal_async(
        goal, feedback_callback=lambda m: stages.append(m.feedback.stage)
    )
    handle = wait_for_future(sent, WAIT_S)
    assert handle.accepted
    return wait_for_future(handle.get_result_async(), WAIT_S).result, stages


@pytest.mark.timeout(180)
def test_no_markers_in_view_fails_with_its_code_writes_nothing_and_the_node_answers_again(cell):
    client, cell_yaml, folder = cell
    original = cell_yaml.read_text()
    out = folder / 'out'
    result, stages = _calibrate(client, str(out))
    assert not result.success
    assert result.error_code == CalibrateCell.Result.MARKERS_NOT_SEEN, result.error_msg
    assert "of the sheet's 4 markers (need 3" in result.error_msg
    assert list(result.files_written) == []
    assert 'sheet' in stages
    assert cell_yaml.read_text() == original and not out.exists()
    # The node is still there: a second goal is measured again and fails the same way.
    again, _ = _calibrate(client, str(out))
    assert again.error_code == CalibrateCell.Result.MARKERS_NOT_SEEN, again.error_msg
    assert cell_yaml.read_text() == original and not out.exists()
    # And a goal it cannot write for is refused before anything moves.
    (folder / 'a_file').write_text('')
    refused, _ = _calibrate(client, str(folder / 'a_file' / 'out'))
    assert refused.error_code == CalibrateCell.Result.INVALID_ARGUMENT
    assert 'not a directory' in refused.error_msg
