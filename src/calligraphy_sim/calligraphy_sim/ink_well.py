"""The ink well beside the sheet: its geometry in the `paper` frame and what it does to the brush.

The well's geometry in the `paper` frame comes from the cell description
(:func:`calligraphy_model.cell_description.resolve_ink_well`, from `urdf/cell.yaml`), where brush
paths and the brush tip pose stream live. :class:`InkWell` follows the brush tip through that
stream:

- the tip inside the opening and below the ink surface soaks the bristles: the load becomes full;
- the tip drawn from inside the opening outward across the rim while below the rim's top (a wipe:
  the bristles are squeezed against the rim) leaves at most the wipe load on the brush.

Core module: no ROS. Units: metres; ink load is a fraction of a full brush (0..1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from calligraphy_model.cell_description import InkWellGeometry, InkWellSettings
from calligraphy_model.settings import setting

if TYPE_CHECKING:
    from calligraphy_sim.paper import VirtualPaper


@dataclass(frozen=True)
class SimulatedWellConfig:
    """The simulated well's own settings (the virtual paper node's `ink_well.*` parameters beside
    the core's InkWellSettings, which place the well)."""

    enabled: bool = setting(True, 'simulate the ink well (dipping reloads the brush)')
    cell_yaml: str = setting('', "cell description with the well's pose ('' = the checkout's)")
    wipe_load: float = setting(0.9, 'load a wipe on the rim leaves on the brush (0..1)')

    def well(self, settings: InkWellSettings) -> InkWell | None:
        """The well (None when disabled); FileNotFoundError / ValueError from the description."""
        if not self.enabled:
            return None
        return InkWell(settings.geometry(self.cell_yaml), self.wipe_load)


@dataclass(frozen=True)
class WellEvent:
    """The well changed the brush's load: `kind` is 'soak' or 'wipe', `ink_load` the new load."""

    kind: str
    ink_load: float


class InkWell:
    """Follows the brush tip and reloads or wipes the brush where the well says so.

    Args:
        geometry: the well in the paper frame.
        wipe_load: load a wipe on the rim leaves on a fuller brush (0..1).
    """

    def __init__(self, geometry: InkWellGeometry, wipe_load: float = 0.9) -> None:
        if not 0.0 < wipe_load <= 1.0:
            raise ValueError(f'wipe_load must lie in (0, 1], got {wipe_load}')
        self.geometry = geometry
        self.wipe_load = float(wipe_load)
        self.soaks = 0
        self.wipes = 0
        self._last: np.ndarray | None = None

    def update(self, x_m: float, y_m: float, z_m: float, ink_load: float) -> WellEvent | None:
        """Move the tip to (x, y, z) in `paper` (z = -pressing depth) holding `ink_load`.

        The tip goes in a straight line from the previous position. Returns the event when the
        well changes the load, else None.
        """
        here = np.array([x_m, y_m, z_m], dtype=float)
        last, self._last = self._last, here
        g = self.geometry
        inside = g.contains_xy(x_m, y_m)
        if inside and z_m < g.ink_surface_height_m:
            if ink_load < 1.0:
                self.soaks += 1
                return WellEvent('soak', 1.0)
            return None
        if last is None or inside or not g.contains_xy(last[0], last[1]):
            return None
        crossing_z = self._rim_crossing_height(last, here)
        if crossing_z < g.rim_height_m and ink_load > self.wipe_load:
            self.wipes += 1
            return WellEvent('wipe', self.wipe_load)
        return None

    def was_inside(self) -> bool:
        """Whether the tip's previous position lay inside the opening."""
        return self._last is not None and self.geometry.contains_xy(self._last[0], self._last[1])

    def _rim_crossing_height(self, inside: np.ndarray, outside: np.ndarray) -> float:
        """Tip height where the straight move inside -> outside crosses the rim's circle."""
        g = self.geometry
        start = inside[:2] - (g.x_m, g.y_m)
        step = outside[:2] - inside[:2]
        # |start + s step| = radius, the root in [0, 1] (start is inside, the end outside).
        a, b, c = step @ step, 2.0 * start @ step, start @ start - g.radius_m**2
        s = (-b + math.sqrt(max(b * b - 4.0 * a * c, 0.0))) / (2.0 * a)
        return float(inside[2] + float(np.clip(s, 0.0, 1.0)) * (outside[2] - inside[2]))


def ink_tip_samples(
    paper: VirtualPaper, well: InkWell | None, samples: np.ndarray
) -> list[WellEvent]:
    """Move the brush of `paper` through timed tip samples, with the ink well acting on it.

    The result is the one of giving the samples one by one to ``paper.add_pose`` and
    ``well.update`` (up to the paper's arc-length resampling), at a fraction of the cost: runs of
    samples away from the well go to the paper in one call; samples in or leaving the well go
    singly, so that the well sees the load the paper has at that moment. A sample earlier than the
    one before it starts a new path, as in ``add_pose``.

    Args:
        samples: (N, 4) rows of (x m, y m, pressing depth m, t s) in the `paper` frame, finite.
    Returns:
        The well's events, in order (the paper's load already set by each).
    """
    samples = np.asarray(samples, dtype=float).reshape(-1, 4)
    x, y, depth, t = samples.T
    count = len(samples)
    at_well = np.zeros(count, dtype=bool)
    if well is not None and count:
        inside = well.geometry.contains_xy_all(x, y)
        at_well = inside | np.concatenate([[well.was_inside()], inside[:-1]])
    # A run ends before a sample at the well and before a step back in time.
    breaks = at_well.copy()
    breaks[1:] |= at_well[:-1] | (t[1:] < t[:-1])
    starts = np.flatnonzero(breaks | (np.arange(count) == 0))
    events = []
    for start, stop in zip(starts, [*starts[1:], count], strict=True):
        run = slice(start, stop)
        paper.add_path(x[run], y[run], depth[run], t[run])
        if well is None:
            continue
        # Away from the well only the last position matters to it (nothing can happen there).
        last = stop - 1
        event = well.update(x[last], y[last], -depth[last], paper.ink_load)
        if event is not None:
            paper.reload(event.ink_load)
            events.append(event)
    return events
