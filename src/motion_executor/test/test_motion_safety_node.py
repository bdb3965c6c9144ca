"""motion_executor_node's safety over a real graph (the MuJoCo arm in its own process): paths that
would hit the cell are refused with COLLISION before anything moves, goal fields are bounded, the
lift_brush service and the idle watchdog bring the brush to the safe height.

The tests share one arm process and run in file order; the last one stops the arm.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from calligraphy_interfaces.action import ExecuteBrushPath
from motion_executor.brush_motion import BrushPathSpec
from motion_executor.conversions import brush_path_to_msg
from motion_executor.sample_paths import square_path

Result = ExecuteBrushPath.Result
SAFE_M = 0.045
HOP_M = 0.010
IDLE_LIFT_S = 4.0
# The ink well's centre in paper (urdf/cell.yaml) and its rim's top above the sheet.
WELL_XY = (0.3885, 0.080)


@pytest.fixture(scope='module')
def graph(executor_graph):
    graph = executor_graph(
        'motion_safety',
        {
            'trajectory_start_lead_s': 1.0,
            'safe_height_m': SAFE_M,
            'idle_lift_timeout_s': IDLE_LIFT_S,
        },
    )
    try:
        assert graph.client.wait_for_server(timeout_sec=20.0)
        assert graph.lift.wait_for_service(timeout_sec=20.0)
        assert graph.wait_until(lambda: graph.server._latest is not None, 20.0), 'no joint states'
        assert graph.wait_until(lambda: graph.tip_z, 20.0), 'no tip pose'
        yield graph
    finally:
        graph.close()


def _stroke(x0=0.10, y0=0.10, length=0.03, depth=0.002, n=61, speed=0.05) -> BrushPathSpec:
    x = x0 + np.linspace(0.0, length, n)
    return BrushPathSpec(x, np.full(n, y0), np.full(n, depth), np.linspace(0, length / speed, n))


def _refused(graph, code, path=None, msg=None, **fields) -> str:
    sent_before = len(graph.trajectories)
    result = graph.result(graph.send(path, msg=msg, **fields), 20.0)
    assert not result.success and result.error_code == code, (code, result.error_msg)
    assert result.error_msg and len(result.error_msg) < 300
    # Nothing may follow the answer: a trajectory would arrive within a moment.
    assert not graph.wait_until(lambda: len(graph.trajectories) > sent_before, 0.1)
    assert len(graph.trajectories) == sent_before, 'a refused goal moved the arm'
    return result.error_msg


@pytest.mark.timeout(120)
def test_a_path_out_of_the_ink_well_through_its_rim_is_refused_as_collision(graph):
    n = 80
    x = np.linspace(WELL_XY[0], WELL_XY[0] - 0.07, n)
    # 5 mm above the sheet from the well's centre straight out through the 29 mm rim.
    rim = BrushPathSpec(x, np.full(n, WELL_XY[1]), np.full(n, -0.005), np.linspace(0, 1.4, n))
    message = _refused(graph, Result.COLLISION, rim)
    assert 'ink well rim' in message and 'mm into' in message
    # A normal stroke still succeeds.
    result = graph.result(graph.send(_stroke()))
    assert result.success and result.error_code == Result.SUCCESS, result.error_msg


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ('fields', 'word'),
    [
        ({'time_scale': math.nan}, 'time_scale'),
        ({'time_scale': -1.0}, 'time_scale'),
        ({'time_scale': 1e6}, 'time_scale'),
        ({'approach_height_m': -0.01}, 'approach_height_m'),
        ({'approach_height_m': math.inf}, 'approach_height_m'),
        ({'retreat_height_m': 0.5}, 'retreat_height_m'),
    ],
    ids=['scale-nan', 'scale-negative', 'scale-absurd', 'approach-negative', 'approach-inf',
         'retreat-above-safe'],
)  # fmt: skip
def test_goal_fields_out_of_bounds_are_invalid_arguments(graph, fields, word):
    assert word in _refused(graph, Result.INVALID_ARGUMENT, _stroke(), **fields)


@pytest.mark.timeout(120)
def test_paths_too_long_or_not_finite_are_invalid_paths(graph):
    huge = brush_path_to_msg(_stroke(n=2))
    huge.x_m = [0.1] * 20001
    assert '20001 points' in _refused(graph, Result.INVALID_PATH, msg=huge)
    slow = _stroke(n=3)
    slow = BrushPathSpec(slow.x_m, slow.y_m, slow.pressing_depth_m, np.array([0.0, 1.0, 1000.0]))
    assert '1000 s' in _refused(graph, Result.INVALID_PATH, slow)
    nan = _stroke()
    nan.x_m[5] = math.nan
    assert 'NaN' in _refused(graph, Result.INVALID_PATH, nan)


@pytest.mark.timeout(120)
def test_lift_brush_lifts_from_the_hop_height_and_refuses_while_busy(graph):
    result = graph.result(graph.send(_stroke(y0=0.12), retreat_height_m=HOP_M))
    assert result.success, result.error_msg
    assert graph.wait_until(lambda: abs(graph.tip_z[-1] - HOP_M) < 1e-3, 5.0), graph.tip_z[-1]
    response = graph.call_lift()
    assert response.success, response.message
    assert graph.wait_until(lambda: graph.tip_z[-1] > SAFE_M - 0.002, 5.0), graph.tip_z[-1]
    assert 'lifted' in response.message or 'already' in response.message

    handle = graph.send(square_path(0.1))
    # On the paper, writing (the approach takes a second of wall time; far more when loaded).
    assert graph.wait_until(lambda: graph.tip_z[-1] < 0.0, 45.0), graph.result(handle, 1.0)
    busy = graph.call_lift()
    assert not busy.success and 'busy' in busy.message
    handle.cancel_goal_async()
    assert graph.result(handle).error_code == Result.CANCELED


@pytest.mark.timeout(180)
def test_a_brush_left_at_the_hop_height_is_lifted_by_the_idle_watchdog(graph):
    # As after a cancel between strokes, or a writer killed between them: the last goal ended
    # with its 10 mm hop retreat and no goal follows.
    result = graph.result(graph.send(_stroke(y0=0.14), retreat_height_m=HOP_M))
    assert result.success, result.error_msg
    ended = time.monotonic()
    assert graph.wait_until(lambda: abs(graph.tip_z[-1] - HOP_M) < 1e-3, 5.0), graph.tip_z[-1]
    assert graph.wait_until(lambda: graph.tip_z[-1] > SAFE_M - 0.002, IDLE_LIFT_S + 60.0), (
        f'tip still at {graph.tip_z[-1] * 1e3:.1f} mm'
    )
    # Not before the idle timeout: a writer between two strokes is not interrupted.
    assert time.monotonic() - ended > IDLE_LIFT_S - 0.5
    # A goal right after the lift is served as usual.
    result = graph.result(graph.send(_stroke(y0=0.16)))
    assert result.success, result.error_msg


@pytest.mark.timeout(120)
def test_lift_brush_without_joint_states_says_so(graph):
    # Runs last: it stops the arm.
    graph.arm.kill()
    graph.arm.wait()
    assert graph.wait_until(
        lambda: time.monotonic() - graph.server._latest.received_wall_s > 2.5, 20.0
    )
    response = graph.call_lift()
    assert not response.success and 'joint_states' in response.message
