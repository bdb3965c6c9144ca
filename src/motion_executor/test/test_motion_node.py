"""motion_executor_node over a real graph: the MuJoCo arm in its own process, DDS in between.

The tests share one arm process (start-up costs seconds); the stale-joint-states test stops it and
therefore runs last.
"""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_interfaces.action import ExecuteBrushPath
from calligraphy_model.kinematics import ArmKinematics
from motion_executor.brush_motion import BrushPathSpec
from motion_executor.sample_paths import square_path

Result = ExecuteBrushPath.Result
REAL_TIME_FACTOR = 4.0


@pytest.fixture(scope='module')
def graph(executor_graph):
    # 1 s of simulated time is 0.25 s of wall time at 4x: room for a loaded machine.
    graph = executor_graph('motion_node', {'trajectory_start_lead_s': 1.0})
    try:
        assert graph.client.wait_for_server(timeout_sec=20.0)
        assert graph.wait_until(lambda: graph.server._latest is not None, 20.0), 'no joint states'
        # DDS matches the action's feedback topic a moment after the server is discovered; on a
        # loaded machine the whole first stroke can pass before it does. One stroke to warm up.
        warmup: list = []
        graph.result(graph.send(_stroke(length=0.01), warmup))
        assert graph.wait_until(lambda: warmup, 10.0), 'no feedback from a warm-up stroke'
        yield graph
    finally:
        graph.close()


def _stroke(length=0.03, x0=0.10, y0=0.10, depth=0.002, speed=0.05, n=61) -> BrushPathSpec:
    x = x0 + np.linspace(0.0, length, n)
    return BrushPathSpec(x, np.full(n, y0), np.full(n, depth), np.linspace(0, length / speed, n))


@pytest.mark.timeout(60)
def test_stroke_is_executed_with_progress_and_sub_millimetre_tracking(graph):
    feedback: list = []
    result = graph.result(graph.send(_stroke(), feedback))
    assert result.success and result.error_code == Result.SUCCESS, result.error_msg
    assert result.tip_rms_error_m < 0.0005
    assert result.duration_s > 0.6  # the 0.6 s stroke plus approach and retreat
    # arrived_at is the arm's robot time (its /joint_states clock) at the end of the motion.
    arrived = result.arrived_at.sec + 1e-9 * result.arrived_at.nanosec
    assert graph.server._latest.stamp_s >= arrived > result.duration_s
    # Feedback travels on its own topic and may trail the result by a moment.
    assert graph.wait_until(lambda: {'approach', 'writing'} <= {f.phase for f in feedback}, 5.0), [
        (f.phase, f.point_index) for f in feedback
    ]
    phases = [f.phase for f in feedback]
    assert phases[0] == 'planning'
    writing = [f.point_index for f in feedback if f.phase == 'writing']
    assert writing == sorted(writing) and all(f.point_count == 61 for f in feedback)
    assert graph.wait_until(lambda: abs(graph.tip_z[-1] - 0.03) < 5e-4, 5.0), graph.tip_z[-1]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ('path', 'code'),
    [
        (BrushPathSpec(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)), Result.EMPTY_PATH),
        (_stroke(x0=0.29), Result.OUTSIDE_PAPER),
        (_stroke(depth=0.02), Result.TOO_DEEP),
        (_stroke(depth=-0.9), Result.UNREACHABLE),
        (_stroke(speed=50.0), Result.INVALID_PATH),
    ],
    ids=['empty', 'outside', 'too-deep', 'unreachable', 'too-fast'],
)
def test_bad_path_is_rejected_over_the_graph_before_any_motion(graph, path, code):
    sent_before = len(graph.trajectories)
    result = graph.result(graph.send(path), 10.0)
    assert not result.success and result.error_code == code and result.error_msg
    # Nothing may follow the answer: a trajectory would arrive within a moment.
    assert not graph.wait_until(lambda: len(graph.trajectories) > sent_before, 0.1)
    assert len(graph.trajectories) == sent_before, 'a rejected path moved the arm'


@pytest.mark.timeout(120)
def test_cancel_while_writing_lifts_the_brush_to_the_safe_height(graph):
    feedback: list = []
    handle = graph.send(square_path(0.1), feedback)
    # The approach takes about a second of wall time; on a loaded machine far more.
    assert graph.wait_until(lambda: any(f.phase == 'writing' for f in feedback), 45.0)
    assert graph.wait_until(lambda: graph.tip_z[-1] < 0.0, 5.0), 'brush not on the paper'
    handle.cancel_goal_async()
    result = graph.result(handle)
    assert result.error_code == Result.CANCELED
    # The lift ends before the result; the tip stream the test hears may trail it a little.
    graph.wait_until(lambda: abs(graph.tip_z[-1] - 0.03) < 5e-4, 2.0)
    assert abs(graph.tip_z[-1] - 0.03) < 5e-4, f'tip at {graph.tip_z[-1] * 1e3:.1f} mm'


@pytest.mark.timeout(120)
def test_stale_joint_states_abort_the_motion_and_command_a_lift(graph):
    # Runs last: it stops the arm process.
    feedback: list = []
    handle = graph.send(square_path(0.1), feedback)
    # The approach takes about a second of wall time; on a loaded machine far more.
    assert graph.wait_until(lambda: any(f.phase == 'writing' for f in feedback), 45.0)
    graph.arm.kill()
    result = graph.result(handle)
    assert result.error_code == Result.JOINT_STATES_STALE and 'silent' in result.error_msg
    kinematics = ArmKinematics()

    def lift_tip_z() -> float:
        return kinematics.tip_in_paper(np.array(graph.trajectories[-1].points[-1].positions))[2]

    # The lift is sent before the result; the test's subscription may hear it a moment later.
    graph.wait_until(lambda: abs(lift_tip_z() - 0.03) < 1e-5, 2.0)
    assert lift_tip_z() == pytest.approx(0.03, abs=1e-5)
    # The node is still serving: with no arm the next goal is refused as stale, not crashed.
    result = graph.result(graph.send(_stroke()), 10.0)
    assert result.error_code == Result.JOINT_STATES_STALE
