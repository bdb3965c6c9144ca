"""Core of the camera feedback on real OpenCV and real rendered images: registration,
rectification, segmentation, scoring and stroke widths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calligraphy_model.raster import Region
from calligraphy_model.sheet_markers import SheetMarkers
from calligraphy_model.stroke_width import render_strokes
from calligraphy_sim.camera import SimCameraConfig, SimulatedCamera
from camera_feedback.blur import unblurred_width
from camera_feedback.config import ObserverConfig, SegmentationConfig
from camera_feedback.observer import PaperObserver
from camera_feedback.segmentation import ink_darkness, segment_ink
from camera_feedback.synthetic import SHEET, SHEET_MPP, line_stroke, sheet_with_strokes
from camera_feedback.types import (
    BAD_ENCODING,
    BOX_OUTSIDE_SHEET,
    MARKERS_NOT_FOUND,
    ObservationError,
)

MPP = SHEET_MPP
BOX = Region(0.10, 0.07, 0.06, 0.06)


def _disc(shape, centre, radius):
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2


# --- segmentation -------------------------------------------------------------------------------


def test_segmentation_finds_ink_under_a_strong_lighting_gradient():
    # A 60 mm box with the observer's 10 mm of context around it (320 px). The light halves
    # across it, and ink reflects 55 % of the local light, so ink on the bright side is brighter
    # than bare paper on the dark side: no global threshold can separate them.
    truth = np.zeros((320, 320), bool)
    truth[80:240, 70:86] = True
    truth[150:166, 60:260] = True
    light = np.linspace(250, 115, 320)[None, :].repeat(320, axis=0)
    image = np.where(truth, 0.55 * light, light).astype(np.uint8)
    assert image[truth].max() > image[~truth].min(), 'a global threshold would have worked'
    config = SegmentationConfig()
    mask = segment_ink(ink_darkness(image, MPP, config), MPP, config)
    box = (slice(40, 280), slice(40, 280))
    iou = (mask & truth)[box].sum() / (mask | truth)[box].sum()
    assert iou > 0.97


# --- registration and rectification -------------------------------------------------------------


@pytest.fixture(scope='module')
def camera():
    return SimulatedCamera(seed=3)


def test_sheet_corners_and_centre_rectify_within_half_a_millimetre(camera):
    observer = PaperObserver()
    registration = observer.register(camera.render())
    assert registration.markers_found == (0, 1, 2, 3)
    truth = np.array([[0, 0], [0.297, 0], [0.297, 0.21], [0, 0.21], [0.1485, 0.105]])
    seen_at = camera.config.project(truth)
    error_mm = np.linalg.norm(registration.image_to_paper(seen_at) - truth, axis=1) * 1000
    assert error_mm.max() < 0.5, error_mm


def test_ink_at_the_sheets_top_left_is_at_the_top_left_of_the_rectified_sheet(camera):
    square = line_stroke((0.040, 0.180), (0.050, 0.180), 0.010)
    observation = PaperObserver().observe(camera.render(sheet_with_strokes([square])))
    rows, cols = observation.ink_mask.shape
    assert (rows, cols) == (840, 1188)
    ink_rows, ink_cols = np.nonzero(observation.ink_mask)
    # The square, not the odd pixel of sensor noise taken for ink (about one frame in two of
    # this camera has a few, anywhere on the sheet).
    assert np.percentile(ink_rows, 99) < rows / 4 and np.percentile(ink_cols, 99) < cols / 4
    # Top of the square (y = 0.185 m) lies 25 mm = 100 px under the top edge.
    assert np.percentile(ink_rows, 1) == pytest.approx(100, abs=2)
    assert ink_cols.min() == pytest.approx((0.040 - 0.005) / MPP, abs=2)


def test_a_tilted_camera_still_registers_the_sheet():
    config = SimCameraConfig(position_m=(0.06, -0.02, 0.30), look_at_m=(0.15, 0.11, 0.0))
    tilted = SimulatedCamera(config, seed=4)
    registration = PaperObserver().register(tilted.render())
    centre = np.array([[0.1485, 0.105]])
    error_mm = np.linalg.norm(registration.image_to_paper(config.project(centre)) - centre) * 1e3
    assert error_mm < 0.5


def test_the_cells_camera_finds_every_marker_corner_to_a_fraction_of_a_pixel_in_every_frame():
    # The overhead camera where the cell has it sees the markers' modules 5 px wide. In 30 frames
    # of one blank sheet (only the sensor noise differs) each refined corner stays within 0.3 px:
    # OpenCV's default refinement window there (0.3 of a module) left a corner on the whole pixel
    # now and then, 1.4 px off, and such a frame scored the same ink 0.035 lower.
    from calligraphy_sim.camera import camera_pose_from_cell
    from camera_feedback.registration import MarkerDetector

    camera = SimulatedCamera(SimCameraConfig(**camera_pose_from_cell()), seed=0)
    detector = MarkerDetector(ObserverConfig().markers)
    sheet = camera.blank_sheet()
    corners: dict[int, list[np.ndarray]] = {}
    for _ in range(30):
        found = detector.detect(camera.render(sheet)[..., 1])
        assert sorted(found) == [0, 1, 2, 3]
        for marker_id, points in found.items():
            corners.setdefault(marker_id, []).append(points)
    for marker_id, seen in corners.items():
        spread_px = np.ptp(np.array(seen), axis=0).max()
        assert spread_px < 0.3, f'marker {marker_id}: corners spread {spread_px:.2f} px'


def test_hidden_markers_are_an_error_not_a_zero_score(camera):
    image = camera.render()
    corners = camera.config.project(np.array([[0.0, 0.21], [0.297, 0.21]]))
    # A hand over the top edge of the sheet hides both upper markers.
    image[: int(corners[:, 1].max()) + 60] = 90
    with pytest.raises(ObservationError) as error:
        PaperObserver().observe(image, BOX, target_mask=np.ones(BOX.shape(MPP), bool))
    assert error.value.code == MARKERS_NOT_FOUND
    assert 'missing ids [2, 3]' in error.value.message


def test_box_off_the_sheet_and_wrong_pixel_format_are_rejected(camera):
    observer = PaperObserver()
    with pytest.raises(ObservationError) as error:
        observer.observe(camera.render(), Region(0.27, 0.10, 0.06, 0.06))
    assert error.value.code == BOX_OUTSIDE_SHEET
    with pytest.raises(ObservationError) as error:
        observer.observe(np.zeros((720, 1280), np.float32), BOX)
    assert error.value.code == BAD_ENCODING


def test_markers_of_another_dictionary_are_not_taken_for_the_sheet(camera):
    config = ObserverConfig(markers=SheetMarkers(dictionary='DICT_5X5_50'))
    with pytest.raises(ObservationError) as error:
        PaperObserver(config).register(camera.render())
    assert error.value.code == MARKERS_NOT_FOUND


# --- widths and scores of written strokes -------------------------------------------------------

STROKES = [
    line_stroke((0.105, 0.120), (0.155, 0.120), 0.002, index=0),
    line_stroke((0.105, 0.100), (0.155, 0.085), 0.004, index=1),
    line_stroke((0.110, 0.075), (0.150, 0.075), np.linspace(0.001, 0.007, 40), index=2),
    line_stroke((0.130, 0.125), (0.130, 0.072), 0.003, index=3),
]


@pytest.mark.parametrize('ink_grey', [25, 130], ids=['full_ink', 'dry_brush_grey'])
def test_strokes_of_known_width_measure_within_0_3_mm(camera, ink_grey):
    image = camera.render(sheet_with_strokes(STROKES, ink_grey))
    target = render_strokes(STROKES, BOX, MPP)
    observation = PaperObserver().observe(image, BOX, target_mask=target, strokes=STROKES)
    for stroke in observation.strokes:
        valid = stroke.valid
        assert valid.sum() >= 20, f'stroke {stroke.stroke_index}: too few measurable points'
        assert stroke.width_error_m < 0.0003, stroke.stroke_index
        assert stroke.coverage > 0.95
    # The tapered stroke (1 → 7 mm) is seen tapering, clear of its round end caps.
    tapered = observation.strokes[2].measured_width_m
    assert tapered[4] == pytest.approx(0.001 + 0.006 * 4 / 39, abs=0.0003)
    assert tapered[-5] == pytest.approx(0.001 + 0.006 * 35 / 39, abs=0.0003)
    # The vertical stroke crosses the three others: those points are not measurable.
    assert np.isnan(observation.strokes[3].measured_width_m).sum() >= 6
    assert observation.score.iou > 0.97
    assert observation.score.chamfer_m < 0.0002


def test_lighter_ink_reads_less_dark_but_not_narrower(camera):
    dark = PaperObserver().observe(
        camera.render(sheet_with_strokes(STROKES[:1], 25)), BOX, strokes=STROKES[:1]
    )
    light = PaperObserver().observe(
        camera.render(sheet_with_strokes(STROKES[:1], 150)), BOX, strokes=STROKES[:1]
    )
    assert dark.strokes[0].darkness > 0.8
    assert 0.3 < light.strokes[0].darkness < 0.55
    assert light.strokes[0].measured_width_mean_m == pytest.approx(
        dark.strokes[0].measured_width_mean_m, abs=0.0002
    )


def test_a_stroke_not_written_measures_zero_width_and_no_coverage(camera):
    observation = PaperObserver().observe(
        camera.render(sheet_with_strokes(STROKES[:1])), BOX, strokes=STROKES[:2]
    )
    missing = observation.strokes[1]
    assert missing.coverage < 0.05
    assert np.nanmax(missing.measured_width_m) == 0.0


def test_the_synthetic_sheet_is_the_cell_sheet():
    assert SHEET.width_m == pytest.approx(0.297)


# --- the camera's blur --------------------------------------------------------------------------


def _overhead_camera(**settings) -> SimulatedCamera:
    """The cell's camera: 0.6 m above the sheet's centre, 0.65 mm of sheet per pixel."""
    from calligraphy_sim.camera import camera_pose_from_cell

    return SimulatedCamera(SimCameraConfig(**camera_pose_from_cell(), **settings), seed=11)


WIDTHS = (0.0015, 0.002, 0.003, 0.005)


def _narrow(shift_m: float = 0.0) -> list:
    return [
        line_stroke(
            (0.105, 0.080 + shift_m + 0.010 * i), (0.155, 0.080 + shift_m + 0.010 * i), w, index=i
        )
        for i, w in enumerate(WIDTHS)
    ]


def test_narrow_strokes_read_their_width_through_the_cells_blurred_camera():
    # The synthetic sheet inks whole 0.25 mm pixels: four placements a quarter pixel apart
    # average that out of the truth.
    corrected, as_seen, sigmas = [], [], []
    for k in range(4):
        strokes = _narrow(k * MPP / 4)
        image = _overhead_camera().render(sheet_with_strokes(strokes))
        observation = PaperObserver().observe(image, BOX, strokes=strokes)
        plain = PaperObserver(ObserverConfig(undo_blur=False)).observe(image, BOX, strokes=strokes)
        corrected.append([np.nanmedian(s.measured_width_m) for s in observation.strokes])
        as_seen.append([np.nanmedian(s.measured_width_m) for s in plain.strokes])
        sigmas.append(observation.blur_sigma_m)
        assert np.isnan(plain.blur_sigma_m)
    corrected, as_seen = np.mean(corrected, axis=0), np.mean(as_seen, axis=0)
    # The blur widened the 1.5 mm stroke by about a third of a millimetre; undone, every width
    # is within 0.1 mm.
    assert as_seen[0] - WIDTHS[0] > 0.00025
    np.testing.assert_allclose(corrected, WIDTHS, atol=0.0001)
    assert all(0.0003 < sigma < 0.0008 for sigma in sigmas)


def test_the_blur_is_measured_on_the_markers_and_grows_with_the_optics_blur():
    strokes = _narrow()[:1]
    sheet = sheet_with_strokes(strokes)
    sigmas = [
        PaperObserver().observe(_overhead_camera(blur_px=b).render(sheet), BOX, strokes=strokes)
        .blur_sigma_m
        for b in (0.0, 0.6, 1.2)
    ]  # fmt: skip
    assert sigmas[0] < sigmas[1] < sigmas[2]
    # 1.2 camera pixels of optics blur are 0.78 mm on the sheet, added in quadrature to the
    # pixels' own and the rectification's.
    assert math.sqrt(sigmas[2] ** 2 - sigmas[0] ** 2) == pytest.approx(0.00078, rel=0.3)


def test_blur_correction_leaves_wide_strokes_zero_and_unmeasured_points_alone():
    measured = np.array([np.nan, 0.0, 0.002, 0.010])
    corrected = unblurred_width(measured, 0.0005, MPP, 0.15)
    assert np.isnan(corrected[0]) and corrected[1] == 0.0
    assert corrected[2] < 0.002 - 0.0001  # 4 blur sigmas wide: read wider than it is
    assert corrected[3] == pytest.approx(0.010, abs=0.00002)


def test_the_blur_table_is_ready_before_the_first_observation_with_strokes():
    from camera_feedback.blur import _blur_table

    _blur_table.cache_clear()
    image = _overhead_camera().render(sheet_with_strokes(_narrow()))
    observer = PaperObserver()
    first = observer.observe(image, BOX)  # no strokes, as the cell's readiness check asks
    assert np.isnan(first.blur_sigma_m) and _blur_table.cache_info().currsize == 0
    assert 0.0003 < observer.prepare_blur_correction(image, first) < 0.0008
    built = _blur_table.cache_info().misses
    assert built == 1
    observer.observe(image, BOX, strokes=_narrow())
    assert _blur_table.cache_info().misses == built  # found ready, not built on the request
