"""Where camera frames come from, behind one small interface.

- `RealSenseSource`: an Intel RealSense colour stream through pyrealsense2 (imported only when
  this source is built, so nothing else needs the SDK).
- `LatestFrameSource`: the newest frame pushed by someone else — the node feeds it from any ROS
  image topic (the simulated camera, realsense2_camera, a gz camera).
- `ImageFileSource`: image files, for tests and offline scoring.

`read()` returns a `Frame` or raises `ObservationError` with NO_IMAGE (nothing to read: camera
gone, files missing, frame too old) or BAD_ENCODING (a pixel format the observer cannot use).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from camera_feedback.types import BAD_ENCODING, NO_IMAGE, ObservationError

# Encodings (sensor_msgs/image_encodings names) the observer accepts, with channel count.
SUPPORTED_ENCODINGS = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1}


@dataclass(frozen=True)
class Frame:
    """One camera frame: uint8 rgb (H, W, 3) or mono (H, W), capture time, optical frame."""

    image: np.ndarray
    stamp_s: float
    frame_id: str = 'camera_color_optical_frame'


def decode_pixels(
    data: bytes | bytearray | memoryview, width: int, height: int, step: int, encoding: str
) -> np.ndarray:
    """Raw image bytes → uint8 rgb (H, W, 3) or mono (H, W); BAD_ENCODING for anything else."""
    channels = SUPPORTED_ENCODINGS.get(encoding)
    if channels is None:
        raise ObservationError(
            BAD_ENCODING,
            f'image encoding {encoding!r} is not supported; use one of '
            f'{", ".join(sorted(SUPPORTED_ENCODINGS))}',
        )
    if width <= 0 or height <= 0:
        raise ObservationError(NO_IMAGE, f'empty image ({width} x {height})')
    if step < width * channels or len(data) < step * height:
        raise ObservationError(
            BAD_ENCODING,
            f'{len(data)} bytes with step {step} cannot hold a {width} x {height} {encoding} '
            'image',
        )
    raw = np.frombuffer(data, np.uint8, count=step * height).reshape(height, step)
    pixels = raw[:, : width * channels].reshape(height, width, channels)
    if encoding == 'mono8':
        return pixels[..., 0].copy()
    conversion = {
        'rgb8': None,
        'bgr8': cv2.COLOR_BGR2RGB,
        'rgba8': cv2.COLOR_RGBA2RGB,
        'bgra8': cv2.COLOR_BGRA2RGB,
    }[encoding]
    return pixels.copy() if conversion is None else cv2.cvtColor(pixels, conversion)


class FrameSource(ABC):
    """A camera (or stand-in) that hands out its latest frame."""

    @abstractmethod
    def read(self, timeout_s: float = 1.0) -> Frame:
        """The latest frame; ObservationError(NO_IMAGE) when none arrives within `timeout_s`."""

    def close(self) -> None:  # noqa: B027 - sources without a device have nothing to release
        """Release the device; reading afterwards is an error."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LatestFrameSource(FrameSource):
    """Keeps the newest pushed frame; frames older than `max_age_s` count as no frame (the
    camera stopped publishing). Thread-safe: pushed from a subscription, read from a service."""

    def __init__(self, max_age_s: float = 2.0, clock=time.monotonic) -> None:
        if max_age_s <= 0:
            raise ValueError(f'max_age_s must be positive, got {max_age_s}')
        self.max_age_s = max_age_s
        self._clock = clock
        self._condition = threading.Condition()
        self._frame: Frame | None = None
        self._received_at = -np.inf
        self._error: ObservationError | None = None
        self._error_stamp_s = np.inf

    def push(self, frame: Frame) -> None:
        with self._condition:
            self._frame, self._error = frame, None
            self._received_at = self._clock()
            self._condition.notify_all()

    def push_error(self, error: ObservationError, stamp_s: float = np.inf) -> None:
        """The latest message (stamped `stamp_s`) could not be decoded: reads report why until a
        good one comes."""
        with self._condition:
            self._error, self._error_stamp_s = error, stamp_s
            self._received_at = self._clock()
            self._condition.notify_all()

    def read(
        self,
        timeout_s: float = 1.0,
        not_before_s: float | None = None,
        received_after: float | None = None,
    ) -> Frame:
        """The newest frame; with `not_before_s`, wait for one stamped (captured) at or after it,
        so an observation requested after a stroke never sees the sheet from before it; with
        `received_after` (this source's clock), also for one that arrived after that moment: a
        stamp check alone trusts the reader's clock, which in simulation is the last /clock it
        heard and can lag the arm (a frame without the stroke just written was taken once in
        six runs of `calligraphy write 一`)."""
        deadline = self._clock() + timeout_s
        with self._condition:
            while True:
                fresh = self._clock() - self._received_at <= self.max_age_s
                if (
                    fresh
                    and self._error is not None
                    and (not_before_s is None or self._error_stamp_s >= not_before_s)
                ):
                    raise self._error
                recent = (
                    self._frame is not None
                    and (not_before_s is None or self._frame.stamp_s >= not_before_s)
                    and (received_after is None or self._received_at > received_after)
                )
                if fresh and recent:
                    return self._frame
                remaining = deadline - self._clock()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
        if self._frame is None:
            raise ObservationError(NO_IMAGE, 'no camera image received yet')
        if self._clock() - self._received_at <= self.max_age_s:
            raise ObservationError(
                NO_IMAGE, f'no camera image captured after the request within {timeout_s:.1f} s'
            )
        age = self._clock() - self._received_at
        raise ObservationError(
            NO_IMAGE, f'the latest camera image is {age:.1f} s old (camera gone?)'
        )


