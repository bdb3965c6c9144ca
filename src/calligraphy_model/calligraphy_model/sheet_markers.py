"""The ArUco markers printed inside the sheet's corners: what the simulated camera prints and the
camera feedback looks for, written once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calligraphy_model.cell_description import SHEET_HEIGHT_M, SHEET_WIDTH_M
from calligraphy_model.settings import setting


@dataclass(frozen=True)
class SheetMarkers:
    """The printed sheet: its size and the four ArUco markers printed inside its corners.

    Markers are printed upright (the marker image's top edge towards the sheet's top, +y), each
    `margin_m` from the two nearest sheet edges. `ids` name the markers at the lower-left,
    lower-right, upper-right and upper-left corners, in that order.
    """

    sheet_width_m: float = SHEET_WIDTH_M
    sheet_height_m: float = SHEET_HEIGHT_M
    dictionary: str = setting('DICT_4X4_50', 'ArUco dictionary')
    ids: tuple[int, int, int, int] = setting((0, 1, 2, 3), 'LL, LR, UR, UL marker ids')
    size_m: float = setting(0.020, 'marker side', unit='m')
    margin_m: float = setting(0.005, 'edge margin', unit='m')

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
