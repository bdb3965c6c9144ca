"""The planner's own thinning and smoothing against the libraries they replace on the writing
path, and the import cost they save."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from skimage.morphology import thin as skimage_thin

from stroke_planner.char_sets import load_set
from stroke_planner.fonts import glyph_mask, outline_font, resolve_font
from stroke_planner.thinning import gaussian_smooth, thin


@pytest.mark.parametrize('font', ['ukai', 'uming', '/usr/share/fonts/truetype/cwtex/cwkai.ttf'])
def test_glyphs_thin_to_scikit_images_guo_hall_skeleton_pixel_for_pixel(font):
    try:
        spec = resolve_font(font)
    except Exception as error:  # noqa: BLE001 — a machine without the font
        pytest.skip(f'{font}: {error}')
    outlines = outline_font(spec.path, spec.face_index)
    checked = 0
    for character in load_set('dev').cjk[:40] + '永十木東鬱':
        if not outlines.has_glyph(character):
            continue
        for box_px in (64, 256):
            mask = glyph_mask(spec.path, spec.face_index, character, box_px)
            ours = thin(mask)
            assert np.array_equal(ours, skimage_thin(mask)), (font, character, box_px)
            checked += 1
            # One pixel wide: no 2x2 block of skeleton left but where the glyph's ink had one
            # that thinning keeps (Guo-Hall keeps 2x2 squares), and never outside the ink.
            assert not np.any(ours & ~mask)
    assert checked >= 60


def test_random_shapes_thin_like_scikit_image_and_keep_their_pieces():
    rng = np.random.default_rng(7)
    for _ in range(200):
        mask = rng.random((30, 41)) < rng.uniform(0.3, 0.95)
        ours = thin(mask)
        assert np.array_equal(ours, skimage_thin(mask))
    # A filled bar thins to its centre line; a ring keeps its hole.
    bar = np.zeros((11, 40), bool)
    bar[3:8, 2:38] = True
    rows, _ = np.nonzero(thin(bar))
    assert set(rows.tolist()) <= {4, 5, 6} and np.count_nonzero(thin(bar)) >= 30
    yy, xx = np.mgrid[:41, :41]
    ring = (np.hypot(yy - 20, xx - 20) < 15) & (np.hypot(yy - 20, xx - 20) > 7)
    skeleton = thin(ring)
    assert not skeleton[20, 20] and np.count_nonzero(skeleton) > 50
    with pytest.raises(ValueError, match='2-D'):
        thin(np.zeros((3, 3, 3), bool))


def test_smoothing_is_scipys_gaussian_filter_with_nearest_ends():
    rng = np.random.default_rng(3)
    for _ in range(300):
        points = rng.normal(size=(int(rng.integers(1, 120)), 2)).cumsum(axis=0)
        sigma = float(rng.uniform(0.2, 8.0))
        expected = gaussian_filter1d(points, sigma, axis=0, mode='nearest')
        np.testing.assert_allclose(gaussian_smooth(points, sigma), expected, rtol=0, atol=1e-12)
    line = np.c_[np.arange(20.0), np.zeros(20)]
    assert np.allclose(gaussian_smooth(line, 2.0)[8:12], line[8:12])  # a straight line stays


def test_planning_a_character_with_stroke_order_data_imports_neither_scipy_nor_scikit_image():
    # The writer's process plans every character; these imports cost it about half a second
    # of CPU while the cell comes up.
    code = (
        'import sys\n'
        'from stroke_planner import plan_character\n'
        "plan = plan_character('永', font='ukai')\n"
        "assert plan.source.value == 'stroke_data', plan.source\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'skimage'}))\n"
    )
    run = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == '[]', run.stdout
