"""Frame sources: files, the latest-frame buffer behind a ROS topic, RealSense with no camera."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camera_feedback.frame_sources import (
    Frame,
    ImageFileSource,
    LatestFrameSource,
    RealSenseSource,
    decode_pixels,
)
from camera_feedback.types import BAD_ENCODING, NO_IMAGE, ObservationError


def test_image_files_are_read_as_rgb_in_order(tmp_path):
    red = np.zeros((4, 6, 3), np.uint8)
    red[..., 0] = 200  # rgb: red channel first
    blue = np.zeros((4, 6, 3), np.uint8)
    blue[..., 2] = 200
    cv2.imwrite(str(tmp_path / 'a.png'), cv2.cvtColor(red, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path / 'b.png'), cv2.cvtColor(blue, cv2.COLOR_RGB2BGR))
    source = ImageFileSource([tmp_path / 'a.png', tmp_path / 'b.png'])
    assert np.array_equal(source.read().image, red)
    assert np.array_equal(source.read().image, blue)
    assert np.array_equal(source.read().image, blue), 'the last file repeats'


def test_missing_file_and_16_bit_file_give_their_codes(tmp_path):
    with pytest.raises(ObservationError) as error:
        ImageFileSource([tmp_path / 'nope.png']).read()
    assert error.value.code == NO_IMAGE
    cv2.imwrite(str(tmp_path / 'deep.png'), np.zeros((4, 4), np.uint16))
    with pytest.raises(ObservationError) as error:
        ImageFileSource([tmp_path / 'deep.png']).read()
    assert error.value.code == BAD_ENCODING


def test_latest_frame_goes_stale_when_the_camera_stops():
    now = [100.0]
    source = LatestFrameSource(max_age_s=1.0, clock=lambda: now[0])
    with pytest.raises(ObservationError, match='no camera image received yet'):
        source.read(timeout_s=0.0)
    frame = Frame(np.zeros((2, 2), np.uint8), 100.0)
    source.push(frame)
    assert source.read(timeout_s=0.0) is frame
    now[0] += 5.0
    with pytest.raises(ObservationError, match='5.0 s old') as error:
        source.read(timeout_s=0.0)
    assert error.value.code == NO_IMAGE


def test_decoding_bgr_swaps_channels_and_float_images_are_refused():
    bgr = np.array([[[10, 20, 30]]], np.uint8)
    assert decode_pixels(bgr.tobytes(), 1, 1, 3, 'bgr8').tolist() == [[[30, 20, 10]]]
    padded = np.zeros((2, 8), np.uint8)  # step 8 for 2 mono pixels per row
    padded[:, :2] = [[1, 2], [3, 4]]
    assert decode_pixels(padded.tobytes(), 2, 2, 8, 'mono8').tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ObservationError, match="'32FC1' is not supported") as error:
        decode_pixels(b'\0' * 16, 2, 2, 8, '32FC1')
    assert error.value.code == BAD_ENCODING
    with pytest.raises(ObservationError) as error:
        decode_pixels(b'\0' * 5, 2, 2, 6, 'rgb8')
    assert error.value.code == BAD_ENCODING


def test_realsense_without_a_camera_is_a_clear_no_image_error():
    rs = pytest.importorskip('pyrealsense2')
    if len(rs.context().query_devices()) > 0:
        pytest.skip('a RealSense camera is connected')
    with pytest.raises(ObservationError, match='no RealSense camera is connected') as error:
        RealSenseSource(1280, 720, 30)
    assert error.value.code == NO_IMAGE


def test_a_frame_stamped_late_enough_but_received_before_the_request_is_not_taken():
    # The reader's clock lags (simulated time from the last /clock heard): the frame already
    # held carries a stamp past the request's, but it came before the request, and so may lack
    # what was just written. Only a frame that arrives after the request is taken.
    now = [100.0]
    source = LatestFrameSource(max_age_s=5.0, clock=lambda: now[0])
    held = Frame(np.zeros((2, 2), np.uint8), 10.0)
    source.push(held)
    now[0] += 0.1
    asked = now[0]
    with pytest.raises(ObservationError, match='no camera image captured after the request'):
        source.read(timeout_s=0.0, not_before_s=9.5, received_after=asked)
    assert source.read(timeout_s=0.0, not_before_s=9.5) is held  # the stamp alone passes it
    now[0] += 0.1
    newer = Frame(np.ones((2, 2), np.uint8), 10.2)
    source.push(newer)
    assert source.read(timeout_s=0.0, not_before_s=9.5, received_after=asked) is newer
