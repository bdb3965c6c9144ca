"""ROS node of the simulated camera: the virtual paper seen through a pinhole camera."""

from __future__ import annotations

import bisect
import math
import sys
import threading
import time
from collections import deque

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import Header

from calligraphy_model.cell_description import ARM_JOINTS, default_urdf_path
from calligraphy_model.sheet_markers import SheetMarkers
from calligraphy_ros_kit.lane import SubscriptionLane
from calligraphy_ros_kit.parameters import declare_config
from calligraphy_ros_kit.runner import run_node
from calligraphy_sim.camera import (
    STILL_RAD,
    SheetImageConfig,
    SimCameraConfig,
    SimCameraNodeConfig,
    SimulatedCamera,
    camera_pose_from_cell,
)
from calligraphy_sim.camera_conversions import array_to_rgb8, camera_info, rgb8_to_array

# A frame is drawn with the arm once the joint states heard reach its stamp, within this much
# robot time (they come at 100 Hz), or after STALE_ARM_WAIT_S of wall time waiting for them.
JOINT_STATE_SLACK_S = 0.02
STALE_ARM_WAIT_S = 1.0
# The arm counts as moving at a frame's stamp when a joint turned by more than STILL_RAD in this
# much robot time before it (the servo settles below 1e-3 rad/s within 0.07 s of arriving).
MOTION_WINDOW_S = 0.05


