"""Stroke-order data (hanzi-writer-data / Make Me a Hanzi): loading and box conversions.

The data gives, per character, one outline and one median polyline per stroke, in writing
order, in a 1024-unit box (y up, top at 900, bottom at -124). It was extracted from AR PL Kaiti
glyphs, close to but not exactly AR PL UKai's (the data's filled outlines overlap the UKai glyph
with IoU ≈ 0.82 as given); stroke_match maps it onto the glyph of whatever font is asked for.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

DATA_UNITS = 1024.0
DATA_TOP = 900.0
_TOKEN = re.compile(r'[MLQCZ]|-?\d+(?:\.\d+)?')
_CURVE_STEPS = 6


@dataclass(frozen=True)
class StrokeData:
    """One character's stroke-order data in normalised box coordinates (0..1, y up)."""

    character: str
    outlines: tuple[np.ndarray, ...]  # one closed polygon per stroke
    medians: tuple[np.ndarray, ...]  # one polyline per stroke, writing direction


def data_dir() -> Path:
    """The hanzi-writer-data directory: $HANZI_WRITER_DATA_DIR, else the workspace's .deps."""
    env = os.environ.get('HANZI_WRITER_DATA_DIR')
    if env:
        return Path(env)
    root = Path(os.environ.get('CALLIGRAPHY_ROOT', Path(__file__).resolve().parents[3]))
    return root / '.deps' / 'node_modules' / 'hanzi-writer-data'


def _to_box(points: np.ndarray) -> np.ndarray:
    return np.stack(
        [points[:, 0] / DATA_UNITS, (points[:, 1] - (DATA_TOP - DATA_UNITS)) / DATA_UNITS], axis=1
    )


def parse_svg_outline(path: str) -> list[np.ndarray]:
    """Polygons (data units) of an SVG path made of M, L, Q, C and Z commands."""
    tokens = _TOKEN.findall(path)
    polygons: list[list[np.ndarray]] = []
    pen = np.zeros(2)
    i = 0
    steps = np.linspace(0.0, 1.0, _CURVE_STEPS + 1)[1:, None]
    while i < len(tokens):
        command = tokens[i]
        i += 1
        if command == 'Z':
            continue
        arity = {'M': 1, 'L': 1, 'Q': 2, 'C': 3}[command]
        pts = np.array(tokens[i : i + 2 * arity], float).reshape(arity, 2)
        i += 2 * arity
        if command == 'M':
            polygons.append([pts[0]])
        elif command == 'L':
            polygons[-1].append(pts[0])
        elif command == 'Q':
            s = steps
            polygons[-1].extend((1 - s) ** 2 * pen + 2 * (1 - s) * s * pts[0] + s**2 * pts[1])
        else:
            s = steps
            polygons[-1].extend(
                (1 - s) ** 3 * pen
                + 3 * (1 - s) ** 2 * s * pts[0]
                + 3 * (1 - s) * s**2 * pts[1]
                + s**3 * pts[2]
            )
        pen = pts[-1]
    return [np.array(p, float) for p in polygons if len(p) >= 3]


@lru_cache(maxsize=8192)
def load_stroke_data(character: str) -> StrokeData | None:
    """The character's data, or None where the data set lacks it."""
    if len(character) != 1:
        return None
    file = data_dir() / f'{character}.json'
    try:
        raw = json.loads(file.read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return None
    outlines = []
    for path in raw['strokes']:
        polygons = parse_svg_outline(path)
        # Each stroke is one closed outline; keep the largest if a path has several.
        outlines.append(_to_box(max(polygons, key=len)))
    medians = tuple(_to_box(np.array(m, float)) for m in raw['medians'])
    return StrokeData(character, tuple(outlines), medians)


def box_to_pixels(points: np.ndarray, box_px: int) -> np.ndarray:
    """Normalised box (x right, y up) -> (col, row) pixel-centre coordinates."""
    return np.stack([points[:, 0] * box_px - 0.5, (1.0 - points[:, 1]) * box_px - 0.5], axis=1)


def pixels_to_box(pixels: np.ndarray, box_px: int) -> np.ndarray:
    return np.stack([(pixels[:, 0] + 0.5) / box_px, 1.0 - (pixels[:, 1] + 0.5) / box_px], axis=1)


def outline_mask(outlines: tuple[np.ndarray, ...], box_px: int) -> np.ndarray:
    mask = np.zeros((box_px, box_px), np.uint8)
    polygons = [np.round(box_to_pixels(o, box_px) * 16).astype(np.int32) for o in outlines]
    cv2.fillPoly(mask, polygons, 1, cv2.LINE_8, 4)
    return mask


def apply_affine(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ affine[:, :2].T + affine[:, 2]
