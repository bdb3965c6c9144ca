"""`calligraphy write TEXT [--out DIR]`: write in simulation and save what was written.

Brings the whole simulated cell up in this process (the nodes of launch/sim.launch.py with
config/sim.yaml), writes TEXT through the /write_text action with a progress bar, and saves:
`DIR/paper.png` (the virtual sheet), `DIR/writing.gif` (the sheet as it was written),
`DIR/report.json` ({"characters": [{"char", "iou", "strokes", "dips", "motion_time_s"}],
"duration_s",
"sim_time_s"}) and, with --record, `DIR/session.mcap` (commands, brush paths, observations).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from pathlib import Path

import numpy as np


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'write',
        help='write text in simulation and save the sheet, an animation and a report',
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument('text', help='text to write (spaces leave a cell, \\n starts a new row)')
    parser.add_argument('--out', type=Path, default=Path('out/write'), help='output directory')
    parser.add_argument('--font', default='', help='ukai (default), uming or a font file path')
    parser.add_argument('--size-mm', type=float, default=0.0, help='character box side, mm')
    parser.add_argument('--layout', choices=['rows', 'columns'], default=None)
    parser.add_argument('--controller', choices=['constant', 'analytic', 'learned'], default=None)
    parser.add_argument('--no-feedback', action='store_true', help='write open loop')
    parser.add_argument('--record', action='store_true', help='record the session to MCAP')
    parser.add_argument(
        '--brush-seed',
        type=int,
        default=None,
        help='simulate the brush `calligraphy eval --seed S` draws for its first episode '
        '(default: the nominal brush)',
    )
    parser.add_argument('--timeout-s', type=float, default=900.0, help='give up after, s')
    parser.set_defaults(func=run)


def eval_brush(seed: int):
    """The brush of episode 0 of the offline evaluation with `seed` (brush_policy_node's
    make_episodes draws episode e's brush from the evaluation distribution with [seed, e])."""
    from calligraphy_sim.brush_params import BrushParams

    return BrushParams.sample(np.random.default_rng([seed, 0]), 'eval')


def brush_parameters(brush) -> dict[str, float]:
    """virtual_paper_node parameters that make it simulate `brush` (a BrushParams), each of the
    type the node declares (the nominal brush's)."""
    import dataclasses

    from calligraphy_sim.brush_params import BrushParams

    nominal = BrushParams()
    return {
        f'brush.{f.name}': type(getattr(nominal, f.name))(getattr(brush, f.name))
        for f in dataclasses.fields(brush)
    }


class _Progress:
    """A one-line progress bar on stderr, fed from WriteText feedback."""

    def __init__(self) -> None:
        self.stream = sys.stderr

    def __call__(self, feedback) -> None:
        done = feedback.character_index + (
            (feedback.stroke_index + (feedback.phase == 'observing'))
            / max(feedback.stroke_count, 1)
        )
        fraction = done / max(feedback.character_count, 1)
        bar = '#' * int(30 * fraction)
        iou = '' if math.isnan(feedback.running_iou) else f' IoU {feedback.running_iou:.2f}'
        self.stream.write(
            f'\r[{bar:<30}] char {feedback.character_index + 1}/{feedback.character_count} '
            f'stroke {feedback.stroke_index + 1}/{feedback.stroke_count} '
            f'{feedback.phase:<11} ink {feedback.ink_load:.2f}{iou}   '
        )
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write('\n')


class _SheetFrames:
    """Keeps every k-th sheet image of /virtual_paper/image for the animation."""

    def __init__(self, node, every: int = 1, max_px: int = 600) -> None:
        from sensor_msgs.msg import Image

        self.frames: list[np.ndarray] = []
        self.every, self.max_px, self._count = every, max_px, 0
        self._lock = threading.Lock()
        self.first = threading.Event()  # set once a sheet image has arrived
        node.create_subscription(Image, '/virtual_paper/image', self._on_image, 2)

    def _on_image(self, msg) -> None:
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
        import imageio.v3 as iio

        with self._lock:
            frames = list(self.frames)
        if not frames:
            return False
        iio.imwrite(path, np.stack(frames), duration=250, loop=0)
        return True


class _SimClock:
    def __init__(self, node) -> None:
        from rosgraph_msgs.msg import Clock

        self.first: float | None = None
        self.last: float | None = None
        node.create_subscription(Clock, '/clock', self._on_clock, 10)

    def _on_clock(self, msg) -> None:
        now = msg.clock.sec + 1e-9 * msg.clock.nanosec
        self.first = now if self.first is None else self.first
        self.last = now

    def elapsed_since(self, start: float | None) -> float:
        start = start if start is not None else self.first
        if start is None or self.last is None:
            return math.nan
        return self.last - start


class _MotionClock:
    """Robot time during which the arm moved, per character: intervals between consecutive
    /joint_states in which some joint moved faster than `still_rad_s`. This is what the arm
    itself costs a character (strokes, travel, its share of the dips); in simulation the
    waits for computation run at the simulator's speed-up and are not the robot's."""

    def __init__(self, node, still_rad_s: float = 1e-3) -> None:
        from sensor_msgs.msg import JointState

        self.still_rad_s = still_rad_s
        self.character = 0
        self.moving_s: dict[int, float] = {}
        self._previous: tuple[float, np.ndarray] | None = None
        node.create_subscription(JointState, '/joint_states', self._on_state, 50)

    def _on_state(self, msg) -> None:
        stamp = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        positions = np.asarray(msg.position, dtype=float)
        previous, self._previous = self._previous, (stamp, positions)
        if previous is None or previous[1].shape != positions.shape:
            return
        dt = stamp - previous[0]
        if 0.0 < dt < 0.5 and np.max(np.abs(positions - previous[1])) > self.still_rad_s * dt:
            self.moving_s[self.character] = self.moving_s.get(self.character, 0.0) + dt


def _save_paper(node, path: Path, timeout_s: float = 10.0) -> str:
    from calligraphy_bringup.graph import wait_for_future
    from calligraphy_interfaces.srv import SavePaper

    client = node.create_client(SavePaper, '/virtual_paper/save')
    if not client.wait_for_service(timeout_sec=timeout_s):
        raise RuntimeError('/virtual_paper/save is not available')
    future = client.call_async(SavePaper.Request(path=str(path)))
    if not wait_for_future(future, timeout_s):
        raise RuntimeError('/virtual_paper/save did not answer')
    response = future.result()
    if response.error_code != SavePaper.Response.SUCCESS:
        raise RuntimeError(f'saving the sheet failed: {response.error_msg}')
    return response.saved_path


def run(args: argparse.Namespace) -> int:
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from calligraphy_bringup.graph import SIM_PROCESS_GROUPS, CellGraph, wait_until_cell_sees_now
    from calligraphy_writer.client import CalligraphyClient, CalligraphyClientError

    text = args.text.replace('\\n', '\n')
    if not text.strip():
        print('calligraphy write: error: the text is empty', file=sys.stderr)
        return 2
    if args.size_mm < 0:
        print('calligraphy write: error: --size-mm must be positive', file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    writer_overrides = {'save_dir': str((out / 'observations').resolve())}
    if args.controller:
        writer_overrides['controller'] = args.controller
    if args.layout:
        writer_overrides['layout'] = args.layout
    overrides = {'writer_node': writer_overrides}
    if args.brush_seed is not None:
        overrides['virtual_paper_node'] = brush_parameters(eval_brush(args.brush_seed))

    context = Context()
    rclpy.init(context=context)
    started = time.monotonic()
    try:
        graph = CellGraph(
            context, overrides=overrides, process_groups=SIM_PROCESS_GROUPS,
        )  # fmt: skip
        with graph:
            observer = Node('calligraphy_write_cli', context=context)
            executor = SingleThreadedExecutor(context=context)
            executor.add_node(observer)
            frames, clock = _SheetFrames(observer), _SimClock(observer)
            motion = _MotionClock(observer)
            recorder = None
            if args.record:
                from calligraphy_bringup.recording import SessionRecorder

                recorder = SessionRecorder(observer, out / 'session.mcap')
            spinner = threading.Thread(target=executor.spin, daemon=True)
            spinner.start()
            progress = _Progress()
            # The arm, paper and camera run in processes of their own and start after the
            # in-process writer: wait until the camera sees the sheet as of now.
            try:
                wait_until_cell_sees_now(observer, timeout_s=90.0)
            except TimeoutError as error:
                raise CalligraphyClientError(str(error)) from None
            # The animation starts from the sheet before the first stroke (on a loaded machine
            # the 3 MB sheet images can reach this process seconds after the camera's).
            frames.first.wait(timeout=20.0)
            with CalligraphyClient(server_timeout_s=60.0) as cell:
                sim_start = clock.last
                try:
                    result = cell.write_text(
                        text, font=args.font, size_m=args.size_mm / 1000.0,
                        use_feedback=not args.no_feedback, timeout_s=args.timeout_s,
                        on_feedback=lambda f: (setattr(motion, 'character', f.character_index),
                                               progress(f)),
                    )  # fmt: skip
                except KeyboardInterrupt:
                    # Ctrl-C: the client cancelled the goal and the brush is lifted; what was
                    # written is saved like a finished run's.
                    result = cell.interrupted_result
                    if result is None:
                        raise
                progress.finish()
                time.sleep(0.6)  # the sheet image after the last stroke
                sim_time_s = clock.elapsed_since(sim_start)
            paper = _save_paper(observer, (out / 'paper.png').resolve())
            frames.add_final(paper)
            animated = frames.save_gif(out / 'writing.gif')
            if recorder is not None:
                recorder.close()
            executor.shutdown()
            observer.destroy_node()
    except CalligraphyClientError as error:
        print(f'calligraphy write: error: {error}', file=sys.stderr)
        return 1
    finally:
        context.try_shutdown()

    characters = [
        {
            'char': char,
            'iou': round(score.iou, 4) if math.isfinite(score.iou) else None,
            'strokes': int(strokes),
            'dips': int(dips),
            'motion_time_s': round(motion.moving_s.get(index, 0.0), 2),
        }
        for index, (char, score, strokes, dips) in enumerate(
            zip(
                result.characters,
                result.scores,
                result.stroke_counts,
                result.character_dips,
                strict=False,
            )
        )
    ]
    report = {
        'text': text,
        'characters': characters,
        'duration_s': round(time.monotonic() - started, 2),
        'sim_time_s': round(sim_time_s, 2) if math.isfinite(sim_time_s) else None,
        'success': bool(result.success),
        'error_code': int(result.error_code),
        'error_msg': result.error_msg,
    }
    (out / 'report.json').write_text(json.dumps(report, indent=2, ensure_ascii=False) + '\n')
    for entry in characters:
        iou, strokes, dips = entry['iou'], entry['strokes'], entry['dips']
        print(
            f'  {entry["char"]}  IoU {iou}  strokes {strokes}  dips {dips}  '
            f'arm moving {entry["motion_time_s"]} s'
        )
    print(f'sheet:     {paper}')
    if animated:
        print(f'animation: {(out / "writing.gif").resolve()}')
    print(f'report:    {(out / "report.json").resolve()}')
    if result.error_code == result.CANCELED:
        print(
            f'calligraphy write: interrupted ({result.error_msg}): {result.characters_written} '
            f'of {result.character_count} characters complete, the brush lifted',
            file=sys.stderr,
        )
        return 130
    if not result.success:
        print(
            f'calligraphy write: error: {result.error_msg} (code {result.error_code})',
            file=sys.stderr,
        )
        return 1
    return 0
