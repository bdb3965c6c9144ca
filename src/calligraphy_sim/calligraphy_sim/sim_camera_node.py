"""ROS node of the simulated camera: the virtual paper seen through a pinhole camera."""

from __future__ import annotations

import math
import threading

import numpy as np
import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from calligraphy_sim.camera import PrintedMarkers, SimCameraConfig, SimulatedCamera
from calligraphy_sim.camera_conversions import array_to_rgb8, camera_info, rgb8_to_array


class SimCameraNode(Node):
    """Renders camera frames of the virtual paper.

    Subscribes:
        /virtual_paper/image (sensor_msgs/Image, rgb8, `paper.metres_per_pixel`, row 0 = top of
            the sheet).
    Publishes (at most `rate_hz`: one frame per new sheet image, stamped with the sheet's stamp;
    an unstamped sheet is imaged at every period, stamped then; nothing before the first sheet):
        /camera/color/image_raw (sensor_msgs/Image, rgb8, frame `frame_id`)
        /camera/color/camera_info (sensor_msgs/CameraInfo)
    Parameters:
        rate_hz, frame_id, seed, paper.width_m, paper.height_m, paper.metres_per_pixel,
        camera.width_px, camera.height_px, camera.fx_px, camera.fy_px,
        camera.position_m [x, y, z] and camera.look_at_m [x, y, z] (paper frame),
        camera.light_falloff, camera.blur_px, camera.read_noise, camera.shot_noise_gain,
        camera.paper_texture, markers.dictionary, markers.ids, markers.size_m, markers.margin_m.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('sim_camera_node', **kwargs)
        defaults = SimCameraConfig()
        marker_defaults = PrintedMarkers()

        def declare(name: str, value, description: str):
            return self.declare_parameter(
                name, value, ParameterDescriptor(description=description, read_only=True)
            ).value

        rate_hz = declare('rate_hz', 5.0, 'frames per second')
        self._frame_id = declare('frame_id', 'camera_color_optical_frame', 'optical frame')
        seed = declare('seed', 0, 'noise seed')
        sheet_w = declare('paper.width_m', 0.297, 'sheet width, m')
        sheet_h = declare('paper.height_m', 0.210, 'sheet height, m')
        sheet_mpp = declare('paper.metres_per_pixel', 0.00025, 'virtual paper image pitch, m/px')
        config = SimCameraConfig(
            width_px=declare('camera.width_px', defaults.width_px, 'image width, px'),
            height_px=declare('camera.height_px', defaults.height_px, 'image height, px'),
            fx_px=declare('camera.fx_px', defaults.fx_px, 'focal length x, px'),
            fy_px=declare('camera.fy_px', defaults.fy_px, 'focal length y, px'),
            position_m=tuple(
                declare('camera.position_m', list(defaults.position_m), 'camera centre in paper')
            ),
            look_at_m=tuple(
                declare('camera.look_at_m', list(defaults.look_at_m), 'point looked at, paper')
            ),
            light_falloff=declare(
                'camera.light_falloff', defaults.light_falloff, 'light lost to the far corner'
            ),
            blur_px=declare('camera.blur_px', defaults.blur_px, 'optics blur sigma, px'),
            read_noise=declare('camera.read_noise', defaults.read_noise, 'read noise, DN'),
            shot_noise_gain=declare(
                'camera.shot_noise_gain', defaults.shot_noise_gain, 'shot noise variance per DN'
            ),
            paper_texture=declare(
                'camera.paper_texture', defaults.paper_texture, 'paper texture amplitude'
            ),
            markers=PrintedMarkers(
                dictionary=declare('markers.dictionary', marker_defaults.dictionary, 'ArUco set'),
                ids=tuple(declare('markers.ids', list(marker_defaults.ids), 'LL, LR, UR, UL ids')),
                size_m=declare('markers.size_m', marker_defaults.size_m, 'marker side, m'),
                margin_m=declare('markers.margin_m', marker_defaults.margin_m, 'edge margin, m'),
            ),
        )
        if not (rate_hz > 0 and math.isfinite(rate_hz)):
            raise ValueError(f'rate_hz must be positive, got {rate_hz}')
        self._camera = SimulatedCamera(config, (sheet_w, sheet_h), sheet_mpp, seed)
        self._sheet: np.ndarray | None = None
        self._sheet_stamp = None
        self._rendered_stamp = None  # stamp of the sheet of the last frame
        self._lock = threading.Lock()
        self._image_pub = self.create_publisher(Image, '/camera/color/image_raw', 2)
        self._info_pub = self.create_publisher(CameraInfo, '/camera/color/camera_info', 2)
        self.create_subscription(Image, '/virtual_paper/image', self._on_sheet, 2)
        self.create_timer(1.0 / rate_hz, self._publish)

    def _on_sheet(self, msg: Image) -> None:
        try:
            sheet = rgb8_to_array(msg)
        except ValueError as error:
            self.get_logger().warning(f'ignoring virtual paper image: {error}', once=True)
            return
        if sheet.shape[:2] != self._camera.sheet_shape:
            self.get_logger().warning(
                f'ignoring virtual paper image of {sheet.shape[:2]}, expected '
                f'{self._camera.sheet_shape} (paper size / metres_per_pixel)',
                once=True,
            )
            return
        with self._lock:
            self._sheet, self._sheet_stamp = sheet, msg.header.stamp

    def _publish(self) -> None:
        with self._lock:
            sheet, stamp = self._sheet, self._sheet_stamp
        if stamp is None:
            return  # no sheet seen yet: a blank frame stamped now would pass for a fresh look
        unstamped = stamp.sec == 0 and stamp.nanosec == 0
        if not unstamped and stamp == self._rendered_stamp:
            return  # no new sheet since the last frame: the same view again tells nobody more
        self._rendered_stamp = stamp
        frame = self._camera.render(sheet)
        # The simulated exposure happens when the sheet was imaged, so a consumer that wants a
        # picture taken after some moment (camera_feedback) can rely on the stamp, as with a
        # real camera's capture time.
        if unstamped:
            stamp = self.get_clock().now().to_msg()  # an unstamped sheet: imaged now
        header = Header(frame_id=self._frame_id, stamp=stamp)
        self._image_pub.publish(array_to_rgb8(frame, header))
        self._info_pub.publish(camera_info(self._camera.config, header))


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    node = None
    try:
        node = SimCameraNode()
        rclpy.spin(node)
    except KeyboardInterrupt:
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
