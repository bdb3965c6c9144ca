"""A virtual sheet of paper that a brush writes on piece by piece (core: no ROS).

The sheet keeps one brush between pieces of path: where the holder last was, how the bristles are
bent, how long it has dwelt, and how much ink it has left. So a pose stream (say 100 Hz from the
arm) inks the same as the whole path rendered at once, up to the shading of pixels that two pieces
both reach (compositing takes the darker).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from calligraphy_model.brush import BrushParams
from calligraphy_model.cell_description import SHEET_HEIGHT_M, SHEET_WIDTH_M
from calligraphy_model.raster import DEFAULT_MPP, PixelGrid
from calligraphy_model.settings import setting
from calligraphy_sim.brush_model import BrushCarry, params_table, resample, simulate, validate_path
from calligraphy_sim.footprint_raster import BristleSet, rasterise

# Colours of the rendered sheet (RGB): off-white paper, near-black ink.
PAPER_RGB = np.array([250, 248, 242], dtype=np.float32)
INK_RGB = np.array([18, 18, 20], dtype=np.float32)
_INK_LEVELS = 4096
_INK_TO_RGB = np.rint(
    PAPER_RGB * (1.0 - np.linspace(0.0, 1.0, _INK_LEVELS)[:, None])
    + INK_RGB * np.linspace(0.0, 1.0, _INK_LEVELS)[:, None]
).astype(np.uint8)


@dataclass(frozen=True)
class VirtualPaperConfig:
    """Settings of the virtual paper node (read once at start).

    Attributes:
        width_m, height_m: sheet size (m); the ``paper`` frame origin is its lower-left corner.
        metres_per_pixel: raster pitch of the sheet and of the published image (m/px).
        publish_rate_hz: how often the image and the ink load are published (Hz).
        initial_ink_load: brush load at start (0..1).
        seed: seeds the bristle streak pattern.
        frame_id: the only frame poses are accepted in, and the image's frame.
    """

    width_m: float = setting(SHEET_WIDTH_M, 'sheet width along paper x', unit='m')
    height_m: float = setting(SHEET_HEIGHT_M, 'sheet height along paper y', unit='m')
    metres_per_pixel: float = setting(
        DEFAULT_MPP, 'pitch of the sheet raster and image', unit='m/px'
    )
    publish_rate_hz: float = setting(4.0, 'image and ink-load publishing rate', unit='Hz')
    initial_ink_load: float = setting(1.0, 'brush ink load at start (0..1)', low=0.0, high=1.0)
    seed: int = setting(0, 'seed of the bristle streak pattern')
    frame_id: str = setting('paper', 'frame of accepted poses and of the image')

    def __post_init__(self) -> None:
        for name in ('width_m', 'height_m', 'metres_per_pixel', 'publish_rate_hz'):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0.0):
                raise ValueError(f'{name} must be a positive number, got {value}')
        if self.width_m / self.metres_per_pixel * self.height_m / self.metres_per_pixel > 5e7:
            raise ValueError('sheet too large for its pixel pitch (over 50 Mpx)')
        if not 0.0 <= self.initial_ink_load <= 1.0:
            raise ValueError(f'initial_ink_load must lie in [0, 1], got {self.initial_ink_load}')
        if not self.frame_id:
            raise ValueError('frame_id must not be empty')


class VirtualPaper:
    """An ink-density canvas of a whole sheet plus the brush that writes on it.

    Args:
        params: the brush (nominal when None).
        width_m, height_m: sheet size (m); A4 landscape by default. The sheet's lower-left corner
            is the origin of the ``paper`` frame.
        metres_per_pixel: raster pitch (m/px).
        ink_load: load of the brush at the start (0..1).
        seed: seeds the bristle streak pattern (same seed and same input -> same sheet).
    """

    def __init__(
        self,
        params: BrushParams | None = None,
        *,
        width_m: float = SHEET_WIDTH_M,
        height_m: float = SHEET_HEIGHT_M,
        metres_per_pixel: float = DEFAULT_MPP,
        ink_load: float = 1.0,
        seed: int = 0,
    ) -> None:
        if not (width_m > 0.0 and height_m > 0.0):
            raise ValueError(f'sheet size must be positive, got {width_m} x {height_m} m')
        if not 0.0 <= ink_load <= 1.0:
            raise ValueError(f'ink_load must lie in [0, 1], got {ink_load}')
        self.params = BrushParams() if params is None else params
        self.region = PixelGrid.from_extent(0.0, 0.0, width_m, height_m, metres_per_pixel)
        self.ink = np.zeros(self.region.shape, dtype=np.float32)
        self._table = params_table(self.params, 1)
        self._bristles = [BristleSet.for_brush(self.params.bristle_count, seed)]
        self._last: np.ndarray | None = None
        self._carry = _fresh_carry(ink_load)

    @property
    def ink_load(self) -> float:
        """Ink left in the brush (0 dry .. 1 full)."""
        return float(self._carry.ink_load[0])

    @property
    def metres_per_pixel(self) -> float:
        return self.region.metres_per_pixel

    def reload(self, ink_load: float = 1.0) -> None:
        """Refill the brush (after dipping) to ``ink_load`` (0..1); the streak pattern restarts."""
        if not 0.0 <= ink_load <= 1.0:
            raise ValueError(f'ink_load must lie in [0, 1], got {ink_load}')
        self._carry = BrushCarry(
            bend=self._carry.bend,
            dwell_s=self._carry.dwell_s,
            travel_m=np.zeros(1),
            ink_load=np.array([float(ink_load)]),
        )

    def clear(self) -> None:
        """A fresh sheet; the brush keeps its ink and position."""
        self.ink.fill(0.0)

    def lift(self) -> None:
        """Forget where the brush was: the next pose starts a new path (no line drawn to it)."""
        self._last = None
        self._carry = _fresh_carry(self.ink_load, self._carry.travel_m)

    def add_pose(self, x_m: float, y_m: float, depth_m: float, t_s: float) -> None:
        """Move the brush to one more pose of a stream (see :meth:`add_path`)."""
        self.add_path(np.array([x_m]), np.array([y_m]), np.array([depth_m]), np.array([t_s]))

    def add_path(self, x_m: np.ndarray, y_m: np.ndarray, depth_m: np.ndarray, t_s: np.ndarray):
        """Continue the brush along timed holder samples and deposit the ink they lay down.

        The brush moves in straight lines (in x, y, depth) from the previous sample to these. A
        sample earlier in time than the previous one starts a new path (as after :meth:`lift`).

        Args:
            x_m, y_m: (N,) holder axis in the paper frame (m).
            depth_m: (N,) pressing depth d = -z of the brush tip (m); ink only where d > 0.
            t_s: (N,) time (s), non-decreasing.
        Raises:
            ValueError: non-finite values, mismatched shapes, or time decreasing within the call.
        """
        path = validate_path(x_m, y_m, depth_m, t_s)[0]
        if self._last is not None and path[0, 3] < self._last[3]:
            self.lift()
        if self._last is None:
            # A brush arriving: its first sample is its own start, nothing carried.
            carry = None
            load = self._carry.ink_load
            whole = path
        else:
            carry = self._carry
            load = carry.ink_load
            whole = np.concatenate([self._last[None], path])
        self._last = path[-1].copy()
        if whole.shape[0] == 1:
            whole = np.concatenate([whole, whole])
        samples, _ = resample(whole[None], step_m=self.metres_per_pixel)
        trace, end = simulate(samples, self._table, load, carry)
        if carry is None:
            # Keep streak noise running over the whole life of the ink load.
            trace.travel_m[:] += self._carry.travel_m[0]
            end = BrushCarry(
                end.bend, end.dwell_s, end.travel_m + self._carry.travel_m, end.ink_load
            )
        self._carry = end
        if not trace.in_contact.any():
            return
        (piece,), (where,) = rasterise(trace, self._table, self._bristles, self.metres_per_pixel)
        self._composite(piece, where)

    def _composite(self, piece: np.ndarray, where: PixelGrid) -> None:
        mpp = self.metres_per_pixel
        col0 = round((where.x0_m - self.region.x0_m) / mpp)
        row0 = round((self.region.top_m - where.top_m) / mpp)
        rows = slice(max(row0, 0), min(row0 + where.rows, self.region.rows))
        cols = slice(max(col0, 0), min(col0 + where.cols, self.region.cols))
        if rows.start >= rows.stop or cols.start >= cols.stop:
            return
        sub = piece[rows.start - row0 : rows.stop - row0, cols.start - col0 : cols.stop - col0]
        np.maximum(self.ink[rows, cols], sub, out=self.ink[rows, cols])

    def image_rgb(self) -> np.ndarray:
        """The sheet as it looks: uint8 (rows, cols, 3) RGB, row 0 at the top of the sheet."""
        # A table of 4096 ink levels (colour error under 0.06 of a grey level before rounding) is
        # ~10x faster than blending the whole sheet in floats: the node does this at a few Hz.
        levels = np.clip(self.ink, 0.0, 1.0) * (_INK_LEVELS - 1) + 0.5
        return _INK_TO_RGB[levels.astype(np.intp)]

    def save_png(self, path: str | Path) -> Path:
        """Write the sheet as an RGB PNG (directories are created); returns the absolute path.

        Raises:
            ValueError: the path does not end in .png.
            OSError: the file could not be written.
        """
        target = Path(path).expanduser()
        if target.suffix.lower() != '.png':
            raise ValueError(f'the file name must end in .png, got {str(path)!r}')
        target.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(target), cv2.cvtColor(self.image_rgb(), cv2.COLOR_RGB2BGR)):
            raise OSError(f'could not write {target}')
        return target.resolve()


def _fresh_carry(ink_load: float, travel_m: np.ndarray | None = None) -> BrushCarry:
    return BrushCarry(
        bend=np.zeros((1, 2)),
        dwell_s=np.zeros(1),
        travel_m=np.zeros(1) if travel_m is None else np.array(travel_m, dtype=np.float64),
        ink_load=np.array([float(ink_load)]),
    )
