"""What `calligraphy write` watches while the cell writes: the progress bar fed from the goal's
feedback, the sheet images for the animation, the simulated clock, and the robot time per
character (moving, and of it writing). Each subscribes on the command's observer node. And the
two calls it makes of the cell's sheet: a new blank sheet for the writer, the sheet saved."""

from __future__ import annotations

import math
import sys
import threading
from pathlib import Path

import numpy as np


class Progress:
    """A one-line progress bar on stderr, fed from WriteText feedback; with `motion`, the current
    character's robot time so far and the share of it spent writing."""

    def __init__(self, motion=None) -> None:
        self.stream = sys.stderr
        self.motion = motion

    def __call__(self, feedback) -> None:
        done = feedback.character_index + (
            (feedback.stroke_index + (feedback.phase == 'observing'))
            / max(feedback.stroke_count, 1)
        )
        fraction = done / max(feedback.character_count, 1)
        bar = '#' * int(30 * fraction)
        iou = '' if math.isnan(feedback.running_iou) else f' IoU {feedback.running_iou:.2f}'
        if self.motion is not None:
            moving, share = self.motion.of(feedback.character_index)
            iou += f' robot {moving:.1f} s, writing {100 * share:.0f} %'
        self.stream.write(
            f'\r[{bar:<30}] char {feedback.character_index + 1}/{feedback.character_count} '
            f'stroke {feedback.stroke_index + 1}/{feedback.stroke_count} '
            f'{feedback.phase:<11} ink {feedback.ink_load:.2f}{iou}   '
        )
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write('\n')


class SheetFrames:
    """Keeps every k-th sheet image of /virtual_paper/image for the animation."""

    def __init__(self, node, every: int = 1, max_px: int = 600) -> None:
        from sensor_msgs.msg import Image

        self.frames: list[np.ndarray] = []
        self.every, self.max_px, self._count = every, max_px, 0
        self._lock = threading.Lock()
        self.first = threading.Event()  # set once a sheet image has arrived
        # Robot time of the newest tip pose the newest sheet image shows (its stamp).
        self._stamp_s = -math.inf
        self._stamped = threading.Condition()
        node.create_subscription(Image, '/virtual_paper/image', self._on_image, 2)

    def wait_until_stamp(self, robot_time_s: float, timeout_s: float) -> bool:
        """Wait (up to `timeout_s`, wall clock) for a sheet image that shows every tip pose up
        to `robot_time_s`; whether one came."""
        with self._stamped:
            return self._stamped.wait_for(lambda: self._stamp_s >= robot_time_s, timeout_s)

    def _on_image(self, msg) -> None:
        with self._stamped:
            self._stamp_s = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
            self._stamped.notify_all()
        self._count += 1
        if self._count % self.every:
            return
        image = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.width, 3)
        self._add(image)
        self.first.set()

    def add_final(self, png: str) -> None:
        """End on the saved sheet: the last image published may still be on its way."""
        import cv2

        image = cv2.imread(png, cv2.IMREAD_COLOR)
        if image is not None:
            self._add(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))

    def _add(self, image: np.ndarray) -> None:
        import cv2

        scale = self.max_px / max(image.shape[:2])
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        with self._lock:
            if not self.frames or not np.array_equal(self.frames[-1], small):
                self.frames.append(small)

    def save_gif(self, path: Path) -> bool:
        # Pillow itself, not through imageio, whose import and plugin search took 0.1-0.2 s of the
        # run's end.
        from PIL import Image

        with self._lock:
            frames = [Image.fromarray(frame) for frame in self.frames]
        if not frames:
            return False
        # One palette for all frames, from the last: it holds all the ink written, and the sheet
        # only gains ink. Half the time of a palette per frame (0.10-0.13 s against 0.23-0.27 s
        # for 永's 10 frames).
        palette = frames[-1].quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        frames = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
        frames[0].save(
            path, format='GIF', save_all=True, append_images=frames[1:], duration=250, loop=0
        )
        return True


