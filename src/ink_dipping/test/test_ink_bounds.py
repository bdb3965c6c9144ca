"""Bounds of /dip_ink goals, and the dip routine against the cell's collision model.

A wipe_count outside -1..max_wipe_count is refused with INVALID_ARGUMENT before anything moves
(1000 wipes once made a 1,615 s trajectory). The routine itself, every mode and up to the most
wipes a goal may ask for, passes the motion executor's collision check: the tip enters the well
from above and wipes on the rim's top without crossing its wall.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from rclpy.action import ActionClient
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter

from calligraphy_interfaces.action import DipInk
from calligraphy_model.cell_description import ink_well_in_paper, load_cell_yaml
from calligraphy_model.kinematics import ArmKinematics
from calligraphy_model.polling import wait_until
from ink_dipping.config import DipRoutineConfig
from ink_dipping.ink_dipping_node import InkDippingNode
from ink_dipping.routine import dip_routine, join_routine
from motion_executor.brush_motion import BrushMotionConfig, BrushPathSpec
from motion_executor.brush_motion_planner import BrushMotionPlanner
from motion_executor.collision import CellCollisionModel

Result = DipInk.Result
MAX_WIPES = 10


@pytest.mark.parametrize(('mode', 'wipes'), [('full', -1), ('quick', -1), ('full', MAX_WIPES)])
def test_the_dip_routine_keeps_clear_of_the_rim_wall_and_the_table(mode, wipes):
    cell = load_cell_yaml()
    well = ink_well_in_paper(cell)
    config = DipRoutineConfig(safe_height_m=0.045)
    collision = CellCollisionModel.from_cell_yaml(cell)
    planner = BrushMotionPlanner(
        ArmKinematics(), BrushMotionConfig(safe_height_m=0.045), collision=collision
    )
    positions = np.asarray(cell['home_positions_rad'], dtype=float)
    routine = join_routine(dip_routine(well, config, mode, wipes)).segment
    path = BrushPathSpec(
        routine.x_m, routine.y_m, routine.pressing_depth_m, routine.time_from_start_s
    )
    # As the dip node sends it, one goal; raises MotionError(COLLISION) where the routine would
    # hit the well or the table.
    plan = planner.plan(path, positions)
    clearances = collision.min_clearances(plan.tip_in_paper, plan.time_s)
    rim = collision.obstacles[0]
    # The wipe presses the tip 3 mm below the rim's top: 3 mm above the wall's checked top
    # (6 mm band), 1 mm more than the 2 mm clearance.
    assert clearances['ink well rim'] == pytest.approx(0.003, abs=2e-4)
    assert clearances['ink well rim'] > rim.clearance_m
    # The deepest soak (6 mm above the well's floor on the table) keeps clear of the table.
    assert clearances['table'] > 0.005


class _DipOnly:
    def __init__(self, context) -> None:
        self.node = InkDippingNode(
            context=context,
            parameter_overrides=[Parameter('max_wipe_count', value=MAX_WIPES)],
        )
        self.probe = Node('dip_bounds_probe', context=context)
        self.client = ActionClient(self.probe, DipInk, 'dip_ink')
        self.executor = MultiThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.executor.add_node(self.probe)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def result(self, timeout_s: float = 20.0, **goal_fields) -> DipInk.Result:
        future = self.client.send_goal_async(DipInk.Goal(**goal_fields))
        assert wait_until(future.done, timeout_s), 'goal not answered'
        result_future = future.result().get_result_async()
        assert wait_until(result_future.done, timeout_s), 'no result'
        return result_future.result().result

    def close(self) -> None:
        self.executor.shutdown()
        self.thread.join(timeout=5.0)
        self.client.destroy()
        self.node.destroy_node()
        self.probe.destroy_node()


@pytest.mark.timeout(90)
def test_a_wipe_count_out_of_bounds_is_refused_with_invalid_argument(rclpy_context):
    # No motion executor runs: a goal that got past the check would wait 10 s for one and fail
    # with EXECUTION_FAILED instead.
    dip = _DipOnly(rclpy_context)
    try:
        assert dip.client.wait_for_server(timeout_sec=20.0)
        for wipes in (1000, MAX_WIPES + 1, -2, -(2**31)):
            started = time.monotonic()
            result = dip.result(mode='full', wipe_count=wipes)
            assert not result.success and result.error_code == Result.INVALID_ARGUMENT, (
                wipes,
                result.error_msg,
            )
            assert f'-1 (the mode default) .. {MAX_WIPES}' in result.error_msg
            assert str(wipes) in result.error_msg
            assert time.monotonic() - started < 5.0
        # In bounds, the goal passes the check (and finds no motion executor here).
        result = dip.result(mode='quick', wipe_count=MAX_WIPES, timeout_s=30.0)
        assert result.error_code == Result.EXECUTION_FAILED, result.error_msg
    finally:
        dip.close()