class ImageFileSource(FrameSource):
    """Frames read from image files, in order; the last one repeats once all were read."""

    def __init__(self, paths: Sequence[str | Path]) -> None:
        if not paths:
            raise ValueError('ImageFileSource needs at least one path')
        self._paths = [Path(p) for p in paths]
        self._next = 0

    def read(self, timeout_s: float = 1.0) -> Frame:
        path = self._paths[min(self._next, len(self._paths) - 1)]
        self._next += 1
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise ObservationError(NO_IMAGE, f'cannot read image file {path}')
        if image.dtype != np.uint8:
            raise ObservationError(
                BAD_ENCODING, f'{path}: {image.dtype} pixels, expected 8-bit images'
            )
        if image.ndim == 3:
            code = cv2.COLOR_BGRA2RGB if image.shape[2] == 4 else cv2.COLOR_BGR2RGB
            image = cv2.cvtColor(image, code)
        return Frame(image=image, stamp_s=path.stat().st_mtime, frame_id=path.name)


class RealSenseSource(FrameSource):
    """Colour stream of an Intel RealSense camera (rgb8 at the configured size and rate).

    Args:
        width_px, height_px, fps: stream profile (must be one the camera offers).
        serial: serial number of the camera to open ('' = the first one found).
    """

    def __init__(
        self, width_px: int = 1280, height_px: int = 720, fps: int = 30, serial: str = ''
    ) -> None:
        try:
            import pyrealsense2 as rs
        except ImportError as error:
            raise ObservationError(
                NO_IMAGE, f'RealSense source selected but pyrealsense2 is not installed ({error})'
            ) from error
        self._rs = rs
        devices = rs.context().query_devices()
        serials = [d.get_info(rs.camera_info.serial_number) for d in devices]
        if not serials:
            raise ObservationError(NO_IMAGE, 'no RealSense camera is connected')
        if serial and serial not in serials:
            raise ObservationError(
                NO_IMAGE, f'RealSense camera {serial} not found (connected: {", ".join(serials)})'
            )
        config = rs.config()
        if serial:
            config.enable_device(serial)
        config.enable_stream(rs.stream.color, width_px, height_px, rs.format.rgb8, fps)
        self._pipeline = rs.pipeline()
        try:
            self._pipeline.start(config)
        except RuntimeError as error:
            raise ObservationError(
                NO_IMAGE,
                f'RealSense colour stream {width_px}x{height_px}@{fps} failed to start: {error}',
            ) from error
        self._running = True

    def read(self, timeout_s: float = 1.0) -> Frame:
        if not self._running:
            raise ObservationError(NO_IMAGE, 'RealSense source is closed')
        try:
            frames = self._pipeline.wait_for_frames(int(max(timeout_s, 0.001) * 1000))
        except RuntimeError as error:
            raise ObservationError(NO_IMAGE, f'RealSense sent no frame: {error}') from error
        colour = frames.get_color_frame()
        if not colour:
            raise ObservationError(NO_IMAGE, 'RealSense frame set has no colour frame')
        image = np.asanyarray(colour.get_data()).copy()
        return Frame(image=image, stamp_s=colour.get_timestamp() / 1000.0)

    def close(self) -> None:
        if self._running:
            self._pipeline.stop()
            self._running = False
