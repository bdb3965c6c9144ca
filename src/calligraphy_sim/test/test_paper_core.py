"""The virtual sheet: a pose stream inks like the whole path; orientation, save, clear."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from calligraphy_sim.brush import BrushParams, VirtualPaper, render_path
from calligraphy_sim.paper import VirtualPaperConfig

MM = 1e-3


def _stroke(n: int = 121) -> tuple[np.ndarray, ...]:
    s = np.linspace(0.0, 1.0, n)
    x = 0.05 + 0.08 * s
    y = 0.10 + 0.012 * np.sin(2.0 * np.pi * s)
    depth = np.interp(s, [0.0, 0.1, 0.8, 1.0], [-1 * MM, 3 * MM, 2 * MM, -1 * MM])
    return x, y, depth, 2.0 * s


def _mask(paper: VirtualPaper) -> np.ndarray:
    return paper.ink > 0.3


def test_a_sparse_pose_stream_inks_the_same_stroke_as_the_whole_path():
    x, y, d, t = _stroke()
    whole = VirtualPaper(seed=4)
    whole.add_path(x, y, d, t)
    streamed = VirtualPaper(seed=4)
    # Every 4th pose only (a 15 Hz stream of a 2 s stroke): the paper interpolates between them.
    for i in range(0, len(x), 4):
        streamed.add_pose(x[i], y[i], d[i], t[i])
    a, b = _mask(whole), _mask(streamed)
    iou = np.count_nonzero(a & b) / np.count_nonzero(a | b)
    assert iou > 0.95, f'IoU {iou:.3f} between streamed and whole-path ink'
    assert streamed.ink_load == pytest.approx(whole.ink_load, abs=0.01)
    assert whole.ink_load < 0.95, 'a 8 cm stroke spent no ink'


def test_whole_path_on_the_sheet_matches_the_stroke_render():
    x, y, d, t = _stroke()
    paper = VirtualPaper(seed=9)
    paper.add_path(x, y, d, t)
    render = render_path(x, y, d, t, seed=9)
    col0 = round(render.region.x0_m / paper.metres_per_pixel)
    row0 = round((paper.region.top_m - render.region.top_m) / paper.metres_per_pixel)
    window = paper.ink[row0 : row0 + render.region.rows, col0 : col0 + render.region.cols]
    np.testing.assert_allclose(window, render.ink, atol=1e-6)
    assert paper.ink.sum() == pytest.approx(render.ink.sum(), rel=1e-5)


def test_ink_at_the_top_left_of_the_sheet_is_at_the_top_left_of_the_image(tmp_path):
    paper = VirtualPaper()
    n = 30
    paper.add_path(
        np.linspace(0.01, 0.03, n), np.full(n, 0.20), np.full(n, 2 * MM), np.linspace(0, 0.5, n)
    )
    rgb = paper.image_rgb()
    assert rgb.shape == (840, 1188, 3) and rgb.dtype == np.uint8
    dark = rgb.mean(axis=2) < 128
    rows, cols = np.nonzero(dark)
    assert rows.max() < 0.015 / 0.00025 and cols.min() > 0.008 / 0.00025
    assert cols.max() < 0.035 / 0.00025
    assert rgb[-1, -1].min() > 240, 'paper is not white'

    saved = paper.save_png(tmp_path / 'sub' / 'sheet.png')
    assert saved.is_file()
    back = cv2.cvtColor(cv2.imread(str(saved)), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(back, rgb)
    with pytest.raises(ValueError, match='png'):
        paper.save_png(tmp_path / 'sheet.jpg')


def test_clear_gives_a_blank_sheet_and_reload_refills_the_brush():
    paper = VirtualPaper(BrushParams(ink_capacity_m2=300 * MM * MM))
    x, y, d, t = _stroke()
    paper.add_path(x, y, d, t)
    low = paper.ink_load
    assert low < 0.7
    paper.clear()
    assert paper.ink.max() == 0.0
    assert paper.ink_load == low, 'clearing the sheet changed the brush'
    paper.reload(1.0)
    assert paper.ink_load == 1.0
    with pytest.raises(ValueError):
        paper.reload(1.2)


def test_a_path_off_the_sheet_is_cut_at_its_edge_and_time_going_back_restarts_the_path():
    paper = VirtualPaper()
    n = 40
    paper.add_path(
        np.linspace(-0.01, 0.01, n), np.full(n, 0.05), np.full(n, 2 * MM), np.linspace(0, 1, n)
    )
    cols = np.flatnonzero(_mask(paper).any(axis=0))
    assert cols.min() == 0 and cols.max() < 0.013 / 0.00025
    # A new stream (a restarted simulation) must not draw a line back to the old pose.
    paper = VirtualPaper()
    paper.add_pose(0.2, 0.1, 2 * MM, 5.0)
    paper.add_pose(0.1, 0.1, 2 * MM, 1.0)
    paper.add_pose(0.1, 0.1, -1 * MM, 1.1)
    cols = np.flatnonzero(_mask(paper).any(axis=0))
    between = (cols > 0.11 / 0.00025) & (cols < 0.19 / 0.00025)
    assert not between.any(), 'a line was drawn between two streams'
    assert (cols < 0.11 / 0.00025).any() and (cols > 0.19 / 0.00025).any()


def test_config_rejects_impossible_sheets():
    with pytest.raises(ValueError, match='metres_per_pixel'):
        VirtualPaperConfig(metres_per_pixel=0.0)
    with pytest.raises(ValueError, match='initial_ink_load'):
        VirtualPaperConfig(initial_ink_load=2.0)
    with pytest.raises(ValueError, match='too large'):
        VirtualPaperConfig(metres_per_pixel=1e-6)
