"""The calibration of a cell, step by step, over a small port onto the cell (no ROS).

`calibrate_cell(port, ...)` runs, with what any cell offers (brush paths in the nominal `paper`
frame, camera frames, a dip) and nothing else:

1. the sheet as it lies, before anything is written: its pose from the markers at the nominal
   height (camera_feedback.sheet_calibration explains how the extrinsics enter);
2. touching down: a coarse row of dabs from well above to well below the nominal surface, then a
   fine row inside the bracket it found; the sheet's height is where ink starts;
3. the pose again, the corners now intersected with the measured height;
4. the width curve: after a dip, straight strokes at chosen true depths (commanded depth =
   true depth − measured height), each measured by its integrated darkening across (the ink's
   width × its darkness) divided by the ink's darkness, read off the plateau of the two widest
   strokes written first and last (the ink thins as the brush spends it) and interpolated
   between them by the ink laid; brush_calibration's width law is fitted to those widths.

The port (`CalibrationPort`) is what a node or the CLI implements: `calligraphy calibrate`
implements it on the cell's ROS actions and camera topic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from calligraphy_model.brush import BrushParams
from calligraphy_model.sheet_markers import SheetMarkers
from camera_feedback.brush_calibration import WidthCurve, fit_width_points
from camera_feedback.registration import MarkerDetector, fit_homography
from camera_feedback.sheet_calibration import (
    MARKERS_NOT_SEEN,
    PATTERN_NOT_MEASURABLE,
    CalibrationError,
    CameraModel,
    SheetPose,
    contact_bracket,
    ink_area_m2,
    pose_from_cell_entry,
    sample_window,
    sheet_pose_from_markers,
)

_PITCH_M = 0.00025  # sampling pitch of the ink windows on the sheet


@dataclass(frozen=True)
class TipPath:
    """A timed brush-tip path in the nominal `paper` frame (depth d > 0 presses in)."""

    x_m: np.ndarray
    y_m: np.ndarray
    depth_m: np.ndarray
    t_s: np.ndarray


class CalibrationPort(Protocol):
    """What the calibration needs from a cell."""

    camera: CameraModel

    def capture(self, frames: int) -> list[np.ndarray]:
        """`frames` camera images (uint8 rgb or grey), all taken after every path so far."""

    def execute(self, path: TipPath) -> None:
        """Write one path (approach and retreat at the cell's safe height); raise on failure."""

    def dip(self) -> None:
        """Reload the brush with ink."""


@dataclass(frozen=True)
class CalibrationSettings:
    """Where and how the calibration writes (nominal `paper` frame, m)."""

    contact_row_m: tuple[float, float] = (0.05, 0.03)  # first dab of the coarse row
    coarse_depths_m: tuple[float, ...] = tuple(np.round(np.arange(-2.8, 2.81, 0.4) * 1e-3, 6))
    fine_step_m: float = 0.00005
    dab_length_m: float = 0.003
    dab_pitch_m: float = 0.011
    hover_depth_m: float = -0.005  # between dabs, above the highest sheet searched
    ink_threshold_m2: float = 4e-7  # integrated darkening of a dab that touched
    pattern_origin_m: tuple[float, float] = (0.235, 0.175)  # first stroke, right of the rows
    pattern_length_m: float = 0.020
    pattern_pitch_m: float = 0.013
    # True pressing depths of the width pattern; the first and last are the ink references.
    pattern_depths_m: tuple[float, ...] = (
        0.004, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004,
    )  # fmt: skip
    speed_m_s: float = 0.01
    # Where the brush waits while the camera looks (nominal `paper`, m; depth < 0 is above the
    # sheet): below the sheet's lower edge, towards the robot, where the arm hides none of the
    # markers, dab rows or width pattern from the reference cell's camera above the sheet (at the
    # arm's home pose it hid the rows and a marker). Measured with calligraphy_sim.arm_view.
    clear_view_m: tuple[float, float] = (0.1485, -0.05)
    clear_view_depth_m: float = -0.01
    # The paper's bleed beyond the footprint (the nominal paper's: BrushParams defaults), taken
    # off the seen widths so that the brush file holds the footprint the simulator and the
    # controller's width law expect.
    paper_spread_m: float = BrushParams().paper_spread_m
    wick_m_per_sqrt_s: float = BrushParams().wick_m_per_sqrt_s
    frames: int = 3
    markers: SheetMarkers = field(default_factory=SheetMarkers)


@dataclass
class CalibrationResult:
    """What the calibration measured (base_link sheet pose, height above nominal, width law)."""

    sheet: SheetPose
    contact_offset_m: float
    curve: WidthCurve
    width_rms_m: float
    widths: list[tuple[float, float]]  # (true depth, measured width), m
    details: dict


def segments_path(
    segments: Sequence[tuple[tuple[float, float], tuple[float, float], float]],
    hover_depth_m: float,
    speed_m_s: float,
    dt_s: float = 0.02,
) -> TipPath:
    """One path through `segments` (start, end, depth): down at each start, along at the depth,
    up at the end, through the air at hover depth to the next start."""
    corners = []
    for start, end, depth in segments:
        corners += [(*start, hover_depth_m), (*start, depth), (*end, depth), (*end, hover_depth_m)]
    points = np.asarray(corners, dtype=np.float64)
    lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
    pieces = [points[:1]]
    for a, b, length in zip(points[:-1], points[1:], lengths, strict=True):
        steps = max(1, int(np.ceil(length / speed_m_s / dt_s)))
        pieces.append(a + (b - a) * (np.arange(1, steps + 1) / steps)[:, None])
    dense = np.concatenate(pieces)
    t = np.arange(len(dense)) * dt_s
    return TipPath(dense[:, 0], dense[:, 1], dense[:, 2], t)


def _look(port: CalibrationPort, settings: CalibrationSettings) -> list[np.ndarray]:
    """Move the brush out of the camera's way, then capture the settings' frames."""
    x, y = settings.clear_view_m
    port.execute(
        TipPath(np.array([x]), np.array([y]), np.array([settings.clear_view_depth_m]), np.zeros(1))
    )
    return port.capture(settings.frames)


def footprint_from_seen(seen_width_m: float, settings: CalibrationSettings) -> float:
    """The footprint width under an ink band `seen_width_m` wide, written at the settings' speed
    by a full brush: the band is wider by the bleed on both sides, spread + wick·√dwell, where a
    point of the paper stays under the moving footprint for dwell ≈ width / (2·speed) (the
    brush physics' law, calligraphy_sim.brush_model). Solved by fixed-point iteration."""
    width = seen_width_m
    for _ in range(5):
        dwell = min(max(width, 0.0) / (2.0 * settings.speed_m_s), 2.0)
        bleed = settings.paper_spread_m + settings.wick_m_per_sqrt_s * dwell**0.5
        width = seen_width_m - 2.0 * bleed
    return width


class _Sheet:
    """The sheet seen in one set of frames: the mean image, its registration, its corners."""

    def __init__(self, frames: list[np.ndarray], detector: MarkerDetector) -> None:
        grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) if f.ndim == 3 else f for f in frames]
        self.image = np.mean(np.stack(grey).astype(np.float32), axis=0)
        self.corners = detector.detect(np.clip(np.rint(self.image), 0, 255).astype(np.uint8))
        ids = sorted(self.corners)
        if len(ids) < 3:
            raise CalibrationError(
                MARKERS_NOT_SEEN,
                f"the camera sees {len(ids)} of the sheet's 4 markers (need 3; "
                f'{detector.markers.dictionary} ids {list(detector.markers.ids)}): is the sheet '
                'under the camera and lit?',
            )
        truth = detector.markers.marker_corners_m()
        self.homography = fit_homography(
            np.concatenate([truth[i] for i in ids]), np.concatenate([self.corners[i] for i in ids])
        )

    def window(self, centre, direction, length_m, half_width_m) -> np.ndarray:
        return sample_window(
            self.image, self.homography, centre, direction, length_m, half_width_m, _PITCH_M
        )


