"""One look at the paper: camera frame → sheet registration → rectified box → ink → scores."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from calligraphy_model.raster import Region
from calligraphy_model.scoring import score_masks
from calligraphy_model.stroke_width import measure_strokes
from calligraphy_model.types import GlyphScore, StrokeSpec
from camera_feedback.blur import correction_table, estimate_blur_sigma_m, unblurred
from camera_feedback.config import ObserverConfig
from camera_feedback.registration import MarkerDetector, SheetRegistration, rectify
from camera_feedback.segmentation import ink_darkness, segment_ink, to_grey
from camera_feedback.types import (
    BAD_ENCODING,
    BOX_OUTSIDE_SHEET,
    NO_IMAGE,
    Observation,
    ObservationError,
)

# Paper kept clear around each printed marker when ink is segmented (the markers are not ink).
_MARKER_QUIET_ZONE_M = 0.002
# Band along the sheet's edges where the table shows through the blur: never ink.
_SHEET_EDGE_BAND_M = 0.002


class PaperObserver:
    """Registers the sheet in camera frames and measures the ink in a region of it."""

    def __init__(self, config: ObserverConfig | None = None) -> None:
        self.config = config or ObserverConfig()
        self._detector = MarkerDetector(self.config.markers)
        markers = self.config.markers
        self.sheet = Region(0.0, 0.0, markers.sheet_width_m, markers.sheet_height_m)

    def register(self, image: np.ndarray) -> SheetRegistration:
        """The sheet's homography in `image` (uint8 rgb (H, W, 3) or mono (H, W))."""
        _check_image(image)
        grey = image if image.ndim == 2 else to_grey(image).astype(np.uint8)
        return self._detector.register(grey, self.config.min_markers)

    def observe(
        self,
        image: np.ndarray,
        box: Region | None = None,
        target_mask: np.ndarray | None = None,
        strokes: Sequence[StrokeSpec] = (),
        registration: SheetRegistration | None = None,
    ) -> Observation:
        """Rectify `box` (None = the whole sheet), segment its ink and score it.

        Args:
            image: camera frame, uint8 rgb (H, W, 3) or mono (H, W).
            box: region of the sheet to observe, paper metres.
            target_mask: bool raster of the box at the configured resolution (the target glyph);
                None = no glyph score.
            strokes: the planned strokes written so far; each is measured along its centreline.
            registration: reuse a registration of this frame instead of detecting markers again.
        """
        mpp = self.config.metres_per_pixel
        region = box or self.sheet
        if not self.sheet.contains(region, tolerance_m=0.5 * mpp):
            raise ObservationError(
                BOX_OUTSIDE_SHEET,
                f'box x={region.x_m:.4f} y={region.y_m:.4f} size {region.width_m:.4f} x '
                f'{region.height_m:.4f} m is not inside the {self.sheet.width_m} x '
                f'{self.sheet.height_m} m sheet',
            )
        if target_mask is not None and target_mask.shape != region.shape(mpp):
            raise ValueError(
                f'target mask is {target_mask.shape}, the box raster is {region.shape(mpp)}'
            )
        registration = registration or self.register(image)

        context = _clip_to(region.expanded(self.config.context_margin_m), self.sheet, mpp)
        rectified_context = rectify(image, registration.homography, context, mpp)
        darkness_context = ink_darkness(rectified_context, mpp, self.config.segmentation)
        ink_context = segment_ink(darkness_context, mpp, self.config.segmentation)
        ink_context &= ~self._not_ink_mask(context)

        rows, cols = region.shape(mpp)
        top = int(round((context.y_m + context.height_m - region.y_m - region.height_m) / mpp))
        left = int(round((region.x_m - context.x_m) / mpp))
        window = (slice(top, top + rows), slice(left, left + cols))
        ink_mask = ink_context[window]
        rectified = rectified_context[window]
        if rectified.ndim == 2:
            rectified = np.repeat(rectified[..., None], 3, axis=2)

        blur_sigma_m = math.nan
        if strokes:
            blur_sigma_m = self._blur_sigma(
                image, registration.homography, registration.markers_found
            )
        ink_threshold = self.config.segmentation.min_ink_darkness
        measured = measure_strokes(
            darkness_context, ink_context, context, mpp, strokes, ink_threshold
        )
        if math.isfinite(blur_sigma_m):
            measured = unblurred(measured, blur_sigma_m, mpp, ink_threshold)
        score = (
            score_masks(target_mask, ink_mask, mpp, measured)
            if target_mask is not None
            else GlyphScore()
        )
        return Observation(
            region=region,
            metres_per_pixel=mpp,
            rectified=np.ascontiguousarray(rectified),
            darkness=np.ascontiguousarray(darkness_context[window]),
            ink_mask=np.ascontiguousarray(ink_mask),
            score=score,
            strokes=measured,
            homography=registration.homography,
            markers_found=registration.markers_found,
            reprojection_rms_px=registration.reprojection_rms_px,
            blur_sigma_m=blur_sigma_m,
        )

    def prepare_blur_correction(self, image: np.ndarray, observation: Observation) -> float:
        """Build the blur-correction table for the blur of `image` (already observed as
        `observation`), so that the next observation with strokes does not: it takes 40-70 ms
        alone, longer beside a camera rendering in the same process. The blur's sigma (m), NaN
        when not measurable or the correction is off."""
        sigma = self._blur_sigma(image, observation.homography, observation.markers_found)
        if math.isfinite(sigma):
            correction_table(
                sigma, self.config.metres_per_pixel, self.config.segmentation.min_ink_darkness
            )
        return sigma

    def _blur_sigma(self, image: np.ndarray, homography: np.ndarray, markers_found) -> float:
        """The blur of `image` measured on the markers found (NaN: undo_blur off, or no
        usable edge)."""
        if not self.config.undo_blur:
            return math.nan
        return estimate_blur_sigma_m(
            image, homography, self.config.markers, markers_found, self.config.metres_per_pixel
        )

    def _not_ink_mask(self, region: Region) -> np.ndarray:
        """bool raster of `region`: what is dark but never ink — the printed markers with their
        quiet zone, and the sheet's edge band."""
        mpp = self.config.metres_per_pixel
        rows, cols = region.shape(mpp)
        mask = np.zeros((rows, cols), bool)

        def paint(x0: float, y0: float, x1: float, y1: float) -> None:
            top = int(np.floor((region.y_m + region.height_m - y1) / mpp))
            bottom = int(np.ceil((region.y_m + region.height_m - y0) / mpp))
            left = int(np.floor((x0 - region.x_m) / mpp))
            right = int(np.ceil((x1 - region.x_m) / mpp))
            mask[max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)] = True

        quiet, size = _MARKER_QUIET_ZONE_M, self.config.markers.size_m
        for x, y in self.config.markers.lower_left_corners_m():
            paint(x - quiet, y - quiet, x + size + quiet, y + size + quiet)
        band, width, height = _SHEET_EDGE_BAND_M, self.sheet.width_m, self.sheet.height_m
        paint(-1.0, -1.0, width + 1.0, band)
        paint(-1.0, height - band, width + 1.0, height + 1.0)
        paint(-1.0, -1.0, band, height + 1.0)
        paint(width - band, -1.0, width + 1.0, height + 1.0)
        return mask


