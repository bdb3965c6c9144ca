"""The virtual paper node: a brush-physics sheet inked by the brush tip pose stream."""

from __future__ import annotations

import sys
import threading

import numpy as np
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Float64
from std_srvs.srv import Trigger

from calligraphy_interfaces.srv import SavePaper
from calligraphy_model.brush import BrushParams
from calligraphy_model.cell_description import InkWellSettings, SheetSize
from calligraphy_ros_kit.parameters import declare_config
from calligraphy_ros_kit.runner import run_node
from calligraphy_sim.ink_well import SimulatedWellConfig, ink_tip_samples
from calligraphy_sim.paper import VirtualPaper, VirtualPaperConfig
from calligraphy_sim.paper_conversions import pose_to_sample, rgb_to_image

# How often queued tip poses are inked (s): short enough that the ink-load reading after a dip or
# wipe is published within a few tens of milliseconds.
_INK_PERIOD_S = 0.04


# Tip poses kept for the inking while this process is busy elsewhere (rendering and publishing
# the 3 MB sheet image, the brush physics of a batch): 2.5 s of a moving arm at 4x real time and
# 100 Hz. With 200, a stall of half a second on the loaded machine lost all of a 60 mm/s dot's
# poses and the dot was never inked, in 3 of 3 runs of `calligraphy write 永`.
TIP_POSE_QUEUE = 1000


