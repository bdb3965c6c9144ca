"""Public API of the brush simulator (core: no ROS). Import from here.

Units are SI throughout: positions and depths in metres in the ``paper`` frame (origin at the
sheet's lower-left corner, x right, y up; pressing depth d = -z of the brush tip, ink only where
d > 0), time in seconds, ink load and ink density as fractions 0..1. Canvases are float32 arrays,
row 0 at the top of their :class:`PixelGrid` (calligraphy_model.raster), default pitch 0.25 mm
per pixel. The brush's laws live in :mod:`calligraphy_model.brush`, the width measurement in
:mod:`calligraphy_model.stroke_width`; they are re-exported here for the simulator's users.

- :class:`BrushParams` - one brush (nominal values, ``BrushParams.sample(rng, 'train'|'eval')``).
- :func:`render_path` - one timed holder path -> :class:`StrokeRender` (ink canvas + brush trace).
- :func:`render_batch` - B paths at once (dataset generation), one canvas each or a shared region.
- :func:`measure_width_along` - ink width across a centreline on a canvas (m per point).
- :class:`VirtualPaper` - a sheet that takes a path piece by piece (a pose stream) and keeps the
  brush state (lag, ink load) between pieces; ``reload(load)`` after dipping.
"""

from calligraphy_model.brush import PARAM_RANGES, BrushParams
from calligraphy_model.raster import DEFAULT_MPP, PixelGrid
from calligraphy_model.stroke_width import measure_width_along
from calligraphy_sim.brush_model import BrushCarry, BrushTrace
from calligraphy_sim.brush_render import StrokeRender, render_batch, render_path
from calligraphy_sim.paper import VirtualPaper

__all__ = [
    'DEFAULT_MPP',
    'PARAM_RANGES',
    'BrushCarry',
    'BrushParams',
    'BrushTrace',
    'PixelGrid',
    'StrokeRender',
    'VirtualPaper',
    'measure_width_along',
    'render_batch',
    'render_path',
]