def _clip_to(region: Region, bounds: Region, mpp: float) -> Region:
    """`region` ∩ `bounds`, with the lower-left corner snapped so rasters stay pixel-aligned with
    the unclipped region."""
    x0 = max(region.x_m, bounds.x_m)
    y0 = max(region.y_m, bounds.y_m)
    x1 = min(region.x_m + region.width_m, bounds.x_m + bounds.width_m)
    y1 = min(region.y_m + region.height_m, bounds.y_m + bounds.height_m)
    # Keep whole pixels relative to the original region so the box crops out exactly.
    x0 = region.x_m + np.floor((x0 - region.x_m) / mpp + 1e-6) * mpp
    y1 = (
        region.y_m
        + region.height_m
        - np.floor((region.y_m + region.height_m - y1) / mpp + 1e-6) * mpp
    )
    width = np.ceil((x1 - x0) / mpp - 1e-6) * mpp
    height = np.ceil((y1 - y0) / mpp - 1e-6) * mpp
    return Region(float(x0), float(y1 - height), float(width), float(height))


def _check_image(image: np.ndarray) -> None:
    if image is None or getattr(image, 'size', 0) == 0:
        raise ObservationError(NO_IMAGE, 'no camera image')
    if image.dtype != np.uint8 or not (
        image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)
    ):
        raise ObservationError(
            BAD_ENCODING,
            f'expected an 8-bit rgb or mono image, got dtype {image.dtype} shape {image.shape}',
        )
