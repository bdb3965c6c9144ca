"""The conventional direction and order of stroke chains traced from a glyph's skeleton.

A stroke runs left to right, or top to bottom when steep, and a closed loop anticlockwise from
its top; strokes are ordered by the conventional rules: a horizontal before a vertical that
crosses it, left before right where they do not overlap sideways, top before bottom. Chains are
(row, col) pixel polylines, row growing downwards.
"""

from __future__ import annotations

from functools import cmp_to_key

import numpy as np

# Steeper than this (degrees from horizontal) a stroke starts at its top, else at its left.
STEEP_DEG = 30.0


def orient(chain: np.ndarray) -> np.ndarray:
    """Conventional writing direction; `chain` is (row, col) pixels (row grows downwards)."""
    if len(chain) > 2 and np.linalg.norm(chain[0] - chain[-1]) < 1.5:
        # A closed loop: start at its top, run anticlockwise on the page (as an O is written).
        top = int(np.argmin(chain[:-1, 0] * 1000 + chain[:-1, 1]))
        loop = np.vstack([chain[top:-1], chain[: top + 1]])
        area = np.sum(loop[:-1, 1] * loop[1:, 0] - loop[1:, 1] * loop[:-1, 0])
        # With rows growing downwards a positive shoelace sum is clockwise on the page.
        return loop[::-1] if area > 0 else loop
    d_row, d_col = chain[-1] - chain[0]
    steep = abs(d_row) > np.tan(np.radians(STEEP_DEG)) * abs(d_col)
    reverse = d_row < 0 if steep else d_col < 0
    return chain[::-1] if reverse else chain


def _crosses(a: np.ndarray, b: np.ndarray, tolerance: float) -> bool:
    """Whether b passes through a's interior (not just touching at an end)."""
    inner_a = a[len(a) // 6 : len(a) - len(a) // 6]
    inner_b = b[len(b) // 6 : len(b) - len(b) // 6]
    if len(inner_a) == 0 or len(inner_b) == 0:
        return False
    gaps = np.linalg.norm(inner_a[:, None, :] - inner_b[None, :, :], axis=2)
    return bool(gaps.min() <= tolerance)


def _is_horizontal(chain: np.ndarray) -> bool:
    d_row, d_col = chain[-1] - chain[0]
    return abs(d_col) > 2.0 * abs(d_row)


def _is_vertical(chain: np.ndarray) -> bool:
    d_row, d_col = chain[-1] - chain[0]
    return abs(d_row) > 2.0 * abs(d_col)


def order_strokes(chains: list[np.ndarray], box_px: int) -> list[np.ndarray]:
    """Conventional order of (row, col) chains."""
    tolerance = 0.04 * box_px

    def compare(a: np.ndarray, b: np.ndarray) -> int:
        if _crosses(a, b, 1.5):
            if _is_horizontal(a) and _is_vertical(b):
                return -1
            if _is_vertical(a) and _is_horizontal(b):
                return 1
        a_left, a_right = a[:, 1].min(), a[:, 1].max()
        b_left, b_right = b[:, 1].min(), b[:, 1].max()
        overlap = min(a_right, b_right) - max(a_left, b_left)
        narrower = max(min(a_right - a_left, b_right - b_left), 1.0)
        if overlap < 0.3 * narrower:
            return -1 if a_left < b_left else 1
        a_top, b_top = a[:, 0].min(), b[:, 0].min()
        if abs(a_top - b_top) > tolerance:
            return -1 if a_top < b_top else 1
        return -1 if a[0, 1] <= b[0, 1] else 1

    return sorted(chains, key=cmp_to_key(compare))
