"""The width measurement across a centreline (moved from calligraphy_sim's brush test)."""

from __future__ import annotations

import numpy as np
import pytest

from calligraphy_model.raster import PixelGrid
from calligraphy_model.stroke_width import measure_width_along

MM = 1e-3


def test_measure_width_along_reads_a_drawn_bar():
    region = PixelGrid.from_extent(0.0, 0.0, 0.02, 0.02)
    ink = np.zeros(region.shape, dtype=np.float32)
    ink[30:46, :] = 1.0  # 16 px = 4 mm tall bar
    _, y_mid = region.pixel_centres(np.array([38]), np.array([0]))
    line = np.stack([np.linspace(0.005, 0.015, 5), np.full(5, y_mid[0])], axis=1)
    width = measure_width_along(ink, region, line)
    np.testing.assert_allclose(width, 4 * MM, atol=0.25 * MM)
    with pytest.raises(ValueError):
        measure_width_along(ink, region, np.zeros((1, 2)))