def _dab_ink(before: _Sheet, after: _Sheet, landed: np.ndarray, length_m: float) -> float:
    """Integrated darkening around one dab (landed start, end in the sheet's frame)."""
    start, end = landed
    direction = end - start
    centre = 0.5 * (start + end)
    # Generous along the dab (the bristles trail behind and land before the holder) but narrow
    # across, so the neighbouring dab stays out.
    window_before = before.window(centre, direction, length_m + 0.006, 0.004)
    window_after = after.window(centre, direction, length_m + 0.006, 0.004)
    return ink_area_m2(1.0 - window_after / np.maximum(window_before, 1.0), _PITCH_M)


def _contact_row(
    port: CalibrationPort,
    settings: CalibrationSettings,
    depths: Sequence[float],
    row_start: tuple[float, float],
    sheet: SheetPose,
    nominal: np.ndarray,
    before: _Sheet,
    detector: MarkerDetector,
) -> tuple[list[bool], list[float], _Sheet]:
    x0, y0 = row_start
    segments = [
        (
            (x0 + i * settings.dab_pitch_m, y0),
            (x0 + i * settings.dab_pitch_m, y0 + settings.dab_length_m),
            d,
        )  # noqa: E501
        for i, d in enumerate(depths)
    ]
    port.execute(segments_path(segments, settings.hover_depth_m, settings.speed_m_s))
    after = _Sheet(_look(port, settings), detector)
    areas = []
    for start, end, _ in segments:
        landed = sheet.to_paper(nominal, np.array([start, end]))
        areas.append(_dab_ink(before, after, landed, settings.dab_length_m))
    return [a >= settings.ink_threshold_m2 for a in areas], areas, after