class MotionClock:
    """Robot time during which the arm moved, per character: intervals between consecutive
    /brush_tip_pose in which the brush tip moved faster than `still_m_s`. This is what the arm
    itself costs a character (strokes, travel, its share of the dips); in simulation the waits
    for computation run at the simulator's speed-up and are not the robot's. Of it, the time
    spent writing: those of them with the tip below the sheet's surface (the bristles pressed on
    the paper). The newest tip pose's stamp is the robot time (`last`).

    One stream, the tip's: the arm publishes its joint states and tip pose in the same cycles,
    400 of each a second at the simulator's 4x while it moves, and this process (the writer's,
    the executor's and the planner's) took both for these two figures: taking one of them less,
    4 alternated pairs of `calligraphy write 永` wrote in 2.89 s against 3.08 s (mean). Every
    motion of the cell moves the tip (strokes, hops, travel, dips): a still tip is a still arm.
    """

    def __init__(self, node, still_m_s: float = 1e-3) -> None:
        from geometry_msgs.msg import PoseStamped

        self.still_m_s = still_m_s
        self.character = 0
        self.moving_s: dict[int, float] = {}
        self.writing_s: dict[int, float] = {}
        self._previous: tuple[float, np.ndarray] | None = None
        self.first: float | None = None
        self.last: float | None = None
        node.create_subscription(PoseStamped, '/brush_tip_pose', self._on_tip, 50)

    def of(self, index: int) -> tuple[float, float]:
        """Character `index`'s robot time (s) and the share of it spent writing (0..1)."""
        moving = self.moving_s.get(index, 0.0)
        return moving, (self.writing_s.get(index, 0.0) / moving if moving > 0.0 else 0.0)

    def elapsed_since(self, start: float | None) -> float:
        """Robot time from `start` (None: the first tip pose heard) to the newest."""
        start = start if start is not None else self.first
        if start is None or self.last is None:
            return math.nan
        return self.last - start

    def _on_tip(self, msg) -> None:
        stamp = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        self.first = stamp if self.first is None else self.first
        self.last = stamp
        p = msg.pose.position
        tip = np.array([p.x, p.y, p.z])
        previous, self._previous = self._previous, (stamp, tip)
        if previous is None:
            return
        dt = stamp - previous[0]
        if not 0.0 < dt < 0.5:
            return
        if np.linalg.norm(tip - previous[1]) <= self.still_m_s * dt:
            return
        self.moving_s[self.character] = self.moving_s.get(self.character, 0.0) + dt
        if previous[1][2] < 0.0 and tip[2] < 0.0:
            self.writing_s[self.character] = self.writing_s.get(self.character, 0.0) + dt


def save_paper(node, path: Path, timeout_s: float = 10.0, attempts: int = 3) -> tuple[str, float]:
    """Have the virtual paper save its sheet as a PNG at `path`: the path it saved, and the
    robot time (s) of the newest tip pose the saved sheet shows (0 if it names none)."""
    from calligraphy_interfaces.srv import SavePaper
    from calligraphy_ros_kit.futures import call_once

    client = node.create_client(SavePaper, '/virtual_paper/save')
    if not client.wait_for_service(timeout_sec=timeout_s):
        raise RuntimeError('/virtual_paper/save is not available')
    # A new client's first answer can be dropped (call_once); saving the same file again is
    # harmless.
    for _ in range(attempts):
        response = call_once(client, SavePaper.Request(path=str(path)), timeout_s)
        if response is not None:
            break
    else:
        raise RuntimeError(f'/virtual_paper/save did not answer {attempts} calls')
    if response.error_code != SavePaper.Response.SUCCESS:
        raise RuntimeError(f'saving the sheet failed: {response.error_msg}')
    shows = response.sheet_stamp
    return response.saved_path, shows.sec + 1e-9 * shows.nanosec


def save_sheet_as_of(node, frames: SheetFrames, path: Path, robot_time_s: float | None) -> str:
    """Save the virtual paper's sheet at `path` once it shows the arm's tip poses up to
    `robot_time_s` (None: as it is); the path saved.

    The virtual paper inks the tip poses as they reach its process, seconds late on a loaded
    machine, and a sheet saved at once lacked the last stroke (a Ctrl-C test saved a blank
    sheet). The saved sheet says the robot time of the newest pose it shows, as its images'
    stamps do: if that is earlier, wait for an image stamped then and save again. (Waiting for
    the image first cost up to a publishing period, 0.25 s, in every run.)
    """
    saved, shows_s = save_paper(node, path)
    if robot_time_s is None or shows_s >= robot_time_s:
        return saved
    if not frames.wait_until_stamp(robot_time_s, timeout_s=30.0):
        print(
            'calligraphy write: warning: the virtual paper had not caught up with the arm in '
            '30 s; saving the sheet as it is',
            file=sys.stderr,
        )
    return save_paper(node, path)[0]


def new_sheet(node, timeout_s: float = 30.0) -> None:
    """Tell the writer the sheet is blank: the simulated sheet is fresh on every run."""
    from std_srvs.srv import Trigger

    from calligraphy_ros_kit.futures import FutureTimeoutError, wait_for_future
    from calligraphy_writer.client import CalligraphyClientError

    client = node.create_client(Trigger, '/writer/new_sheet')
    try:
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise CalligraphyClientError(
                f'/writer/new_sheet did not appear within {timeout_s:g} s'
            )
        try:
            started = wait_for_future(client.call_async(Trigger.Request()), timeout_s).success
        except FutureTimeoutError:
            started = False
        if not started:
            raise CalligraphyClientError('the writer did not start a new sheet')
    finally:
        node.destroy_client(client)
