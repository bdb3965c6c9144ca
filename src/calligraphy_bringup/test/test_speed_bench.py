"""`calligraphy bench speed`: its baseline settings are parameters the nodes really declare (a
misspelt one would be ignored and the comparison would be of nothing), and its figures are the
report's robot time over the strokes written."""

from __future__ import annotations

import os

import pytest
import rclpy
from rclpy.context import Context
from rclpy.parameter import Parameter

from calligraphy_bringup.speed_bench import BEFORE, sheet_result, summarise


@pytest.mark.parametrize('node_name', sorted(BEFORE))
def test_the_baseline_settings_are_declared_parameters_that_take_effect(node_name):
    from calligraphy_bringup.graph import SIM_CELL

    spec = next(spec for spec in SIM_CELL if spec.name == node_name)
    module = __import__(spec.module, fromlist=[spec.cls])
    context = Context()
    rclpy.init(context=context, domain_id=(int(os.environ.get('ROS_DOMAIN_ID', '0')) + 103) % 232)
    try:
        overrides = [Parameter(k, value=v) for k, v in BEFORE[node_name].items()]
        node = getattr(module, spec.cls)(context=context, parameter_overrides=overrides)
        try:
            for name, value in BEFORE[node_name].items():
                assert node.has_parameter(name), f'{node_name} does not declare {name}'
                assert node.get_parameter(name).value == value
        finally:
            node.destroy_node()
    finally:
        context.try_shutdown()
        context.destroy()


def test_robot_time_per_stroke_counts_dips_and_only_characters_written():
    characters = [
        {'char': '永', 'iou': 0.8, 'strokes': 5, 'dips': 0, 'motion_time_s': 6.0,
         'writing_share': 0.5},
        {'char': '春', 'iou': 0.7, 'strokes': 9, 'dips': 1, 'motion_time_s': 15.0,
         'writing_share': 0.4},
        {'char': '秋', 'iou': None, 'strokes': 0, 'dips': 0, 'motion_time_s': 0.0,
         'writing_share': 0.0},
    ]  # fmt: skip
    figures = summarise(characters, wall_s=40.0)
    assert figures['characters'] == 2 and figures['strokes'] == 14
    assert figures['robot_s_per_stroke'] == pytest.approx(21.0 / 14, abs=1e-3)
    assert figures['writing_share'] == pytest.approx((3.0 + 6.0) / 21.0, abs=1e-3)
    assert figures['iou_mean'] == pytest.approx(0.75)
    assert figures['iou_ci95'][0] < 0.75 < figures['iou_ci95'][1]
    assert figures['dips'] == 1
    assert figures['yong_robot_s'] == 6.0 and figures['yong_iou'] == 0.8


def test_a_sheets_result_keeps_the_runs_wall_time_beside_the_reports_breakdown():
    report = {'characters': [], 'error_msg': '', 'wall_s': {'cell_start': 4.0, 'writing': 20.0}}
    result = sheet_result(report, 31.5)
    assert result['wall_s'] == 31.5 and result['error'] is None
    assert result['wall_breakdown_s'] == {'cell_start': 4.0, 'writing': 20.0}
    assert (
        summarise(result['characters'], sum(r['wall_s'] for r in [result, result]))['wall_s']
        == 63.0
    )
