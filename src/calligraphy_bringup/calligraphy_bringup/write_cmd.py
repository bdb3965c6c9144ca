"""`calligraphy write TEXT [--out DIR]`: write in simulation and save what was written.

Brings the whole simulated cell up in this process (the nodes of launch/sim.launch.py with
config/sim.yaml) on a blank sheet, writes TEXT through the /write_text action with a progress
bar, and saves: `DIR/paper.png` (the virtual sheet), `DIR/writing.gif` (the sheet as it was
written), `DIR/report.json` ({"status", "characters": [{"char", "iou", "strokes", "dips",
"motion_time_s", "writing_share"}], "duration_s", "sim_time_s", "warnings", ...}) and, with
--record, `DIR/session.mcap` (commands, brush paths, observations).

Exit status: 0 written; 1 the writer failed or --timeout-s ran out (the goal is cancelled, the
brush lifted, and what was written saved as above); 2 a bad command line (nothing started);
130 Ctrl-C (cancelled and saved the same way once writing has begun).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
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
    parser.add_argument(
        '--timeout-s', type=float, default=900.0,
        help='give up after this many seconds of writing: cancel, save what was written, exit 1',
    )  # fmt: skip
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
    waits for computation run at the simulator's speed-up and are not the robot's. Of it, the
    time spent writing: intervals between consecutive /brush_tip_pose with the tip below the
    sheet's surface (the bristles pressed on the paper)."""

    def __init__(self, node, still_rad_s: float = 1e-3) -> None:
        from geometry_msgs.msg import PoseStamped
        from sensor_msgs.msg import JointState

        self.still_rad_s = still_rad_s
        self.character = 0
        self.moving_s: dict[int, float] = {}
        self.writing_s: dict[int, float] = {}
        self._previous: tuple[float, np.ndarray] | None = None
        self._previous_tip: tuple[float, float] | None = None
        node.create_subscription(JointState, '/joint_states', self._on_state, 50)
        node.create_subscription(PoseStamped, '/brush_tip_pose', self._on_tip, 50)

    def of(self, index: int) -> tuple[float, float]:
        """Character `index`'s robot time (s) and the share of it spent writing (0..1)."""
        moving = self.moving_s.get(index, 0.0)
        writing = min(self.writing_s.get(index, 0.0), moving)
        return moving, (writing / moving if moving > 0.0 else 0.0)

    def _on_tip(self, msg) -> None:
        stamp = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        previous, self._previous_tip = self._previous_tip, (stamp, msg.pose.position.z)
        if previous is None:
            return
        dt = stamp - previous[0]
        if 0.0 < dt < 0.5 and previous[1] < 0.0 and msg.pose.position.z < 0.0:
            self.writing_s[self.character] = self.writing_s.get(self.character, 0.0) + dt

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


class _Spinner:
    """Spins an executor on a thread of its own until stop(), which joins it.

    Not Executor.spin(): that ends only when the executor or the context is shut down under the
    thread, which then raises (printed as 'Exception in thread ... (spin)') or is still inside
    rclpy's wait when the interpreter exits. Every exit path stops and joins this thread first.
    """

    def __init__(self, executor) -> None:
        self.executor = executor
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, name='write_cli_spin', daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            while not self._stop.is_set() and self.executor.context.ok():
                self.executor.spin_once(timeout_sec=0.2)
        except ExternalShutdownException:
            pass

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout_s)


def _usage_error(args: argparse.Namespace, text: str) -> str | None:
    """What is wrong with the command line (checked before the cell comes up), or None."""
    if not text.strip():
        return 'the text is empty'
    if not math.isfinite(args.size_mm) or args.size_mm < 0:
        return f'--size-mm must be positive (0: the configured size), got {args.size_mm:g}'
    if not math.isfinite(args.timeout_s) or args.timeout_s <= 0:
        return f'--timeout-s must be a positive number of seconds, got {args.timeout_s:g}'
    try:
        _prepare_out(args.out)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return f'--out {args.out}: cannot write there ({reason})'
    return None


def _prepare_out(out: Path) -> None:
    """Create the output folder (and the writer's observations folder) and prove it writable:
    the writer and the sheet saver write there only once the cell is up."""
    (out / 'observations').mkdir(parents=True, exist_ok=True)
    probe = out / f'.write-probe-{os.getpid()}'
    probe.write_bytes(b'')
    probe.unlink()