def calibrate_cell(
    port: CalibrationPort,
    base_from_nominal_paper: np.ndarray,
    settings: CalibrationSettings | None = None,
    on_stage: Callable[[str, int, int], None] | None = None,
) -> CalibrationResult:
    """Measure the sheet's pose and height and the brush's width law (see module).

    `on_stage(stage, step, steps)` is told where the calibration is: stage `sheet` (the markers),
    `contact` (touching down: step 0 the coarse row, then each fine row, of 4) and `width` (the
    dip and the pattern). Raises CalibrationError (markers not seen, no contact, pattern not
    measurable); the port's own errors (and `on_stage`'s) pass through."""
    s = settings or CalibrationSettings()
    report = on_stage or (lambda stage, step, steps: None)
    report('sheet', 0, 1)
    detector = MarkerDetector(s.markers)
    nominal = np.asarray(base_from_nominal_paper, dtype=np.float64)
    nominal_z = float(nominal[2, 3])

    blank = _Sheet(_look(port, s), detector)
    first = sheet_pose_from_markers(blank.corners, s.markers, port.camera, nominal_z)

    coarse = list(s.coarse_depths_m)
    report('contact', 0, 4)
    inked, coarse_areas, after = _contact_row(
        port, s, coarse, s.contact_row_m, first, nominal, blank, detector
    )
    contact_seen: dict = {'coarse_depths_m': coarse, 'coarse_ink_m2': coarse_areas}
    low, high, fine, fine_areas = math.nan, math.nan, [], []
    try:
        clean, touched = contact_bracket(coarse, inked)
        # The fine row: the coarse bracket in fine steps, one step beyond it on either side; a
        # row that finds the contact outside (a coarse dab misread) moves a coarse step that way.
        for attempt in range(3):
            fine = list(np.round(np.arange(clean - s.fine_step_m, touched + 1.5 * s.fine_step_m,
                                           s.fine_step_m), 7))  # fmt: skip
            row = (s.contact_row_m[0], s.contact_row_m[1] + 0.01 * (attempt + 1))
            report('contact', attempt + 1, 4)
            fine_inked, fine_areas, after = _contact_row(
                port, s, fine, row, first, nominal, after, detector
            )
            contact_seen.update(fine_depths_m=fine, fine_ink_m2=fine_areas)
            if all(fine_inked) or not any(fine_inked):
                step = touched - clean
                shift = -step if all(fine_inked) else step
                clean, touched = clean + shift, touched + shift
                continue
            low, high = contact_bracket(fine, fine_inked)
            break
        else:
            low, high = contact_bracket(fine, fine_inked)  # raises with the reason
    except CalibrationError as error:
        error.details = contact_seen
        raise
    contact_depth = 0.5 * (low + high)
    offset = -contact_depth  # the sheet lies this much above nominal
    sheet = sheet_pose_from_markers(blank.corners, s.markers, port.camera, nominal_z + offset)

    report('width', 0, 1)
    port.dip()
    before = after
    x0, y0 = s.pattern_origin_m
    segments = [
        ((x0, y0 - i * s.pattern_pitch_m), (x0 + s.pattern_length_m, y0 - i * s.pattern_pitch_m),
         depth - offset)
        for i, depth in enumerate(s.pattern_depths_m)
    ]  # fmt: skip
    port.execute(segments_path(segments, s.hover_depth_m, s.speed_m_s))
    after = _Sheet(_look(port, s), detector)
    integrals, plateaus = [], []
    for start, end, _ in segments:
        landed = sheet.to_paper(nominal, np.array([start, end]))
        centre, direction = landed.mean(axis=0), landed[1] - landed[0]
        middle = 0.4 * s.pattern_length_m
        ink = 1.0 - after.window(centre, direction, middle, 0.006) / np.maximum(
            before.window(centre, direction, middle, 0.006), 1.0
        )
        profile = ink.mean(axis=0)  # across the stroke
        integrals.append(float(profile.sum()) * _PITCH_M)  # darkness × width, m
        plateaus.append(float(np.max(cv2.GaussianBlur(profile[None, :], (0, 0), 1.0))))
    # Ink darkness: the references' plateaus, interpolated by the ink laid before each stroke.
    laid = np.concatenate([[0.0], np.cumsum(integrals)[:-1]])
    darkness = np.interp(laid, [laid[0], laid[-1]], [plateaus[0], plateaus[-1]])
    if min(plateaus[0], plateaus[-1]) < 0.2:
        raise CalibrationError(
            PATTERN_NOT_MEASURABLE,
            f"the width pattern's reference strokes are barely dark ({plateaus[0]:.2f}, "
            f'{plateaus[-1]:.2f} of full black): is the brush inked?',
        )
    seen = [integral / dark for integral, dark in zip(integrals, darkness, strict=True)]
    widths = [footprint_from_seen(w, s) for w in seen]
    try:
        curve, rms = fit_width_points(list(s.pattern_depths_m), widths, outlier_m=0.0001)
    except ValueError as error:
        raise CalibrationError(PATTERN_NOT_MEASURABLE, f'width pattern: {error}') from None
    return CalibrationResult(
        sheet=sheet,
        contact_offset_m=offset,
        curve=curve,
        width_rms_m=rms,
        widths=list(zip(s.pattern_depths_m, widths, strict=True)),
        details={
            **contact_seen,
            'seen_widths_m': seen,
            'sheet_at_nominal_height': first.__dict__,
            'contact_bracket_m': [low, high],
            'pattern_darkness': plateaus,
            'nominal_sheet': pose_from_cell_entry(nominal).__dict__,
        },
    )
