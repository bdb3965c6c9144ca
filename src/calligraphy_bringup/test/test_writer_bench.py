"""The writer benchmark's scoring of the virtual sheet, without a cell."""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_bringup.writer_bench import INK_RGB, PAPER_RGB, sheet_ink, sheet_iou
from calligraphy_writer.config import WriterConfig
from calligraphy_writer.sheet_grid import SheetGrid
from stroke_planner import plan_character, target_mask

MPP = 0.00025


def _sheet_with_glyph(character: str, shift_px: int = 0) -> np.ndarray:
    """A virtual sheet image with the character's target glyph inked solid in the first cell."""
    config = WriterConfig()
    rows, cols = round(config.sheet_height_m / MPP), round(config.sheet_width_m / MPP)
    ink = np.zeros((rows, cols))
    box = SheetGrid(config).next_free(config.size_m)
    glyph = target_mask(plan_character(character, 'ukai', box.x_m, box.y_m, box.size_m), MPP)
    top = round((config.sheet_height_m - box.y_m - box.size_m) / MPP)
    left = round(box.x_m / MPP) + shift_px
    ink[top : top + glyph.shape[0], left : left + glyph.shape[1]] = glyph
    return np.rint(PAPER_RGB * (1 - ink[..., None]) + INK_RGB * ink[..., None]).astype(np.uint8)


def test_sheet_ink_inverts_the_virtual_papers_colours():
    rgb = np.rint(PAPER_RGB * 0.6 + INK_RGB * 0.4).astype(np.uint8)[None, None]
    assert sheet_ink(rgb)[0, 0] == pytest.approx(0.4, abs=0.01)


def test_the_target_glyph_on_the_sheet_scores_one_and_a_2_mm_shift_much_less():
    assert sheet_iou(_sheet_with_glyph('永'), '永') == pytest.approx(1.0)
    assert sheet_iou(_sheet_with_glyph('永', shift_px=8), '永') < 0.6


def test_brush_seed_simulates_the_brush_of_the_offline_evaluations_first_episode():
    from brush_policy_training.evaluation import make_episodes
    from calligraphy_bringup.write_inputs import brush_parameters, eval_brush

    assert eval_brush(7) == make_episodes('十', 1, 7)[0].params
    parameters = brush_parameters(eval_brush(7))
    assert parameters['brush.belly_diameter_m'] == eval_brush(7).belly_diameter_m
    assert isinstance(parameters['brush.bristle_count'], int)


def test_a_brush_file_outside_the_training_ranges_is_the_brush_the_virtual_paper_simulates(
    tmp_path,
):
    import os

    import rclpy
    from rclpy.context import Context
    from rclpy.parameter import Parameter

    from calligraphy_bringup.write_inputs import brush_parameters
    from calligraphy_model.brush import PARAM_RANGES, BrushParams, load_brush_file
    from calligraphy_sim.virtual_paper_node import VirtualPaperNode

    # A brush twice as wide as any the controller was trained on, with one bristle count given.
    wide = 2.0 * max(PARAM_RANGES['belly_diameter_m'])
    path = tmp_path / 'brush.yaml'
    path.write_text(f'brush:\n  belly_diameter_m: {wide}\n  bristle_count: 30\n')
    brush = load_brush_file(path)
    assert brush.belly_diameter_m == wide and brush.bristle_count == 30
    assert brush.lag_slope == BrushParams().lag_slope  # missing keys: the nominal brush's

    context = Context()
    domain = (int(os.environ.get('ROS_DOMAIN_ID', '0')) + 171) % 232
    rclpy.init(context=context, domain_id=domain)
    try:
        overrides = [Parameter(k, value=v) for k, v in brush_parameters(brush).items()]
        node = VirtualPaperNode(context=context, parameter_overrides=overrides)
        try:
            assert node.paper.params == brush
        finally:
            node.destroy_node()
    finally:
        context.try_shutdown()
        context.destroy()