def _new_sheet(node, timeout_s: float = 30.0) -> None:
    """Tell the writer the sheet is blank: the simulated sheet is fresh on every run."""
    from std_srvs.srv import Trigger

    from calligraphy_bringup.graph import wait_for_future
    from calligraphy_writer.client import CalligraphyClientError

    client = node.create_client(Trigger, '/writer/new_sheet')
    try:
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise CalligraphyClientError(
                f'/writer/new_sheet did not appear within {timeout_s:g} s'
            )
        future = client.call_async(Trigger.Request())
        if not wait_for_future(future, timeout_s) or not future.result().success:
            raise CalligraphyClientError('the writer did not start a new sheet')
    finally:
        node.destroy_client(client)


def run(args: argparse.Namespace) -> int:
    text = args.text.replace('\\n', '\n')
    problem = _usage_error(args, text)
    if problem:
        print(f'calligraphy write: error: {problem}', file=sys.stderr)
        return 2

    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context)
    try:
        return _write(args, text, context)
    finally:
        # Destroyed, not only shut down: a DDS participant still alive when the interpreter
        # exits aborts the process in its static destructors ('terminate called without an
        # active exception', exit 134), which is what a timed-out run used to end with.
        context.try_shutdown()
        context.destroy()


def _write(args: argparse.Namespace, text: str, context) -> int:
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from calligraphy_bringup.graph import SIM_PROCESS_GROUPS, CellGraph, wait_until_cell_sees_now
    from calligraphy_writer.client import (
        CalligraphyClient,
        CalligraphyClientError,
        GoalTimeoutError,
    )

    out: Path = args.out
    writer_overrides = {'save_dir': str((out / 'observations').resolve())}
    # This run's sheet is a fresh simulated one: keep its state beside its outputs, not in
    # the state file of a cell brought up by other means.
    writer_overrides['sheet_state_file'] = str((out / 'sheet_state.json').resolve())
    if args.controller:
        writer_overrides['controller'] = args.controller
    if args.layout:
        writer_overrides['layout'] = args.layout
    overrides = {'writer_node': writer_overrides}
    if args.brush_seed is not None:
        overrides['virtual_paper_node'] = brush_parameters(eval_brush(args.brush_seed))

    started = time.monotonic()
    graph = observer = executor = spinner = recorder = cell = None
    timed_out = ''
    try:
        graph = CellGraph(context, overrides=overrides, process_groups=SIM_PROCESS_GROUPS)
        graph.start()
        observer = Node('calligraphy_write_cli', context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(observer)
        frames, clock = _SheetFrames(observer), _SimClock(observer)
        motion = _MotionClock(observer)
        if args.record:
            from calligraphy_bringup.recording import SessionRecorder

            recorder = SessionRecorder(observer, out / 'session.mcap')
        # The client's action clients live on this node, in the writer's own context (one DDS
        # participant): a client of its own context joined the graph only now, and the writer
        # could answer the goal before it had discovered the client's reader; the answer was then
        # lost although the character was written ('no goal from the writer within 60 s', seen
        # once in about 20 runs). Created before spinning starts, as rclpy's ActionClient needs,
        # and closed only once the spinning has stopped (_close).
        cell = CalligraphyClient(node=observer, server_timeout_s=60.0)
        spinner = _Spinner(executor)
        progress = _Progress(motion)
        # The arm, paper and camera run in processes of their own and start after the
        # in-process writer: wait until the camera sees the sheet as of now.
        try:
            wait_until_cell_sees_now(observer, timeout_s=90.0)
        except TimeoutError as error:
            raise CalligraphyClientError(str(error)) from None
        # The animation starts from the sheet before the first stroke (on a loaded machine
        # the 3 MB sheet images can reach this process seconds after the camera's).
        frames.first.wait(timeout=20.0)
        _new_sheet(observer)
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
        except GoalTimeoutError as error:
            # Past --timeout-s the client cancelled the goal (the brush is lifted): save
            # what was written and say that it timed out.
            result, timed_out = error.result, str(error)
        progress.finish()
        time.sleep(0.6)  # the sheet image after the last stroke
        sim_time_s = clock.elapsed_since(sim_start)
        paper = _save_paper(observer, (out / 'paper.png').resolve())
        frames.add_final(paper)
        animated = frames.save_gif(out / 'writing.gif')
    except (RuntimeError, OSError) as error:
        # The writer, the cell or the output folder failed us (CalligraphyClientError is a
        # RuntimeError, as are the sheet saver's errors): one line, not a traceback.
        print(f'calligraphy write: error: {error}', file=sys.stderr)
        return 1
    finally:
        _close(spinner, recorder, executor, observer, graph, cell)

    report = _report(text, result, motion, time.monotonic() - started, sim_time_s, timed_out)
    (out / 'report.json').write_text(json.dumps(report, indent=2, ensure_ascii=False) + '\n')
    _announce(report, paper, (out / 'writing.gif').resolve() if animated else None, out)
    if timed_out:
        done = (
            f'{result.characters_written} of {result.character_count} characters complete, '
            'the goal cancelled, the brush lifted'
            if result is not None
            else 'the goal cancelled, but the writer did not answer the cancel'
        )
        print(
            f'calligraphy write: error: timed out after {args.timeout_s:g} s (--timeout-s): '
            f'{done}',
            file=sys.stderr,
        )
        return 1
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


def _announce(report: dict, paper: str, animation: Path | None, out: Path) -> None:
    """Print what was written, every warning of the writer, and where the files are."""
    for entry in report['characters']:
        iou, strokes, dips = entry['iou'], entry['strokes'], entry['dips']
        print(
            f'  {entry["char"]}  IoU {iou}  strokes {strokes}  dips {dips}  '
            f'arm moving {entry["motion_time_s"]} s, writing {entry["writing_share"]:.0%} of it'
        )
    for warning in report['warnings']:
        print(f'warning: {warning}')
    print(f'sheet:     {paper}')
    if animation is not None:
        print(f'animation: {animation}')
    print(f'report:    {(out / "report.json").resolve()}')


def _close(spinner, recorder, executor, observer, graph, cell=None) -> None:
    """Stop everything this command started, threads joined before anything is destroyed.

    Ctrl-C is ignored meanwhile (the steps are bounded): an interrupt in the middle would leave
    the simulated cell's processes or a thread inside rclpy behind.
    """
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if spinner is not None:
            spinner.stop()
        if cell is not None:
            # Its action clients live on the observer node: destroyed while nothing spins it.
            cell.close()
        if recorder is not None:
            recorder.close()
        if executor is not None:
            executor.shutdown(timeout_sec=2.0)
        if observer is not None:
            observer.destroy_node()
        if graph is not None:
            graph.close()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _report(text: str, result, motion, duration_s: float, sim_time_s: float, timed_out: str):
    """report.json's content. `result` is the WriteText result (None when a goal that timed out
    gave none back after its cancel); `timed_out` the timeout's message, or empty."""
    names = ('characters', 'scores', 'stroke_counts', 'character_dips')
    columns = [getattr(result, name, []) for name in names] if result is not None else [[]] * 4
    warnings = [str(warning) for warning in getattr(result, 'warnings', [])]
    characters = [
        {
            'char': char,
            'iou': round(score.iou, 4) if math.isfinite(score.iou) else None,
            'strokes': int(strokes),
            'dips': int(dips),
            'motion_time_s': round(motion.of(index)[0], 2),
            'writing_share': round(motion.of(index)[1], 3),
        }
        for index, (char, score, strokes, dips) in enumerate(zip(*columns, strict=False))
    ]
    if result is None:
        status, code, message = 'timed_out', None, timed_out
    else:
        code, message = int(result.error_code), result.error_msg
        if timed_out:
            status, message = 'timed_out', f'{timed_out} ({result.error_msg})'
        elif result.success:
            status = 'succeeded'
        elif result.error_code == result.CANCELED:
            status = 'interrupted'
        else:
            status = 'failed'
    return {
        'text': text,
        'status': status,
        'characters': characters,
        'characters_written': len(characters),
        'character_count': int(result.character_count) if result is not None else None,
        'duration_s': round(duration_s, 2),
        'sim_time_s': round(sim_time_s, 2) if math.isfinite(sim_time_s) else None,
        'success': bool(result is not None and result.success),
        'timed_out': bool(timed_out),
        'error_code': code,
        'error_msg': message,
        'warnings': warnings,
    }
