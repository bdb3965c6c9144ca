"""Find the sheet in a camera image by its ArUco markers and rectify regions of it.

The homography maps paper metres (z = 0 plane) to image pixels; it is fitted to all corners of
all markers seen (16 points when the four are visible), so the sheet is registered without any
camera calibration, and lens distortion is the only unmodelled effect (undistort first where a
lens has much of it).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from calligraphy_model.raster import Region
from calligraphy_model.sheet_markers import SheetMarkers
from camera_feedback.types import MARKERS_NOT_FOUND, ObservationError


@dataclass(frozen=True)
class SheetRegistration:
    """The sheet found in one image."""

    homography: np.ndarray  # 3x3, paper (x, y, 1) metres → image (u, v, 1) pixels
    markers_found: tuple[int, ...]
    reprojection_rms_px: float

    def image_to_paper(self, uv: np.ndarray) -> np.ndarray:
        points = np.asarray(uv, dtype=np.float64).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(points, np.linalg.inv(self.homography)).reshape(-1, 2)


class MarkerDetector:
    """ArUco detection with the OpenCV ≥ 4.7 object API (`cv2.aruco.ArucoDetector`)."""

    def __init__(self, markers: SheetMarkers) -> None:
        self.markers = markers
        dictionary_id = getattr(cv2.aruco, markers.dictionary, None)
        if dictionary_id is None:
            raise ValueError(f'OpenCV has no ArUco dictionary {markers.dictionary!r}')
        dictionary = cv2.aruco.getPredefinedDictionary(dictionary_id)
        parameters = cv2.aruco.DetectorParameters()
        # Sub-pixel corners: the sheet corners are extrapolated from the marker corners, so
        # corner accuracy sets the rectification error.
        parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
        parameters.cornerRefinementWinSize = 4
        parameters.cornerRefinementMaxIterations = 50
        parameters.cornerRefinementMinAccuracy = 0.01
        # OpenCV 4.7 on refines within min(cornerRefinementWinSize, relativeCornerRefinmentWinSize
        # x the marker's module size in pixels), 0.3 by default: 1.5 px for the cell's overhead
        # camera (5 px modules), where the refinement now and then gave up and left a corner on
        # the whole pixel. Those frames registered the sheet 0.2 mm off and scored the same ink
        # 0.035 lower (2 runs of `make demo` in 11). With 0.8: 4 px, the refined corners of 30
        # frames of the sheet spread 0.11-0.13 px instead of up to 1.43 px.
        if hasattr(parameters, 'relativeCornerRefinmentWinSize'):
            parameters.relativeCornerRefinmentWinSize = 0.8
        self._detector = cv2.aruco.ArucoDetector(dictionary, parameters)

    def detect(self, grey: np.ndarray) -> dict[int, np.ndarray]:
        """Marker id → (4, 2) image corners in ArUco order, for the sheet's marker ids only."""
        corners, ids, _rejected = self._detector.detectMarkers(grey)
        found: dict[int, np.ndarray] = {}
        if ids is None:
            return found
        wanted = set(self.markers.ids)
        for marker_corners, marker_id in zip(corners, ids.reshape(-1), strict=True):
            marker_id = int(marker_id)
            # A marker seen twice (a reflection, a second print) would make the fit ambiguous.
            if marker_id in wanted and marker_id not in found:
                found[marker_id] = np.asarray(marker_corners, dtype=np.float64).reshape(4, 2)
        return found

    def register(self, grey: np.ndarray, min_markers: int = 3) -> SheetRegistration:
        """Homography of the sheet; raises ObservationError(MARKERS_NOT_FOUND) when fewer than
        `min_markers` of the sheet's markers are visible."""
        found = self.detect(grey)
        if len(found) < min_markers:
            missing = [i for i in self.markers.ids if i not in found]
            raise ObservationError(
                MARKERS_NOT_FOUND,
                f'found {len(found)} of the 4 sheet markers (need {min_markers}); missing ids '
                f'{missing} ({self.markers.dictionary}) — is the sheet in view and lit?',
            )
        truth = self.markers.marker_corners_m()
        ids = tuple(sorted(found))
        paper = np.concatenate([truth[i] for i in ids])
        image = np.concatenate([found[i] for i in ids])
        homography = fit_homography(paper, image)
        projected = cv2.perspectiveTransform(paper.reshape(-1, 1, 2), homography).reshape(-1, 2)
        rms = float(np.sqrt(np.mean(np.sum((projected - image) ** 2, axis=1))))
        return SheetRegistration(homography, ids, rms)


def fit_homography(paper_m: np.ndarray, image_px: np.ndarray) -> np.ndarray:
    """Least-squares homography paper → image; paper points are scaled to millimetres first so
    both point sets have comparable magnitudes."""
    scale = np.diag([1000.0, 1000.0, 1.0])
    homography_mm, _ = cv2.findHomography(paper_m * 1000.0, image_px, 0)
    if homography_mm is None:
        raise ObservationError(MARKERS_NOT_FOUND, 'the marker corners are degenerate')
    homography = homography_mm @ scale
    return homography / homography[2, 2]


def rectify(
    image: np.ndarray,
    homography: np.ndarray,
    region: Region,
    metres_per_pixel: float,
    interpolation: int = cv2.INTER_LINEAR,
) -> np.ndarray:
    """The region of the sheet as seen in `image`, resampled onto the region's raster."""
    rows, cols = region.shape(metres_per_pixel)
    raster_to_image = homography @ region.pixel_to_paper_matrix(metres_per_pixel)
    return cv2.warpPerspective(
        image,
        raster_to_image,
        (cols, rows),
        flags=interpolation | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
