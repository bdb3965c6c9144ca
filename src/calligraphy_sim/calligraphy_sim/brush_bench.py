"""`calligraphy bench brush`: how fast the brush simulator renders strokes (one core).

Figures:
    single_stroke_ms: median time to render one 50 mm stroke at 0.25 mm/px with render_path
        (touch down, press to 3 mm, travel at 50 mm/s sampled at 100 Hz, lift).
    realtime_ratio_at_50mm_s: times faster than the brush writes that stroke (target >= 50).
    batch_strokes_per_s: 50 mm strokes of random direction, curvature, pressure and brush (training
        distribution) rendered by render_batch, per second (target >= 500).
    stream_pose_ms: mean time the virtual paper takes to ink one pose of a 100 Hz pose stream.
    batch_strokes_per_wall_s, single_stroke_wall_ms: the same by the wall clock.

Rates are measured in process CPU time with OpenCV held to one thread (numpy does not thread
here), so they are per core and stay meaningful on a machine shared with other work; the wall
clock figures are reported beside them.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from calligraphy_model.brush import BrushParams
from calligraphy_model.raster import DEFAULT_MPP
from calligraphy_sim.brush_render import render_batch, render_path
from calligraphy_sim.paper import VirtualPaper

STROKE_M = 0.05
SPEED_M_S = 0.05
RATE_HZ = 100.0


def _strokes(count: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(count, N) x, y, depth, t of 50 mm strokes sampled at 100 Hz at 50 mm/s."""
    n = int(STROKE_M / SPEED_M_S * RATE_HZ) + 1
    s = np.linspace(0.0, 1.0, n)
    angle = rng.uniform(0.0, 2.0 * np.pi, (count, 1))
    sag = rng.uniform(-0.006, 0.006, (count, 1)) * np.sin(np.pi * s)
    along = STROKE_M * s
    x = 0.1 + along * np.cos(angle) - sag * np.sin(angle)
    y = 0.1 + along * np.sin(angle) + sag * np.cos(angle)
    peak = rng.uniform(1.5e-3, 4.5e-3, (count, 1))
    profile = np.interp(s, [0.0, 0.08, 0.3, 0.85, 1.0], [-0.5e-3, 1.0, 0.8, 0.6, -0.5e-3])
    depth = np.where(profile > 0.0, profile * peak, profile)
    t = np.tile(s * STROKE_M / SPEED_M_S, (count, 1))
    return x, y, depth, t


def measure_brush_render_speed(quick: bool = False) -> dict:
    """The brush benchmark's figures (see module); ``quick`` shortens it to a smoke run."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return _measure(quick)
    finally:
        cv2.setNumThreads(threads)


def _measure(quick: bool) -> dict:
    rng = np.random.default_rng(2024)
    x, y, d, t = _strokes(1, rng)
    render_path(x[0], y[0], d[0], t[0])
    singles, singles_wall = [], []
    for _ in range(5 if quick else 30):
        started, started_wall = time.process_time(), time.perf_counter()
        render_path(x[0], y[0], d[0], t[0])
        singles.append(time.process_time() - started)
        singles_wall.append(time.perf_counter() - started_wall)
    single_s = float(np.median(singles))

    count = 64 if quick else 256
    bx, by, bd, bt = _strokes(count, rng)
    brushes = [BrushParams.sample(rng, 'train') for _ in range(count)]
    loads = rng.uniform(0.2, 1.0, count)
    rates, rates_wall = [], []
    for _ in range(1 if quick else 3):
        started, started_wall = time.process_time(), time.perf_counter()
        render_batch(bx, by, bd, bt, brushes, ink_load=loads)
        rates.append(count / (time.process_time() - started))
        rates_wall.append(count / (time.perf_counter() - started_wall))

    paper = VirtualPaper()
    started = time.process_time()
    for i in range(x.shape[1]):
        paper.add_pose(float(x[0, i]), float(y[0, i]), float(d[0, i]), float(t[0, i]))
    stream_s = (time.process_time() - started) / x.shape[1]

    return {
        'single_stroke_ms': round(single_s * 1e3, 3),
        'realtime_ratio_at_50mm_s': round(float(t[0, -1]) / single_s, 1),
        'batch_strokes_per_s': round(float(np.median(rates)), 1),
        'batch_size': count,
        'single_stroke_wall_ms': round(float(np.median(singles_wall)) * 1e3, 3),
        'batch_strokes_per_wall_s': round(float(np.median(rates_wall)), 1),
        'stream_pose_ms': round(stream_s * 1e3, 3),
        'metres_per_pixel': DEFAULT_MPP,
    }
