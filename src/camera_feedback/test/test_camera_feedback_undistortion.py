"""Lens distortion: a real OpenCV lens model applied to a rendered sheet is undone from the
camera's calibration (camera_info's K and D) before the sheet is rectified."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from calligraphy_sim.camera import SimulatedCamera
from camera_feedback.observer import PaperObserver
from camera_feedback.synthetic import line_stroke, sheet_with_strokes
from camera_feedback.types import BAD_ENCODING
from camera_feedback.undistortion import LensModel, Undistorter, UnsupportedLensError

# A RealSense-class colour lens with stronger barrel distortion than most (k1 k2 p1 p2 k3):
# straight sheet edges bow by several pixels towards the image corners.
PLUMB_BOB = (-0.12, 0.09, 0.0008, -0.0006, -0.03)
FISHEYE = (-0.02, 0.004, -0.003, 0.0008)
# Paper points spread over the sheet (m): corners, edge midpoints, centre and points between.
PAPER_POINTS = np.array(
    [[x, y] for x in (0.01, 0.075, 0.1485, 0.222, 0.287) for y in (0.01, 0.055, 0.105, 0.155, 0.2)]
)


def _lens(camera: SimulatedCamera, model: str, d: tuple[float, ...]) -> LensModel:
    c = camera.config
    return LensModel(c.width_px, c.height_px, tuple(c.camera_matrix().reshape(-1)), model, d)


def _distort_points(pixels: np.ndarray, lens: LensModel) -> np.ndarray:
    """Where ideal (pinhole K) pixels appear through the lens."""
    k = lens.camera_matrix
    normalised = np.column_stack([pixels, np.ones(len(pixels))]) @ np.linalg.inv(k).T
    objects = normalised.reshape(-1, 1, 3)
    d = np.asarray(lens.d, dtype=float)
    if lens.distortion_model == 'equidistant':
        return cv2.fisheye.distortPoints(
            (objects[:, :, :2] / objects[:, :, 2:]).astype(np.float64), k, d
        ).reshape(-1, 2)
    zero = np.zeros(3)
    return cv2.projectPoints(objects, zero, zero, k, d)[0].reshape(-1, 2)


def _distort_image(image: np.ndarray, lens: LensModel) -> np.ndarray:
    """The image the lens makes of the ideal image: each distorted pixel samples the ideal pixel
    it comes from (OpenCV's own inverse model, undistortPoints, with P = K)."""
    rows, cols = image.shape[:2]
    grid = np.stack(np.meshgrid(np.arange(cols), np.arange(rows)), axis=-1).reshape(-1, 1, 2)
    k, d = lens.camera_matrix, np.asarray(lens.d, dtype=float)
    if lens.distortion_model == 'equidistant':
        ideal = cv2.fisheye.undistortPoints(grid.astype(np.float64), k, d, P=k)
    else:
        ideal = cv2.undistortPoints(grid.astype(np.float64), k, d, P=k)
    maps = ideal.reshape(rows, cols, 2).astype(np.float32)
    return cv2.remap(image, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)


def _errors_mm(observer: PaperObserver, image: np.ndarray, seen_at_px: np.ndarray) -> np.ndarray:
    registration = observer.register(image)
    found = registration.image_to_paper(seen_at_px)
    return np.linalg.norm(found - PAPER_POINTS, axis=1) * 1000


@pytest.fixture(scope='module')
def camera():
    return SimulatedCamera(seed=11)


@pytest.fixture(scope='module')
def sheet():
    # Along the top edge, between the upper markers, where a barrel lens bows it most.
    strokes = [line_stroke((0.05, 0.19), (0.25, 0.19), 0.004)]
    return sheet_with_strokes(strokes)


@pytest.mark.parametrize(
    ('model', 'd', 'before_min_mm'), [('plumb_bob', PLUMB_BOB, 1.0), ('equidistant', FISHEYE, 2.0)]
)
def test_undistortion_brings_the_rectified_sheet_back_within_a_tenth_of_a_millimetre(
    camera, sheet, model, d, before_min_mm
):
    lens = _lens(camera, model, d)
    ideal = camera.render(sheet)
    distorted = _distort_image(ideal, lens)
    observer = PaperObserver()
    ideal_px = camera.config.project(PAPER_POINTS)
    # Through the lens, the homography of the four markers puts sheet points millimetres off.
    before = _errors_mm(observer, distorted, _distort_points(ideal_px, lens))
    corrected = Undistorter().undistort(distorted, lens)
    after = _errors_mm(observer, corrected, ideal_px)
    reference = _errors_mm(observer, ideal, ideal_px)  # no lens at all
    print(
        f'{model}: rectification error max {before.max():.2f} mm (mean {before.mean():.2f}) '
        f'with the lens, {after.max():.2f} mm (mean {after.mean():.2f}) undistorted, '
        f'{reference.max():.2f} mm without a lens'
    )
    assert before.max() > before_min_mm
    # Measured: 1.41 / 4.85 mm max through the lens, 0.02 mm undistorted (0.02-0.03 with none).
    assert after.max() < 0.1


def test_a_straight_stroke_is_straight_again_after_undistortion(camera, sheet):
    # The stroke runs along y = 190 mm across the sheet; through a barrel lens its rectified
    # centreline bows. Measured: the spread of its centre rows across the sheet.
    lens = _lens(camera, 'plumb_bob', PLUMB_BOB)
    distorted = _distort_image(camera.render(sheet), lens)
    observer = PaperObserver()

    def bow_mm(image: np.ndarray) -> float:
        mask = observer.observe(image).ink_mask
        rows = np.arange(mask.shape[0])[:, None]
        columns = np.nonzero(mask.any(axis=0))[0][20:-20]
        centres = (rows * mask).sum(axis=0)[columns] / mask.sum(axis=0)[columns]
        return float(np.ptp(centres) * observer.config.metres_per_pixel * 1000)

    before = bow_mm(distorted)
    after = bow_mm(Undistorter().undistort(distorted, lens))
    print(f'stroke centreline bow: {before:.2f} mm with the lens, {after:.2f} mm undistorted')
    # Measured: 0.75 mm with the lens, 0.00 mm undistorted.
    assert before > 0.5
    assert after < 0.1


def test_zero_coefficients_leave_the_frame_untouched(camera):
    image = camera.render()
    lens = _lens(camera, 'plumb_bob', (0.0,) * 5)
    assert Undistorter().undistort(image, lens) is image


@pytest.mark.parametrize(
    ('model', 'd', 'message'),
    [
        ('ftheta', (0.1, 0.0, 0.0, 0.0, 0.0), "model 'ftheta' cannot be corrected"),
        ('equidistant', (0.1, 0.0, 0.0, 0.0, 0.0), 'needs 4 distortion coefficients'),
        ('plumb_bob', (0.1, 0.0, 0.0), 'needs 4 or 5 or 8 or 12 or 14'),
        ('plumb_bob', (float('nan'),) * 5, 'not finite'),
    ],
)
def test_a_calibration_that_cannot_be_corrected_is_refused_with_the_reason(
    camera, model, d, message
):
    with pytest.raises(UnsupportedLensError) as error:
        _lens(camera, model, d)
    assert error.value.code == BAD_ENCODING
    assert message in error.value.message


def test_a_frame_of_another_size_than_its_calibration_is_refused(camera):
    lens = _lens(camera, 'plumb_bob', PLUMB_BOB)
    with pytest.raises(UnsupportedLensError, match='describes 1280 x 720'):
        Undistorter().undistort(np.zeros((480, 640, 3), np.uint8), lens)
