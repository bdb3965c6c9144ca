"""Width as a function of pressing depth, and its inverse (what `analytic` does point by point).

The width law is the model core's; here a width curve is tabulated once on a dense depth grid
so that any monotone model, however nonlinear, inverts by interpolation in microseconds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class TabulatedWidthModel:
    """A monotone width(depth) curve sampled on a grid, with its inverse depth(width)."""

    def __init__(self, depth_m: np.ndarray, width_m: np.ndarray) -> None:
        depth_m = np.asarray(depth_m, dtype=np.float64)
        width_m = np.asarray(width_m, dtype=np.float64)
        if depth_m.shape != width_m.shape or depth_m.ndim != 1 or depth_m.size < 2:
            raise ValueError('depth and width tables must be 1-D arrays of the same length >= 2')
        if np.any(np.diff(depth_m) <= 0.0):
            raise ValueError('depth table must be strictly increasing')
        # A physical width curve never shrinks with depth; the running maximum removes numeric
        # wiggles so that the inverse stays a function.
        self.depth_m = depth_m
        self.width_m = np.maximum.accumulate(width_m)

    @classmethod
    def from_function(
        cls, width_of_depth: Callable[[np.ndarray], np.ndarray], max_depth_m: float, n: int = 513
    ) -> TabulatedWidthModel:
        depth = np.linspace(0.0, max_depth_m, n)
        return cls(depth, np.asarray(width_of_depth(depth), dtype=np.float64))

    @property
    def max_width_m(self) -> float:
        return float(self.width_m[-1])

    @property
    def min_width_m(self) -> float:
        return float(self.width_m[0])

    def width(self, depth_m: np.ndarray | float) -> np.ndarray:
        return np.interp(depth_m, self.depth_m, self.width_m)

    def depth_for_width(self, width_m: np.ndarray | float) -> np.ndarray:
        """Shallowest depth giving `width_m`, clipped to the tabulated range."""
        # np.interp needs strictly increasing x: keep the first depth of each width plateau.
        widths, first = np.unique(self.width_m, return_index=True)
        if widths.size < 2:
            return np.full_like(np.asarray(width_m, dtype=np.float64), self.depth_m[0])
        return np.interp(width_m, widths, self.depth_m[first])


def nominal_width_model(max_depth_m: float) -> TabulatedWidthModel:
    """The nominal brush's width(depth) up to `max_depth_m`, tabulated for inversion."""
    from calligraphy_model.brush import BrushParams

    return TabulatedWidthModel.from_function(BrushParams().width_at_depth, max_depth_m)
