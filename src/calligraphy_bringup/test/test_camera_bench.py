"""The camera benchmark runs and its accuracy figures meet the issue's targets (timing is only
reported, never asserted)."""

from __future__ import annotations

from calligraphy_bringup.camera_bench import TARGETS, measure_camera_accuracy


def test_quick_benchmark_meets_the_accuracy_targets():
    figures = measure_camera_accuracy(quick=True)
    assert figures['rectify_err_max_mm'] <= TARGETS['rectify_err_mm']
    assert figures['width_err_mm'] <= TARGETS['width_err_mm']
    # The camera where the cell puts it (0.6 m overhead, ~0.65 mm of sheet per pixel) still
    # measures widths within the target; the benchmark is seeded, so the figure is fixed.
    assert 0.0 < figures['width_err_mm_overhead'] <= TARGETS['width_err_mm']
    assert figures['camera_poses'] == 3
    assert figures['image_size'] == '1280x720'
