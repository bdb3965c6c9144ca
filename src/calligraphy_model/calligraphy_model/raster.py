"""THE paper → pixel convention of the cell: every raster of the sheet follows it.

A raster covers an axis-aligned rectangle of the `paper` frame (metres; origin at the sheet's
lower-left corner, x right, y up). Row 0 is the top of the rectangle (largest paper y), column 0
its left edge (smallest x); pixel (i, j) has its centre at

    x = left + (j + 0.5)·mpp,    y = top − (i + 0.5)·mpp

so continuous (col, row) coordinates put pixel centres on integers, as OpenCV's remap, warp and
sub-pixel drawing expect. Two views of one rectangle:

- :class:`Region`: where on the sheet, in metres (the camera rectifies a region at any pitch);
- :class:`PixelGrid`: a region rasterised at one pitch, with its size in pixels (a canvas).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The evaluation resolution of EVALUATION.md: 0.25 mm per pixel.
DEFAULT_MPP = 0.00025


def paper_to_pixel(
    x_m: np.ndarray, y_m: np.ndarray, left_m: float, top_m: float, metres_per_pixel: float
) -> tuple[np.ndarray, np.ndarray]:
    """Paper (x, y) in metres → continuous (col, row), pixel centres at integers."""
    col = (np.asarray(x_m, dtype=np.float64) - left_m) / metres_per_pixel - 0.5
    row = (top_m - np.asarray(y_m, dtype=np.float64)) / metres_per_pixel - 0.5
    return col, row


def pixel_to_paper(
    rows: np.ndarray, cols: np.ndarray, left_m: float, top_m: float, metres_per_pixel: float
) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) indices → paper (x, y) of the pixel centres, metres."""
    x = left_m + (np.asarray(cols) + 0.5) * metres_per_pixel
    y = top_m - (np.asarray(rows) + 0.5) * metres_per_pixel
    return x, y


@dataclass(frozen=True)
class Region:
    """An axis-aligned rectangle of the sheet in the `paper` frame, metres."""

    x_m: float
    y_m: float
    width_m: float
    height_m: float

    def __post_init__(self) -> None:
        if not (self.width_m > 0.0 and self.height_m > 0.0):
            raise ValueError(
                f'region must have a positive size, got {self.width_m} x {self.height_m} m'
            )

    @property
    def top_m(self) -> float:
        return self.y_m + self.height_m

    def shape(self, metres_per_pixel: float) -> tuple[int, int]:
        """(rows, cols) of the raster of this region at `metres_per_pixel`."""
        return (
            max(1, round(self.height_m / metres_per_pixel)),
            max(1, round(self.width_m / metres_per_pixel)),
        )

    def grid(self, metres_per_pixel: float) -> PixelGrid:
        """This region rasterised at `metres_per_pixel` (size rounded to whole pixels)."""
        rows, cols = self.shape(metres_per_pixel)
        return PixelGrid(self.x_m, self.y_m, rows, cols, metres_per_pixel)

    def paper_to_pixel(self, xy: np.ndarray, metres_per_pixel: float) -> np.ndarray:
        """Paper points (..., 2) → continuous (col, row) raster coordinates (..., 2)."""
        xy = np.asarray(xy, dtype=np.float64)
        col, row = paper_to_pixel(xy[..., 0], xy[..., 1], self.x_m, self.top_m, metres_per_pixel)
        return np.stack([col, row], axis=-1)

    def pixel_to_paper_matrix(self, metres_per_pixel: float) -> np.ndarray:
        """3x3 matrix taking homogeneous raster (col, row, 1) to paper (x, y, 1)."""
        return np.array(
            [
                [metres_per_pixel, 0.0, self.x_m + 0.5 * metres_per_pixel],
                [0.0, -metres_per_pixel, self.top_m - 0.5 * metres_per_pixel],
                [0.0, 0.0, 1.0],
            ]
        )

    def expanded(self, margin_m: float) -> Region:
        return Region(
            self.x_m - margin_m,
            self.y_m - margin_m,
            self.width_m + 2.0 * margin_m,
            self.height_m + 2.0 * margin_m,
        )

    def contains(self, other: Region, tolerance_m: float = 1e-9) -> bool:
        return (
            other.x_m >= self.x_m - tolerance_m
            and other.y_m >= self.y_m - tolerance_m
            and other.x_m + other.width_m <= self.x_m + self.width_m + tolerance_m
            and other.y_m + other.height_m <= self.y_m + self.height_m + tolerance_m
        )


@dataclass(frozen=True)
class PixelGrid:
    """A rectangle of the paper frame rasterised at ``metres_per_pixel`` (a canvas's place).

    Attributes:
        x0_m, y0_m: lower-left corner in the paper frame (m).
        rows, cols: raster size (pixels); row 0 is the top edge.
        metres_per_pixel: pixel pitch (m/px).
    """

    x0_m: float
    y0_m: float
    rows: int
    cols: int
    metres_per_pixel: float = DEFAULT_MPP

    def __post_init__(self) -> None:
        if self.rows < 1 or self.cols < 1:
            raise ValueError(f'a canvas needs at least one pixel, got {self.rows}x{self.cols}')
        if not self.metres_per_pixel > 0.0:
            raise ValueError(f'metres_per_pixel must be positive, got {self.metres_per_pixel}')

    @classmethod
    def from_extent(
        cls, x0_m: float, y0_m: float, width_m: float, height_m: float, mpp: float = DEFAULT_MPP
    ) -> PixelGrid:
        """The grid covering width_m x height_m from its lower-left corner (rounded)."""
        return cls(x0_m, y0_m, max(1, round(height_m / mpp)), max(1, round(width_m / mpp)), mpp)

    @property
    def top_m(self) -> float:
        """Paper y of the grid's top edge (m)."""
        return self.y0_m + self.rows * self.metres_per_pixel

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    @property
    def region(self) -> Region:
        """The rectangle of the sheet this grid covers."""
        mpp = self.metres_per_pixel
        return Region(self.x0_m, self.y0_m, self.cols * mpp, self.rows * mpp)

    def to_pixel(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Paper (x, y) in metres -> (column, row) as floats, pixel centres at integers."""
        return paper_to_pixel(x_m, y_m, self.x0_m, self.top_m, self.metres_per_pixel)

    def pixel_centres(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) indices -> paper (x, y) of the pixel centres (m)."""
        return pixel_to_paper(rows, cols, self.x0_m, self.top_m, self.metres_per_pixel)