class SimCameraNode(Node):
    """Renders camera frames of the virtual paper.

    Subscribes:
        virtual_paper/image (sensor_msgs/Image, rgb8, `paper.metres_per_pixel`, row 0 = top of
            the sheet).
        joint_states (sensor_msgs/JointState), with `render_arm`: the arm is drawn as it stood at
            each frame's stamp (the newest joint state not after it), from the cell URDF.
    Publishes (at most `rate_hz`: one frame per new sheet image, stamped with the sheet's stamp;
    an unstamped sheet is imaged at every period, stamped then; nothing before the first sheet;
    with `render_arm`, at most `moving_rate_hz` while the arm moves, so that the frame an
    observation waits for, once the arm has stopped, is not queued behind renders of the arm in
    motion that nothing looks at):
        camera/color/image_raw (sensor_msgs/Image, rgb8, frame `frame_id`)
        camera/color/camera_info (sensor_msgs/CameraInfo)
    Names are relative: in the cell's namespace. Remapped to realsense2_camera's names
    (`/camera/camera/color/...`) it stands in for the real camera (test_real_cell_contract).
    Parameters:
        rate_hz, moving_rate_hz, frame_id, seed, render_arm (false),
        urdf_path ('' = urdf/ of the checkout),
        paper.width_m, paper.height_m, paper.metres_per_pixel,
        camera.width_px, camera.height_px, camera.fx_px, camera.fy_px,
        cell_yaml ('' = urdf/cell.yaml): the camera is posed where its
        camera_color_optical_frame and paper entries put it (no pose parameters),
        camera.light_falloff, camera.blur_px, camera.read_noise, camera.shot_noise_gain,
        camera.paper_texture, markers.dictionary, markers.ids, markers.size_m, markers.margin_m.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('sim_camera_node', **kwargs)
        node = declare_config(self, SimCameraNodeConfig)
        sheet = declare_config(self, SheetImageConfig, prefix='paper.')
        markers = declare_config(
            self,
            SheetMarkers,
            prefix='markers.',
            sheet_width_m=sheet.width_m,
            sheet_height_m=sheet.height_m,
        )
        defaults = SimCameraConfig()
        # Image-formation fields that are not parameters: their defaults.
        unset = ('cx_px', 'cy_px', 'exposure', 'light_centre_m', 'table_rgb', 'supersample')
        config = declare_config(
            self,
            SimCameraConfig,
            prefix='camera.',
            markers=markers,
            look_at_m=defaults.look_at_m,  # unused: the cell description gives the orientation
            **camera_pose_from_cell(node.cell_yaml or None),
            **{name: getattr(defaults, name) for name in unset},
        )
        self._frame_id = node.frame_id
        # Half a camera period of slack: a timer that fires a little early still takes its frame.
        self._moving_period_s = 1.0 / node.moving_rate_hz - 0.5 / node.rate_hz
        self._moving_frame_at = -math.inf  # wall time of the last frame of the arm in motion
        self._camera = SimulatedCamera(
            config, (sheet.width_m, sheet.height_m), sheet.metres_per_pixel, node.seed
        )
        self._sheet: np.ndarray | None = None
        self._sheet_stamp = None
        self._rendered_stamp = None  # stamp of the sheet of the last frame
        self._waiting_since: float | None = None  # for joint states to reach the sheet's stamp
        self._lock = threading.Lock()
        self._arm_view = None
        self._lane = None
        # (stamp s, positions in ARM_JOINTS order) of the last 4 s of robot time, oldest first.
        self._joint_states: deque[tuple[float, np.ndarray]] = deque()
        if node.render_arm:
            from calligraphy_sim.arm_view import ArmView

            self._arm_view = ArmView(
                node.urdf_path or default_urdf_path(),
                np.asarray(config.position_m, float),
                config.rotation_paper_from_camera(),
                config.camera_matrix(),
                config.width_px,
                config.height_px,
            )
            # On a lane of its own (calligraphy_ros_kit.lane): 400 joint states a second must not
            # wait behind a frame's render, nor wake the executor of this process's nodes.
            self._lane = SubscriptionLane(self)
            self._lane.create_subscription(JointState, 'joint_states', self._on_joint_state, 50)
        self._image_pub = self.create_publisher(Image, 'camera/color/image_raw', 2)
        self._info_pub = self.create_publisher(CameraInfo, 'camera/color/camera_info', 2)
        self.create_subscription(Image, 'virtual_paper/image', self._on_sheet, 2)
        self.create_timer(1.0 / node.rate_hz, self._publish)

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
        # Imaged as it arrives, not at the timer's next beat: an observation waits for the frame
        # of the sheet after a stroke, and waited half a camera period more on average (0.1 s
        # at 5 Hz, at each observation and at the cell's start). The timer still retries a sheet
        # whose frame had to wait (for joint states, or a moving arm's period). Both callbacks
        # are in the node's default, mutually exclusive group: never two renders at once.
        self._publish()

    def _on_joint_state(self, msg: JointState) -> None:
        names = list(msg.name)
        if not set(ARM_JOINTS) <= set(names) or len(msg.position) != len(names):
            return
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        positions = np.array([msg.position[names.index(n)] for n in ARM_JOINTS])
        with self._lock:
            if self._joint_states and stamp < self._joint_states[-1][0]:
                self._joint_states.clear()  # time went back: a restarted simulation
            self._joint_states.append((stamp, positions))
            while stamp - self._joint_states[0][0] > 4.0:
                self._joint_states.popleft()

    def _arm_at(self, stamp) -> tuple[np.ndarray | None, bool, bool]:
        """The arm's joint positions at robot time `stamp` (the newest state not after it),
        whether the joint states heard so far reach that moment, and whether the arm was moving
        then (a joint turned by more than STILL_RAD in the MOTION_WINDOW_S before it)."""
        t = stamp.sec + stamp.nanosec * 1e-9
        with self._lock:
            states = list(self._joint_states)
        if not states:
            return None, False, False
        stamps = [s for s, _ in states]
        index = max(bisect.bisect_right(stamps, t) - 1, 0)
        before = bisect.bisect_right(stamps, t - MOTION_WINDOW_S) - 1
        positions = states[index][1]
        moving = before >= 0 and float(np.max(np.abs(positions - states[before][1]))) > STILL_RAD
        return positions, states[-1][0] >= t - JOINT_STATE_SLACK_S, moving

    def _publish(self) -> None:
        with self._lock:
            sheet, stamp = self._sheet, self._sheet_stamp
        if stamp is None:
            return  # no sheet seen yet: a blank frame stamped now would pass for a fresh look
        unstamped = stamp.sec == 0 and stamp.nanosec == 0
        if not unstamped and stamp == self._rendered_stamp:
            return  # no new sheet since the last frame: the same view again tells nobody more
        arm = None
        if self._arm_view is not None:
            positions, covered, moving = self._arm_at(stamp)
            if not covered and not unstamped:
                # The sheet is newer than the joint states heard: the arm drawn now would stand
                # where it was earlier (over the stroke it just left, in one frame of five when
                # the arm moved out of view right before an observation). Wait for them, up to
                # STALE_ARM_WAIT_S, then draw the newest pose known (an arm that stopped
                # publishing).
                now = time.monotonic()
                if self._waiting_since is None:
                    self._waiting_since = now
                if now - self._waiting_since < STALE_ARM_WAIT_S:
                    return
            self._waiting_since = None
            if moving and not unstamped:
                now = time.monotonic()
                if now - self._moving_frame_at < self._moving_period_s:
                    return  # the next period looks at the newest sheet again
                self._moving_frame_at = now
            if positions is not None:
                arm = self._arm_view.render(positions)
        self._rendered_stamp = stamp
        frame = self._camera.render(sheet, arm)
        # The simulated exposure happens when the sheet was imaged, so a consumer that wants a
        # picture taken after some moment (camera_feedback) can rely on the stamp, as with a
        # real camera's capture time.
        if unstamped:
            stamp = self.get_clock().now().to_msg()  # an unstamped sheet: imaged now
        header = Header(frame_id=self._frame_id, stamp=stamp)
        self._image_pub.publish(array_to_rgb8(frame, header))
        self._info_pub.publish(camera_info(self._camera.config, header))

    def destroy_node(self) -> None:
        if self._lane is not None:
            self._lane.destroy()
            self._lane = None
        if self._arm_view is not None:
            self._arm_view.close()
            self._arm_view = None
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(SimCameraNode, 'sim_camera_node', args, threads=1)


if __name__ == '__main__':
    sys.exit(main())
