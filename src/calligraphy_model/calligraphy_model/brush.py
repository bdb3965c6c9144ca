"""The brush's laws: its parameters and ranges, width against depth, and how it lays ink.

Units are SI (metres, seconds); ink load is a fraction of a full brush (0 dry .. 1 full).

Sources for the nominal values and ranges:

- Width against pressing depth: published measurements on robot-held brushes report about 0.6 to
  1.2 mm of footprint width per mm of pressing depth at light pressure, growing less than linearly
  and bounded by the belly (the widest part of the bristle bundle) of the brush. We model
  ``w(d) = w0 + (D - w0) * tanh(k * d / (D - w0))``: slope ``k`` at first contact, saturating at
  the belly diameter ``D``.
- Tip drag (how far the bristle tip trails the holder axis): ``0.665 * d + 1.03 mm`` (Wang et al.,
  "Robotic calligraphy ... brush tip drag", IROS 2020), used as ``lag_slope`` and ``lag_offset_m``.
- Ink capacity, dry-brush onset, paper spread: chosen so that a nominal brush writes a few
  characters of 6 cm (about 1,000 to 1,500 mm^2 of ink) before it shows dry-brush streaks, which is
  what calligraphers describe for a medium (jian hao) brush on xuan paper; ranges are wide on
  purpose, the controller has to cope with all of them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from calligraphy_model.settings import setting

# name: (train low, train high, eval low, eval high). Training ranges are wider than evaluation
# ranges, so the evaluation brushes lie inside what the controller saw in training. Every draw is
# uniform in the stated range.
PARAM_RANGES: dict[str, tuple[float, float, float, float]] = {
    'belly_diameter_m': (0.0045, 0.0090, 0.0055, 0.0080),
    'touch_width_m': (0.0002, 0.0007, 0.0003, 0.0006),
    'width_slope': (0.6, 1.2, 0.7, 1.1),
    'lag_slope': (0.45, 0.85, 0.55, 0.75),
    'lag_offset_m': (0.0006, 0.0015, 0.0008, 0.0013),
    'lag_relax_m': (0.0015, 0.0045, 0.0020, 0.0040),
    'belly_lag_fraction': (0.20, 0.45, 0.25, 0.40),
    'tip_radius_m': (0.0001, 0.0003, 0.00012, 0.00025),
    'ink_capacity_m2': (0.0006, 0.0025, 0.0008, 0.0018),
    'dry_onset_load': (0.2, 0.45, 0.25, 0.4),
    'darkness_at_empty': (0.35, 0.6, 0.4, 0.55),
    'streak_noise': (0.08, 0.25, 0.1, 0.2),
    'paper_spread_m': (0.00005, 0.0002, 0.00007, 0.00015),
    'wick_m_per_sqrt_s': (0.0001, 0.0004, 0.00015, 0.0003),
}

DISTRIBUTIONS = ('train', 'eval')


def footprint_width(
    depth_m: np.ndarray | float,
    touch_width_m: np.ndarray | float,
    belly_diameter_m: np.ndarray | float,
    width_slope: np.ndarray | float,
) -> np.ndarray:
    """THE width-vs-depth law: w(d) = w0 + (D − w0)·tanh(k·d / (D − w0)) for d > 0, else 0.

    Touch width w0, belly diameter D and slope k at first contact; arguments broadcast (one brush
    or a batch)."""
    depth = np.asarray(depth_m, dtype=np.float64)
    span = belly_diameter_m - touch_width_m
    width = touch_width_m + span * np.tanh(width_slope * np.maximum(depth, 0.0) / span)
    return np.where(depth > 0.0, width, 0.0)


def deposit_density(
    ink_load: np.ndarray | float, darkness_at_empty: np.ndarray | float
) -> np.ndarray:
    """THE ink-deposit law: density d0 + (1 − d0)·√load (0..1) a brush with `ink_load` lays
    where it inks (d0 = `darkness_at_empty`)."""
    load = np.clip(np.asarray(ink_load, dtype=np.float64), 0.0, 1.0)
    return darkness_at_empty + (1.0 - darkness_at_empty) * np.sqrt(load)


def load_for_density(density: np.ndarray | float, darkness_at_empty: float) -> np.ndarray:
    """Inverse of :func:`deposit_density`: the load that lays ink of `density` (clipped 0..1)."""
    root = np.clip(
        (np.asarray(density, dtype=np.float64) - darkness_at_empty) / (1.0 - darkness_at_empty),
        0.0,
        1.0,
    )
    return root**2


def inking_fraction(
    ink_load: np.ndarray | float, dry_onset_load: np.ndarray | float
) -> np.ndarray:
    """Fraction of bristles still inking (0..1): 1 above `dry_onset_load`, then falling with the
    load (dry-brush streaks)."""
    load = np.clip(np.asarray(ink_load, dtype=np.float64), 0.0, 1.0)
    return np.clip(load / dry_onset_load, 0.0, 1.0)


def ink_spent_per_area(
    ink_load: np.ndarray | float,
    dry_onset_load: np.ndarray | float,
    darkness_at_empty: np.ndarray | float,
) -> np.ndarray:
    """Ink a brush spends per unit of newly inked paper area, in units of full-density area:
    only inking bristles spend, at the density they lay. Over `ink_capacity_m2` it is load."""
    return inking_fraction(ink_load, dry_onset_load) * deposit_density(ink_load, darkness_at_empty)


@dataclass(frozen=True)
class BrushParams:
    """One brush on one paper. Defaults are the nominal (medium jian hao brush, xuan paper).

    Attributes:
        belly_diameter_m: width the footprint saturates at when pressed hard (m). Train 4.5-9 mm,
            eval 5.5-8 mm.
        touch_width_m: footprint width just after the tip touches the paper (m).
        width_slope: d(width)/d(depth) at first contact (m/m); published 0.6-1.2.
        lag_slope: tip drag growth with depth (m/m); 0.665 published (Wang et al. 2020).
        lag_offset_m: tip drag at first contact (m); 1.03 mm published (Wang et al. 2020).
        lag_relax_m: distance travelled over which the bristles re-align with a new direction of
            travel (m); sets how far a corner is over-swept.
        belly_lag_fraction: where the belly centre sits along the drag, as a fraction of the lag
            (0 = under the holder axis, 1 = at the tip).
        tip_radius_m: radius of the pointed tip of the footprint (m).
        ink_capacity_m2: paper area a full brush inks at full density before it is empty (m^2).
        dry_onset_load: ink load below which bristle-wise dry streaks start to appear (0..1).
        darkness_at_empty: ink density left when the load is nearly exhausted (0..1).
        streak_noise: amplitude of the along-stroke variation of which bristles run dry (0..1).
        paper_spread_m: bleed of a full brush into the paper beyond the footprint (m).
        wick_m_per_sqrt_s: extra bleed while the brush dwells, per square root of dwell time
            (m/s^0.5); capillary spreading grows as sqrt(t) (Washburn).
        bristle_count: number of bristle bundles across the footprint (streak resolution).
    """

    belly_diameter_m: float = setting(0.0065, 'footprint width when pressed hard', unit='m')
    touch_width_m: float = setting(0.0004, 'footprint width at first touch', unit='m')
    width_slope: float = setting(1.0, 'width growth per depth at first contact', unit='m/m')
    lag_slope: float = setting(0.665, 'tip drag growth with depth', unit='m/m')
    lag_offset_m: float = setting(0.00103, 'tip drag at first contact', unit='m')
    lag_relax_m: float = setting(0.003, 'travel over which the bristles re-align', unit='m')
    belly_lag_fraction: float = setting(0.33, 'belly centre along the drag (0 axis, 1 tip)')
    tip_radius_m: float = setting(0.00018, 'radius of the pointed tip', unit='m')
    ink_capacity_m2: float = setting(0.0012, 'area a full brush inks at full density', unit='m^2')
    dry_onset_load: float = setting(0.32, 'load below which dry streaks appear (0..1)')
    darkness_at_empty: float = setting(0.45, 'ink density of a nearly empty brush (0..1)')
    streak_noise: float = setting(0.15, 'along-stroke wander of the dry bristles (0..1)')
    paper_spread_m: float = setting(0.0001, 'bleed of a full brush into the paper', unit='m')
    wick_m_per_sqrt_s: float = setting(
        0.0002, 'extra bleed per square root of dwell time', unit='m/s^0.5'
    )
    bristle_count: int = setting(40, 'bristle bundles across the footprint')

    def __post_init__(self) -> None:
        positive = (
            'belly_diameter_m',
            'touch_width_m',
            'width_slope',
            'lag_relax_m',
            'tip_radius_m',
            'ink_capacity_m2',
            'dry_onset_load',
        )
        for name in positive:
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0.0:
                raise ValueError(
                    f'BrushParams.{name} must be a positive finite number, got {value}'
                )
        non_negative = (
            'lag_slope',
            'lag_offset_m',
            'belly_lag_fraction',
            'darkness_at_empty',
            'streak_noise',
            'paper_spread_m',
            'wick_m_per_sqrt_s',
        )
        for name in non_negative:
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0.0:
                raise ValueError(f'BrushParams.{name} must be >= 0, got {value}')
        if self.touch_width_m >= self.belly_diameter_m:
            raise ValueError(
                f'touch_width_m ({self.touch_width_m}) must be below belly_diameter_m '
                f'({self.belly_diameter_m}): the footprint widens as the brush presses'
            )
        if self.belly_lag_fraction > 1.0 or self.dry_onset_load > 1.0:
            raise ValueError('belly_lag_fraction and dry_onset_load must be at most 1')
        if self.darkness_at_empty > 1.0:
            raise ValueError('darkness_at_empty must be at most 1')
        if int(self.bristle_count) != self.bristle_count or self.bristle_count < 4:
            raise ValueError(f'bristle_count must be an integer >= 4, got {self.bristle_count}')

    def width_at_depth(self, depth_m: np.ndarray | float) -> np.ndarray:
        """Footprint width (m) at pressing depth ``depth_m`` (m); 0 where depth <= 0."""
        return footprint_width(
            depth_m, self.touch_width_m, self.belly_diameter_m, self.width_slope
        )

    def seen_width_at_depth(self, depth_m: np.ndarray | float) -> np.ndarray:
        """Width (m) a camera measures of a stroke pressed at ``depth_m``: the footprint plus the
        bleed into the paper on both sides (what calibration by camera fits); 0 off paper."""
        depth = np.asarray(depth_m, dtype=np.float64)
        return np.where(depth > 0.0, self.width_at_depth(depth) + 2.0 * self.paper_spread_m, 0.0)

    def tip_lag_at_depth(self, depth_m: np.ndarray | float) -> np.ndarray:
        """Steady-state drag (m) of the bristle tip behind the holder at depth (m); 0 off paper."""
        depth = np.asarray(depth_m, dtype=np.float64)
        return np.where(depth > 0.0, self.lag_slope * depth + self.lag_offset_m, 0.0)

    def depth_for_width(self, width_m: np.ndarray | float) -> np.ndarray:
        """Inverse of :meth:`width_at_depth` (m -> m), clipped to widths the brush can make.

        Widths at or below ``touch_width_m`` map to the lightest touch (depth 0); widths at or
        above 99.9 % of the belly diameter map to the depth that reaches that.
        """
        width = np.asarray(width_m, dtype=np.float64)
        span = self.belly_diameter_m - self.touch_width_m
        frac = np.clip((width - self.touch_width_m) / span, 0.0, 0.999)
        return np.arctanh(frac) * span / self.width_slope

    def darkness(self, ink_load: np.ndarray | float) -> np.ndarray:
        """Ink density (0..1) a brush with ``ink_load`` (0..1) lays down where it inks."""
        return deposit_density(ink_load, self.darkness_at_empty)

    def coverage(self, ink_load: np.ndarray | float) -> np.ndarray:
        """Fraction of bristles still inking (0..1): 1 above ``dry_onset_load``, then falling."""
        return inking_fraction(ink_load, self.dry_onset_load)

    @classmethod
    def sample(cls, rng: np.random.Generator, distribution: str = 'train') -> BrushParams:
        """Draw a brush from the training or evaluation distribution (uniform per field).

        Args:
            rng: the random generator (the draw is deterministic for its state).
            distribution: 'train' (wide ranges) or 'eval' (narrower, inside the train ranges).
        """
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got '{distribution}'")
        offset = 0 if distribution == 'train' else 2
        values = {
            name: float(rng.uniform(bounds[offset], bounds[offset + 1]))
            for name, bounds in PARAM_RANGES.items()
        }
        return cls(**values)


def load_brush_file(path: str | Path) -> BrushParams:
    """The brush a YAML file describes: `brush:` maps BrushParams field names to values; missing
    keys take the nominal brush's. Values outside the training ranges are accepted (a brush the
    controller was not trained on is the point of such a file); ValueError for a file that is
    not such a mapping, an unknown key, a value that is not a number, or a brush that cannot
    exist (BrushParams' own checks: negative sizes, zero ink capacity, ...)."""
    import yaml

    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ValueError(f'{path}: cannot read it ({error.strerror or error})') from None
    except yaml.YAMLError as error:
        raise ValueError(f'{path}: not YAML ({error})') from None
    values = document.get('brush') if isinstance(document, dict) else None
    if not isinstance(values, dict):
        raise ValueError(f'{path}: expected a mapping `brush:` of brush parameters')
    fields = {f.name: f for f in dataclasses.fields(BrushParams)}
    unknown = sorted(str(k) for k in values if k not in fields)
    if unknown:
        raise ValueError(
            f'{path}: unknown brush parameter(s) {", ".join(unknown)}; known: {", ".join(fields)}'
        )
    nominal = BrushParams()
    parsed = {}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f'{path}: brush.{name} must be a number, got {value!r}')
        parsed[name] = type(getattr(nominal, name))(value)
        if isinstance(getattr(nominal, name), int) and parsed[name] != value:
            raise ValueError(f'{path}: brush.{name} must be an integer, got {value!r}')
    try:
        return dataclasses.replace(nominal, **parsed)
    except ValueError as error:
        raise ValueError(f'{path}: {error}') from None