class VirtualPaperNode(Node):
    """A sheet of paper in simulation, inked by the brush physics as the brush tip moves.

    Subscribes:
        /brush_tip_pose (geometry_msgs/PoseStamped, frame ``paper``): the brush tip; pressing depth
            is -z. The brush moves in straight lines between consecutive poses (a sparse stream
            inks continuously); a stamp earlier than the previous one starts a new path. Poses in
            another frame are dropped with a warning.
    Publishes (at ``publish_rate_hz``):
        /virtual_paper/image (sensor_msgs/Image, rgb8, row 0 = top of the sheet, white paper,
            dark ink, ``metres_per_pixel`` per pixel), stamped with the newest tip pose it shows;
            nothing before the first tip pose (a sheet stamped by this node's clock would claim to
            be current in the arm's clock, which it has not heard: a camera frame of it passed
            for a fresh look while no pose had reached the paper, and 一 was written on a sheet
            that stayed blank).
        /virtual_paper/ink_load (std_msgs/Float64): the brush's ink load 0..1 (also at once on
            reload and whenever the ink well soaks or wipes the brush).
    Services:
        /virtual_paper/clear (std_srvs/Trigger): a fresh sheet (the brush keeps its ink).
        /virtual_paper/save (calligraphy_interfaces/SavePaper): write the sheet as PNG; the
            answer carries the stamp of the newest tip pose it shows.
        /virtual_paper/reload_ink (std_srvs/Trigger): refill the brush to full.
    Parameters (read once at start; changes at runtime are refused):
        sheet.width_m (0.297), sheet.height_m (0.210), metres_per_pixel (0.00025),
        publish_rate_hz (4.0), initial_ink_load (1.0), seed (0), frame_id ('paper'), and
        brush.<field> for every field of :class:`~calligraphy_model.brush.BrushParams`
        (nominal brush by default; units in that class).
        The ink well (see :mod:`calligraphy_sim.ink_well`): poses anywhere, on or off the sheet,
        reach it. The tip inside the opening below the ink surface reloads the brush to full;
        drawn outward over the rim below its top it leaves ``ink_well.wipe_load``.
        ink_well.enabled (true), ink_well.cell_yaml ('' = urdf/cell.yaml of the checkout or the
        installed calligraphy_bringup share), ink_well.ink_depth_m (0.015, ink above the well's
        bottom), ink_well.wipe_load (0.9), and ink_well.{x_m, y_m, radius_m, rim_height_m,
        ink_surface_height_m} (paper frame, m; NaN = derived from cell.yaml).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('virtual_paper_node', **kwargs)
        sheet = declare_config(self, SheetSize, prefix='sheet.')
        self.config = declare_config(
            self, VirtualPaperConfig, width_m=sheet.width_m, height_m=sheet.height_m
        )
        brush = declare_config(self, BrushParams, prefix='brush.')
        well = declare_config(self, SimulatedWellConfig, prefix='ink_well.')
        self.well = well.well(declare_config(self, InkWellSettings, prefix='ink_well.'))
        self.paper = VirtualPaper(
            brush,
            width_m=self.config.width_m,
            height_m=self.config.height_m,
            metres_per_pixel=self.config.metres_per_pixel,
            ink_load=self.config.initial_ink_load,
            seed=self.config.seed,
        )
        # Pose callbacks, the publishing timer and services may run on different threads.
        self._lock = threading.Lock()
        self._image_dirty = True
        self._image_msg: Image | None = None
        self._sheet_stamp = None  # stamp of the newest tip pose applied (builtin_interfaces/Time)
        # Tip poses wait here and are inked in batches: one pose at a time cost ~0.2-0.6 ms of
        # numpy overhead, more than the arm's stream (400 poses/s at 4x real time) leaves on a
        # loaded 2-core machine, and the queue dropped most poses of a stroke.
        self._pending: list[tuple[float, float, float, float]] = []
        self._pending_stamp = None
        self._image_pub = self.create_publisher(Image, 'virtual_paper/image', 2)
        self._load_pub = self.create_publisher(Float64, 'virtual_paper/ink_load', 10)
        self.create_subscription(PoseStamped, 'brush_tip_pose', self._on_pose, TIP_POSE_QUEUE)
        self.create_service(Trigger, 'virtual_paper/clear', self._on_clear)
        self.create_service(Trigger, 'virtual_paper/reload_ink', self._on_reload)
        self.create_service(SavePaper, 'virtual_paper/save', self._on_save)
        self.create_timer(1.0 / self.config.publish_rate_hz, self._publish)
        self.create_timer(_INK_PERIOD_S, self._ink_pending)
        self.get_logger().info(
            f'virtual paper {self.config.width_m} x {self.config.height_m} m at '
            f'{self.config.metres_per_pixel * 1e3:.3f} mm/px'
        )

    def _now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_pose(self, msg: PoseStamped) -> None:
        if msg.header.frame_id != self.config.frame_id:
            self.get_logger().warning(
                f"brush tip pose in frame '{msg.header.frame_id}' ignored: expected "
                f"'{self.config.frame_id}'",
                throttle_duration_sec=5.0,
            )
            return
        x, y, depth, t = pose_to_sample(msg, self._now_s())
        if not np.all(np.isfinite([x, y, depth, t])):
            self.get_logger().warning(
                'non-finite brush tip pose ignored', throttle_duration_sec=5.0
            )
            return
        stamp = msg.header.stamp
        if stamp.sec == 0 and stamp.nanosec == 0:
            stamp = self.get_clock().now().to_msg()
        with self._lock:
            self._pending.append((x, y, depth, t))
            self._pending_stamp = stamp

    def _ink_pending(self) -> None:
        """Ink the queued tip poses; publish the load if the ink well changed it."""
        with self._lock:
            events = self._ink_pending_locked()
            load = self.paper.ink_load
        if events:
            self._load_pub.publish(Float64(data=load))

    def _ink_pending_locked(self) -> list:
        if not self._pending:
            return []
        samples = np.array(self._pending, dtype=float)
        self._pending.clear()
        before = self.paper.ink_load
        events = ink_tip_samples(self.paper, self.well, samples)
        self._sheet_stamp = self._pending_stamp
        if np.any(samples[:, 2] > 0.0) or self.paper.ink_load != before:
            self._image_dirty = True
        return events

    def _publish(self) -> None:
        with self._lock:
            self._ink_pending_locked()
            # The sheet as of the newest tip pose applied to it, in that pose's clock (the arm's
            # robot time): an observer waiting for the sheet after some moment must not take an
            # image that still lacks poses queued before that moment.
            stamp = self._sheet_stamp
            load = self.paper.ink_load
            if stamp is not None and (self._image_dirty or self._image_msg is None):
                self._image_msg = rgb_to_image(self.paper.image_rgb(), stamp, self.config.frame_id)
                self._image_dirty = False
            elif stamp is not None:
                self._image_msg.header.stamp = stamp
        if stamp is not None:
            self._image_pub.publish(self._image_msg)
        self._load_pub.publish(Float64(data=load))

    def _on_clear(self, _request, response):
        with self._lock:
            self._ink_pending_locked()
            self.paper.clear()
            self._image_dirty = True
        response.success, response.message = True, 'sheet cleared'
        return response

    def _on_reload(self, _request, response):
        with self._lock:
            self._ink_pending_locked()
            self.paper.reload(1.0)
            load = self.paper.ink_load
        self._load_pub.publish(Float64(data=load))
        response.success, response.message = True, f'ink load {load:.2f}'
        return response

    def _on_save(self, request, response):
        if not request.path or not request.path.lower().endswith('.png'):
            response.error_code = SavePaper.Response.INVALID_PATH
            response.error_msg = f'path must name a .png file, got {request.path!r}'
            return response
        try:
            with self._lock:
                self._ink_pending_locked()
                saved = self.paper.save_png(request.path)
                stamp = self._sheet_stamp
        except ValueError as error:
            response.error_code, response.error_msg = SavePaper.Response.INVALID_PATH, str(error)
            return response
        except OSError as error:
            response.error_code, response.error_msg = SavePaper.Response.WRITE_FAILED, str(error)
            return response
        response.error_code = SavePaper.Response.SUCCESS
        response.saved_path = str(saved)
        if stamp is not None:
            response.sheet_stamp = stamp
        return response


def main(args: list[str] | None = None) -> int:
    # A bad parameter (or no cell description for the ink well) stops it at start, saying why.
    return run_node(VirtualPaperNode, 'virtual_paper_node', args, threads=1)


if __name__ == '__main__':
    sys.exit(main())
