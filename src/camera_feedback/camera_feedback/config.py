"""Frozen configuration of the camera-feedback core; each dataclass validates itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from calligraphy_model.raster import DEFAULT_MPP
from calligraphy_model.settings import setting
from calligraphy_model.sheet_markers import SheetMarkers


@dataclass(frozen=True)
class SegmentationConfig:
    """Ink segmentation: paper brightness is estimated locally, so uneven light cancels out."""

    # Side of the window over which paper brightness is estimated; must exceed the widest ink
    # blob, or that blob is taken for shadowed paper.
    background_window_m: float = setting(0.016, 'paper brightness window', unit='m')
    # Darkness (1 − brightness / local paper brightness) below which nothing counts as ink.
    min_ink_darkness: float = setting(0.15, 'darkness from which ink counts (0..1)')
    # An ink pixel is darker than this fraction of the darkest ink within `level_window_m`: the
    # half-level edge is where a blurred ink edge truly lies, whatever the blur and however dark
    # (or dry) the ink.
    edge_level_fraction: float = setting(0.5, 'ink edge at this fraction of its level (0..1)')
    level_window_m: float = 0.003

    def __post_init__(self) -> None:
        if self.background_window_m <= 0 or self.level_window_m <= 0:
            raise ValueError('background_window_m and level_window_m must be positive')
        if not 0.0 < self.min_ink_darkness < 1.0:
            raise ValueError(f'min_ink_darkness must lie in (0, 1), got {self.min_ink_darkness}')
        if not 0.0 < self.edge_level_fraction < 1.0:
            raise ValueError(
                f'edge_level_fraction must lie in (0, 1), got {self.edge_level_fraction}'
            )


@dataclass(frozen=True)
class ObserverConfig:
    """Everything the paper observer needs."""

    markers: SheetMarkers = field(default_factory=SheetMarkers)
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    metres_per_pixel: float = setting(DEFAULT_MPP, 'rectified pitch', unit='m/px')
    # Fewest of the four markers that must be seen to register the sheet.
    min_markers: int = setting(3, 'markers needed', low=2, high=4)
    # Paper around the requested box that is rectified too, so background estimation has context.
    context_margin_m: float = 0.010
    # Undo the blur's widening of narrow strokes, measured on the markers in each frame
    # (camera_feedback.blur): with the cell's camera a 1.5 mm stroke read 0.36 mm wide without.
    undo_blur: bool = setting(True, "correct stroke widths for the image's blur")

    def __post_init__(self) -> None:
        if not 0 < self.metres_per_pixel <= 0.005:
            raise ValueError(
                f'metres_per_pixel must lie in (0, 0.005], got {self.metres_per_pixel}'
            )
        if not 2 <= self.min_markers <= 4:
            raise ValueError(f'min_markers must be 2..4, got {self.min_markers}')
        if self.context_margin_m < 0:
            raise ValueError('context_margin_m must be non-negative')


SOURCES = ('topic', 'realsense', 'files')


@dataclass(frozen=True)
class CameraNodeConfig:
    """Where the camera feedback node gets its frames (parameters without a prefix)."""

    source: str = setting('topic', 'where frames come from', choices=SOURCES)
    # Relative names resolve in the node's namespace (a cell under /cell_a listens in /cell_a).
    image_topic: str = setting('camera/color/image_raw', 'camera image topic (source = topic)')
    camera_info_topic: str = setting(
        '',
        "the image's sensor_msgs/CameraInfo: its K and D undo the lens distortion before the "
        "sheet is rectified ('' = the image is taken as an ideal pinhole image)",
    )
    frame_timeout_s: float = setting(1.0, 'how long a request waits for a frame', unit='s')
    max_frame_age_s: float = setting(2.0, 'older topic frames mean no camera', unit='s')

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f'source must be one of {SOURCES}, got {self.source!r}')


@dataclass(frozen=True)
class RealSenseConfig:
    """The RealSense colour stream (parameters `realsense.*`, source = realsense)."""

    width_px: int = setting(1280, 'colour stream width', unit='px')
    height_px: int = setting(720, 'colour stream height', unit='px')
    fps: int = setting(30, 'colour stream rate', unit='Hz')
    serial: str = setting('', 'camera serial ("" = first found)')


@dataclass(frozen=True)
class FileSourceConfig:
    """Image files served in order (parameter `files.paths`, source = files)."""

    paths: tuple[str, ...] = setting(('',), 'image files (source = files)')
