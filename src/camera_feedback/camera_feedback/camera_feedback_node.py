"""ROS node of the camera feedback: /observe_paper and the latched latest observation."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image

from calligraphy_interfaces.msg import PaperObservation
from calligraphy_interfaces.srv import ObservePaper
from calligraphy_model.cell_description import SheetSize
from calligraphy_model.polling import wait_until
from calligraphy_model.raster import Region
from calligraphy_model.sheet_markers import SheetMarkers
from calligraphy_model.types import GlyphScore
from calligraphy_ros_kit.lane import lane_for_clock
from calligraphy_ros_kit.parameters import declare_config
from calligraphy_ros_kit.runner import run_node
from camera_feedback.config import (
    CameraNodeConfig,
    FileSourceConfig,
    ObserverConfig,
    RealSenseConfig,
    SegmentationConfig,
)
from camera_feedback.conversions import (
    character_plan_from_msg,
    frame_from_image_msg,
    observation_to_msg,
    plan_box,
    score_to_msg,
    stamp_from_seconds,
    strokes_from_plan_msg,
)
from camera_feedback.frame_sources import (
    FrameSource,
    ImageFileSource,
    LatestFrameSource,
    RealSenseSource,
)
from camera_feedback.observer import PaperObserver
from camera_feedback.types import INTERNAL_ERROR, NO_IMAGE, SUCCESS, ObservationError
from camera_feedback.undistortion import LensModel, Undistorter, UnsupportedLensError


class CameraFeedbackNode(Node):
    """Looks at the sheet, scores a character box against its target and measures its strokes.

    Services:
        observe_paper (calligraphy_interfaces/ObservePaper): error codes NO_IMAGE (no frame, or
            the camera stopped, or no camera_info yet while `camera_info_topic` is set),
            MARKERS_NOT_FOUND (sheet not registered — never a zero score), BAD_ENCODING
            (unusable pixel format, or a camera_info whose lens model cannot be corrected: only
            plumb_bob, rational_polynomial and equidistant can), BOX_OUTSIDE_SHEET, INVALID_BOX
            (a box, or the target's box, with NaN / infinite values or a negative size),
            INTERNAL_ERROR.
    Publishes:
        paper_observation (calligraphy_interfaces/PaperObservation, transient-local, depth 1):
            the latest successful observation, for late joiners.
    Names without a leading '/' resolve in the node's namespace (several cells on one network).
    Subscribes (source = topic):
        `image_topic` (sensor_msgs/Image; rgb8, bgr8, rgba8, bgra8 or mono8).
        `camera_info_topic` (sensor_msgs/CameraInfo), when set: each frame is undistorted with
            its K and D (camera_feedback.undistortion) before the sheet is rectified.
    Parameters (read once):
        source: topic | realsense | files.
        image_topic: default camera/color/image_raw.
        camera_info_topic: default '' (no lens correction).
        frame_timeout_s: how long a request waits for a frame.
        max_frame_age_s: a topic frame older than this means the camera is gone.
        realsense.width_px, realsense.height_px, realsense.fps, realsense.serial.
        files.paths: image files served in order (source = files).
        metres_per_pixel: rectified resolution (default 0.00025).
        min_markers: markers (of 4) needed to register the sheet.
        undo_blur: correct stroke widths for the image's blur, measured on the markers' edges in
            each frame (camera_feedback.blur; default true).
        sheet.width_m, sheet.height_m, markers.dictionary, markers.ids (lower-left, lower-right,
        upper-right, upper-left), markers.size_m, markers.margin_m.
        segmentation.background_window_m, segmentation.min_ink_darkness,
        segmentation.edge_level_fraction.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('camera_feedback_node', **kwargs)
        node = declare_config(self, CameraNodeConfig)
        self._source_kind = node.source
        self._frame_timeout_s = node.frame_timeout_s
        realsense = declare_config(self, RealSenseConfig, prefix='realsense.')
        self._realsense = (
            realsense.width_px,
            realsense.height_px,
            realsense.fps,
            realsense.serial,
        )
        self._file_paths = declare_config(self, FileSourceConfig, prefix='files.').paths
        sheet = declare_config(self, SheetSize, prefix='sheet.')
        markers = declare_config(
            self,
            SheetMarkers,
            prefix='markers.',
            sheet_width_m=sheet.width_m,
            sheet_height_m=sheet.height_m,
        )
        segmentation = declare_config(
            self,
            SegmentationConfig,
            prefix='segmentation.',
            level_window_m=SegmentationConfig().level_window_m,
        )
        config = declare_config(
            self,
            ObserverConfig,
            markers=markers,
            segmentation=segmentation,
            context_margin_m=ObserverConfig().context_margin_m,
        )
        self._observer = PaperObserver(config)
        self._blur_prepared = False

        self._source: FrameSource | None = None
        self._latest: LatestFrameSource | None = None
        if self._source_kind == 'topic':
            self._latest = LatestFrameSource(max_age_s=node.max_frame_age_s)
            self._source = self._latest
            self.create_subscription(
                Image,
                node.image_topic,
                self._on_image,
                2,
                callback_group=MutuallyExclusiveCallbackGroup(),
            )
        self._camera_info_topic = node.camera_info_topic
        self._lens: LensModel | ObservationError | None = None
        self._undistorter = Undistorter()
        if self._camera_info_topic:
            # A group of its own: an observation waiting for the first camera_info must not
            # hold up its delivery.
            self.create_subscription(
                CameraInfo, self._camera_info_topic, self._on_camera_info, 2,
                callback_group=MutuallyExclusiveCallbackGroup(),
            )  # fmt: skip
        latched = QoSProfile(
            depth=1,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
            reliability=ReliabilityPolicy.RELIABLE,
        )
        self._observation_pub = self.create_publisher(
            PaperObservation, 'paper_observation', latched
        )
        self.create_service(
            ObservePaper,
            'observe_paper',
            self._on_observe,
            callback_group=MutuallyExclusiveCallbackGroup(),
        )
        # Simulated time from a lane of its own (calligraphy_ros_kit.lane): /clock no longer
        # wakes the executor this node shares with the simulated camera.
        self._clock_lane = lane_for_clock(self)

    def destroy_node(self) -> None:
        if getattr(self, '_clock_lane', None) is not None:
            self._clock_lane.destroy()
            self._clock_lane = None
        super().destroy_node()

    # -- frames ----------------------------------------------------------------------------------

    def _on_image(self, msg: Image) -> None:
        if msg.header.stamp.sec == 0 and msg.header.stamp.nanosec == 0:
            # An unstamped image: its capture time is unknown, take its arrival instead.
            msg.header.stamp = self.get_clock().now().to_msg()
        try:
            self._latest.push(frame_from_image_msg(msg))
        except ObservationError as error:
            stamp = msg.header.stamp
            self._latest.push_error(error, stamp.sec + 1e-9 * stamp.nanosec)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        try:
            lens = LensModel(
                msg.width, msg.height, tuple(msg.k), msg.distortion_model, tuple(msg.d)
            )
        except UnsupportedLensError as error:
            if not isinstance(self._lens, ObservationError):
                self.get_logger().error(f'{self._camera_info_topic}: {error.message}')
            self._lens = error
            return
        self._lens = lens

    def _undistorted(self, image: np.ndarray) -> np.ndarray:
        """`image` without its lens distortion (camera_info_topic set), else as it is."""
        if not self._camera_info_topic:
            return image
        # camera_info and the image come on two topics: a frame can arrive before the first
        # calibration does (seen in a loaded test run); give it the frame timeout to come.
        wait_until(lambda: self._lens is not None, self._frame_timeout_s, interval_s=0.02)
        lens = self._lens
        if lens is None:
            raise ObservationError(
                NO_IMAGE,
                f'no camera_info on {self.resolve_topic_name(self._camera_info_topic)} yet: the '
                'lens distortion cannot be corrected',
            )
        if isinstance(lens, ObservationError):
            raise lens
        return self._undistorter.undistort(image, lens)

    def _open_source(self) -> FrameSource:
        """The configured frame source, opened on first use and reopened after a failure (a
        RealSense plugged in later is picked up)."""
        if self._source is None:
            if self._source_kind == 'realsense':
                width, height, fps, serial = self._realsense
                self._source = RealSenseSource(width, height, fps, serial)
            else:
                paths = [p for p in self._file_paths if p]
                if not paths:
                    raise ObservationError(NO_IMAGE, 'source is files but files.paths is empty')
                self._source = ImageFileSource(paths)
        return self._source

    # -- service ---------------------------------------------------------------------------------

    def _on_observe(
        self, request: ObservePaper.Request, response: ObservePaper.Response
    ) -> ObservePaper.Response:
        try:
            response.observation = self._observe(request)
            response.error_code = SUCCESS
            self._observation_pub.publish(response.observation)
        except ObservationError as error:
            response.error_code = error.code
            response.error_msg = error.message
            response.observation.score = score_to_msg(GlyphScore())
            self.get_logger().warning(f'observe_paper: {error.message}')
            if self._source_kind == 'realsense' and self._source is not None:
                # A camera that stopped delivering is reopened on the next request.
                self._source.close()
                self._source = None
        except Exception as error:  # noqa: BLE001 - a bad request must never take the node down
            response.error_code = INTERNAL_ERROR
            response.error_msg = f'{type(error).__name__}: {error}'
            response.observation.score = score_to_msg(GlyphScore())
            self.get_logger().error(f'observe_paper failed: {response.error_msg}')
        return response

    def _observe(self, request: ObservePaper.Request) -> PaperObservation:
        # A frame captured from the client's not_before on (it knows when its arm stopped; this
        # node's clock can lag the arm in simulation), a frame already held included. Without
        # one, a frame captured after the request by this node's clock that also arrived after it.
        not_before = request.not_before.sec + 1e-9 * request.not_before.nanosec
        if not_before > 0.0:
            requested_at, asked = not_before, None
        else:
            requested_at, asked = self.get_clock().now().nanoseconds * 1e-9, time.monotonic()
        mpp = self._observer.config.metres_per_pixel
        has_target = len(request.target.strokes) > 0
        _check_box('box', request.box_x_m, request.box_y_m, request.box_size_m)
        if has_target:
            target = request.target
            _check_box('target box', target.box_x_m, target.box_y_m, target.box_size_m)
        if request.box_size_m > 0:
            box = Region(request.box_x_m, request.box_y_m, request.box_size_m, request.box_size_m)
        elif has_target:
            box = plan_box(request.target)
        else:
            box = None
        target_mask = None
        strokes = []
        if has_target:
            strokes = strokes_from_plan_msg(request.target, request.strokes_written)
            target_mask = _target_in(request, box or self._observer.sheet, mpp)
        if self._latest is not None:
            frame = self._latest.read(
                self._frame_timeout_s, not_before_s=requested_at, received_after=asked
            )
        else:
            frame = self._open_source().read(self._frame_timeout_s)
        image = self._undistorted(frame.image)
        observation = self._observer.observe(image, box, target_mask, strokes)
        if not strokes and not self._blur_prepared:
            # The first look (the cell's readiness check): build the blur-correction table off
            # the request path, while the first strokes are written.
            self._blur_prepared = True
            threading.Thread(
                target=self._prepare_blur_correction,
                args=(image, observation),
                name='blur_table',
                daemon=True,
            ).start()
        return observation_to_msg(
            observation, stamp_from_seconds(frame.stamp_s), request.include_images
        )

    def _prepare_blur_correction(self, image, observation) -> None:
        try:
            self._observer.prepare_blur_correction(image, observation)
        except Exception as error:  # noqa: BLE001 — only a head start: the observation builds it
            self.get_logger().warning(f'blur correction not prepared: {error}')


def _check_box(what: str, x_m: float, y_m: float, size_m: float) -> None:
    """INVALID_BOX for a box that is not finite or has a negative size (0 = the whole sheet)."""
    if not np.all(np.isfinite([x_m, y_m, size_m])) or size_m < 0.0:
        raise ObservationError(
            ObservePaper.Response.INVALID_BOX,
            f'{what} ({x_m!r}, {y_m!r}) m, size {size_m!r} m: values must be finite and the size '
            'positive (0 = the whole sheet)',
        )


def _target_in(request: ObservePaper.Request, region: Region, mpp: float) -> np.ndarray:
    """The target glyph (stroke_planner's filled-glyph mask of the plan's box) placed in the
    observed region's raster."""
    from stroke_planner import PlanningError, target_mask

    plan = character_plan_from_msg(request.target)
    try:
        glyph = target_mask(plan, mpp)
    except PlanningError as error:
        raise ObservationError(
            INTERNAL_ERROR, f'cannot render the target glyph: {error}'
        ) from error
    mask = np.zeros(region.shape(mpp), bool)
    top = int(round((region.y_m + region.height_m - plan.box_y_m - plan.box_size_m) / mpp))
    left = int(round((plan.box_x_m - region.x_m) / mpp))
    rows, cols = glyph.shape
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + rows, mask.shape[0]), min(left + cols, mask.shape[1])
    if r0 < r1 and c0 < c1:
        mask[r0:r1, c0:c1] = glyph[r0 - top : r1 - top, c0 - left : c1 - left]
    return mask


def main(args: list[str] | None = None) -> int:
    return run_node(CameraFeedbackNode, 'camera_feedback_node', args)


if __name__ == '__main__':
    sys.exit(main())
