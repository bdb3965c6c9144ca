"""Messages of the virtual paper: pose -> sample (depth = -z), image round trip."""

from __future__ import annotations

import numpy as np
import pytest
from builtin_interfaces.msg import Time

from calligraphy_sim.paper_conversions import (
    image_to_rgb,
    pose_to_sample,
    rgb_to_image,
    sample_to_pose,
)


def test_pose_depth_is_minus_z_and_stamp_is_time():
    msg = sample_to_pose(0.1, 0.2, 0.003, 12.25)
    assert msg.header.frame_id == 'paper'
    assert msg.pose.position.z == pytest.approx(-0.003)
    x, y, depth, t = pose_to_sample(msg, fallback_time_s=99.0)
    assert (x, y) == pytest.approx((0.1, 0.2))
    assert depth == pytest.approx(0.003) and t == pytest.approx(12.25)


def test_unstamped_pose_takes_the_receive_time():
    msg = sample_to_pose(0.1, 0.2, 0.003, 0.0)
    assert pose_to_sample(msg, fallback_time_s=7.5)[3] == 7.5


def test_image_round_trip_keeps_rows_top_first():
    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    rgb[0, 0] = (10, 20, 30)
    msg = rgb_to_image(rgb, Time(sec=3), 'paper')
    assert (msg.height, msg.width, msg.step, msg.encoding) == (4, 5, 15, 'rgb8')
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)
    with pytest.raises(ValueError):
        rgb_to_image(rgb.astype(np.float32), Time(), 'paper')
