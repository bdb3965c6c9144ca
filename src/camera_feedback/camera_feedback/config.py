"""Frozen configuration of the camera-feedback core; each dataclass validates itself."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Sheet corners in the order markers are listed: lower-left, lower-right, upper-right, upper-left.
CORNER_NAMES = ('lower_left', 'lower_right', 'upper_right', 'upper_left')


@dataclass(frozen=True)
class SheetMarkers:
    """The printed sheet: its size and the four ArUco markers printed inside its corners.

    Markers are printed upright (the marker image's top edge towards the sheet's top, +y), each
    `margin_m` from the two nearest sheet edges. `ids` name the markers at the lower-left,
    lower-right, upper-right and upper-left corners, in that order.
    """

    sheet_width_m: float = 0.297
    sheet_height_m: float = 0.210
    dictionary: str = 'DICT_4X4_50'
    ids: tuple[int, int, int, int] = (0, 1, 2, 3)
    size_m: float = 0.020
    margin_m: float = 0.005

    def __post_init__(self) -> None:
        if self.sheet_width_m <= 0 or self.sheet_height_m <= 0:
            raise ValueError('sheet size must be positive')
        if len(self.ids) != 4 or len(set(self.ids)) != 4:
            raise ValueError(f'need four distinct marker ids, got {self.ids}')
        if self.size_m <= 0 or self.margin_m < 0:
            raise ValueError('marker size must be positive and margin non-negative')
        if 2 * (self.size_m + self.margin_m) > min(self.sheet_width_m, self.sheet_height_m):
            raise ValueError('markers do not fit on the sheet')
        if not self.dictionary.startswith('DICT_'):
            raise ValueError(f'unknown ArUco dictionary {self.dictionary!r}')

    def lower_left_corners_m(self) -> np.ndarray:
        """(4, 2) lower-left corner of each marker square, paper metres, in `ids` order."""
        far_x = self.sheet_width_m - self.margin_m - self.size_m
        far_y = self.sheet_height_m - self.margin_m - self.size_m
        near = self.margin_m
        return np.array([[near, near], [far_x, near], [far_x, far_y], [near, far_y]])

    def marker_corners_m(self) -> dict[int, np.ndarray]:
        """Marker id → (4, 2) corners in paper metres, in ArUco's order (the printed marker's
        top-left, top-right, bottom-right, bottom-left)."""
        s = self.size_m
        corners = {}
        for marker_id, (x, y) in zip(self.ids, self.lower_left_corners_m(), strict=True):
            corners[marker_id] = np.array([[x, y + s], [x + s, y + s], [x + s, y], [x, y]])
        return corners


@dataclass(frozen=True)
class SegmentationConfig:
    """Ink segmentation: paper brightness is estimated locally, so uneven light cancels out."""

    # Side of the window over which paper brightness is estimated; must exceed the widest ink
    # blob, or that blob is taken for shadowed paper.
    background_window_m: float = 0.016
    # Darkness (1 − brightness / local paper brightness) below which nothing counts as ink.
    min_ink_darkness: float = 0.15
    # An ink pixel is darker than this fraction of the darkest ink within `level_window_m`: the
    # half-level edge is where a blurred ink edge truly lies, whatever the blur and however dark
    # (or dry) the ink.
    edge_level_fraction: float = 0.5
    level_window_m: float = 0.003

    def __post_init__(self) -> None:
        if self.background_window_m <= 0 or self.level_window_m <= 0:
            raise ValueError('background_window_m and level_window_m must be positive')
        if not 0.0 < self.min_ink_darkness < 1.0:
            raise ValueError(f'min_ink_darkness must lie in (0, 1), got {self.min_ink_darkness}')
        if not 0.0 < self.edge_level_fraction < 1.0:
            raise ValueError(
                f'edge_level_fraction must lie in (0, 1), got {self.edge_level_fraction}'
            )


@dataclass(frozen=True)
class ObserverConfig:
    """Everything the paper observer needs."""

    markers: SheetMarkers = field(default_factory=SheetMarkers)
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    metres_per_pixel: float = 0.00025
    # Fewest of the four markers that must be seen to register the sheet.
    min_markers: int = 3
    # Paper around the requested box that is rectified too, so background estimation has context.
    context_margin_m: float = 0.010

    def __post_init__(self) -> None:
        if not 0 < self.metres_per_pixel <= 0.005:
            raise ValueError(
                f'metres_per_pixel must lie in (0, 0.005], got {self.metres_per_pixel}'
            )
        if not 2 <= self.min_markers <= 4:
            raise ValueError(f'min_markers must be 2..4, got {self.min_markers}')
        if self.context_margin_m < 0:
            raise ValueError('context_margin_m must be non-negative')
