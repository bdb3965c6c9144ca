"""Thinning of a binary image and Gaussian smoothing of a polyline, with numpy alone.

The stroke matcher aligns the stroke-order data with the glyph's bones (its thinned ink) and
smooths the matched centrelines; it runs for every character the cell writes. It used
scikit-image's `skeletonize` and SciPy's `gaussian_filter1d`, and importing them (scikit-image
pulls in scipy.ndimage, scipy.spatial and SciPy's array-API layer, 75 MB of libraries) took
about half a second of CPU, 0.8 s with a cold page cache, in the process that starts the
writer while the cell comes up. The skeleton route (glyphs without stroke-order data) still
uses scikit-image, imported where it is used.

Thinning is Guo and Hall's two-sub-iteration parallel algorithm (Z. Guo, R. W. Hall, "Parallel
thinning with two-subiteration algorithms", Communications of the ACM 32(3), 1989; conditions
as restated by Lam, Lee and Suen, IEEE PAMI 14(9), 1992): each sub-iteration decides every
pixel from the image before it, and the two alternate until neither deletes one. The tests
check it pixel for pixel against scikit-image's `thin` (the same algorithm), and the smoothing
against SciPy's `gaussian_filter1d` with mode 'nearest'.
"""

from __future__ import annotations

import numpy as np

# A pixel's eight neighbours x1..x8 counter-clockwise from east, as (row, column) offsets; bit
# k-1 of its neighbourhood code is x_k.
_RING = ((0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1))


def _deletable_tables() -> tuple[np.ndarray, np.ndarray]:
    """For each of the 256 neighbourhood codes: deletable in the first, in the second
    sub-iteration (Guo and Hall's conditions, below)."""
    first = np.zeros(256, bool)
    second = np.zeros(256, bool)
    for code in range(256):
        x = [None] + [(code >> k) & 1 for k in range(8)]  # x[1] .. x[8]
        x.append(x[1])  # x9 = x1
        # One 8-connected run of object pixels around the pixel: deleting it keeps them joined.
        crossings = sum(1 for i in (1, 2, 3, 4) if not x[2 * i - 1] and (x[2 * i] or x[2 * i + 1]))
        # Neither an end point nor an interior pixel.
        n1 = sum(x[2 * k - 1] | x[2 * k] for k in (1, 2, 3, 4))
        n2 = sum(x[2 * k] | x[2 * k + 1] for k in (1, 2, 3, 4))
        if crossings != 1 or not 2 <= min(n1, n2) <= 3:
            continue
        first[code] = ((x[2] | x[3] | (1 - x[8])) & x[1]) == 0
        second[code] = ((x[6] | x[7] | (1 - x[4])) & x[5]) == 0
    return first, second


_FIRST, _SECOND = _deletable_tables()


def thin(mask: np.ndarray) -> np.ndarray:
    """The skeleton of the 2-D binary `mask` (nonzero: object) as bool: one pixel wide,
    8-connected, with the object's 8-connected components and holes kept.

    Pixels outside the image count as background."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f'thinning needs a 2-D image, not {mask.ndim}-D')
    image = np.pad(mask != 0, 1).astype(np.uint8)
    # Only object pixels can be deleted: follow them as flat indices into the padded image.
    width = image.shape[1]
    flat = image.reshape(-1)
    neighbours = np.array([dr * width + dc for dr, dc in _RING])
    pixels = np.flatnonzero(flat)
    weights = (1 << np.arange(8)).astype(np.uint8)
    while True:
        removed = False
        for deletable in (_FIRST, _SECOND):
            code = flat[pixels[:, None] + neighbours] @ weights
            delete = deletable[code]
            if delete.any():
                flat[pixels[delete]] = 0
                pixels = pixels[~delete]
                removed = True
        if not removed:
            return image[1:-1, 1:-1].astype(bool)


def gaussian_smooth(points: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """`points` (N, D) smoothed along N by a Gaussian of `sigma` samples, cut at `truncate`
    sigmas; the first and last points are repeated beyond the ends (SciPy's mode 'nearest')."""
    points = np.asarray(points, float)
    if sigma <= 0.0 or len(points) == 0:
        return points.copy()
    radius = int(truncate * float(sigma) + 0.5)
    offsets = np.arange(-radius, radius + 1, dtype=float)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    weights /= weights.sum()
    padded = np.pad(points, [(radius, radius)] + [(0, 0)] * (points.ndim - 1), mode='edge')
    out = np.zeros_like(points)
    for k, weight in enumerate(weights):
        out += weight * padded[k : k + len(points)]
    return out
