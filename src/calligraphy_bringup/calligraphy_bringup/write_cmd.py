"""`calligraphy write TEXT [--out DIR]`: write in simulation and save what was written.

Brings the simulated cell up in this process (the nodes of launch/sim.launch.py with
config/sim.yaml but calibration_node, which `calligraphy calibrate --sim` brings up) on a blank
sheet, writes TEXT through the /write_text action with a progress bar, and saves:
`DIR/paper.png` (the virtual sheet), `DIR/writing.gif` (the sheet as it was written),
`DIR/report.json` ({"status", "characters": [{"char", "iou", "strokes", "dips",
"motion_time_s", "writing_share"}], "duration_s", "sim_time_s", "warnings", ...}) and, with
--record, `DIR/session/` (a rosbag2 bag, MCAP storage: commands, brush paths, observations).

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

from calligraphy_bringup.write_inputs import WriteInputs
from calligraphy_bringup.write_report import announce, build_report, wall_breakdown


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
    parser.add_argument(
        '--record',
        action='store_true',
        help='record the session as a rosbag2 bag (OUT/session/, MCAP storage)',
    )
    parser.add_argument(
        '--brush-seed',
        type=int,
        default=None,
        help='simulate the brush `calligraphy eval --seed S` draws for its first episode '
        '(default: the nominal brush)',
    )
    parser.add_argument(
        '--brush-file',
        type=Path,
        default=None,
        help='simulate the brush this YAML describes (`brush:` with BrushParams fields; missing '
        'ones nominal); the controller is not told',
    )
    parser.add_argument(
        '--model',
        type=Path,
        default=None,
        help='run this ONNX policy (its <stem>.card.json beside it) instead of the shipped one',
    )
    parser.add_argument(
        '--param',
        action='append',
        default=[],
        metavar='NODE:NAME=VALUE',
        help='set a node parameter over config/sim.yaml (repeatable; the value is YAML, e.g. '
        'motion_executor_node:limits.joint_acceleration_rad_s2=4.0)',
    )
    parser.add_argument(
        '--timeout-s', type=float, default=900.0,
        help='give up after this many seconds of writing: cancel, save what was written, exit 1',
    )  # fmt: skip
    # Everything is written and closed when run() returns: the script ends without the
    # interpreter's teardown.
    parser.set_defaults(func=run, quick_exit=True)


class _Spinner:
    """Spins an executor on a thread of its own until stop(), which every exit path calls."""

    def __init__(self, executor, node) -> None:
        self.executor = executor
        self._stop = threading.Event()
        # Triggered by stop(): ends the executor's wait at once (`node` is one it spins).
        self._wake = node.create_guard_condition(lambda: None)
        self._thread = threading.Thread(target=self._spin, name='write_cli_spin', daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        from calligraphy_ros_kit.spinning import spin_until_stopped

        spin_until_stopped(self.executor, self._stop, name='calligraphy write')

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.trigger()  # executor.wake() only restarts the wait (its 0.2 s timeout)
        self._thread.join(timeout=timeout_s)


def _usage_error(args: argparse.Namespace, text: str) -> str | None:
    """What is wrong with the command line (checked before the cell comes up), or None."""
    if not text.strip():
        return 'the text is empty'
    if not math.isfinite(args.size_mm) or args.size_mm < 0:
        return f'--size-mm must be positive (0: the configured size), got {args.size_mm:g}'
    if not math.isfinite(args.timeout_s) or args.timeout_s <= 0:
        return f'--timeout-s must be a positive number of seconds, got {args.timeout_s:g}'
    from calligraphy_bringup.cell_layout import WRITE_CELL

    nodes = tuple(spec.name for spec in WRITE_CELL)
    args.inputs = WriteInputs(args.brush_seed, args.brush_file, args.model, args.param, nodes)
    problem = args.inputs.problem()
    if problem:
        return problem
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


def run(args: argparse.Namespace) -> int:
    text = args.text.replace('\\n', '\n')
    problem = _usage_error(args, text)
    if problem:
        print(f'calligraphy write: error: {problem}', file=sys.stderr)
        return 2

    from calligraphy_bringup.cell_layout import (
        SIM_PROCESS_GROUPS,
        config_path,
        spawn_groups,
        stop_processes,
    )

    args.started = time.monotonic()  # the run's wall time counts from here
    overrides = _overrides(args)
    # The arm, paper and camera processes start now, before this process imports rclpy and
    # builds its own nodes (about 1.5 s of CPU): the camera's start is the longest.
    try:
        processes = spawn_groups(SIM_PROCESS_GROUPS, config_path('sim'), overrides)
    except OSError as error:
        print(f'calligraphy write: error: starting the cell: {error}', file=sys.stderr)
        return 1
    graphs: list = []
    try:
        import rclpy
        from rclpy.context import Context

        context = Context()
        rclpy.init(context=context)
        try:
            return _write(args, text, context, overrides, processes, graphs)
        finally:
            # Destroyed, not only shut down: a DDS participant still alive when the interpreter
            # exits aborts the process in its static destructors ('terminate called without an
            # active exception', exit 134), which is what a timed-out run used to end with.
            context.try_shutdown()
            context.destroy()
    finally:
        if not graphs:  # the cell never took them over (an error, Ctrl-C): stop them here
            stop_processes(processes)


def _overrides(args: argparse.Namespace) -> dict[str, dict]:
    """The node parameters this run sets: {node: {parameter: value}}."""
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
    for node, values in args.inputs.overrides().items():
        overrides.setdefault(node, {}).update(values)
    for note in args.inputs.notes:
        print(f'calligraphy write: {note}', file=sys.stderr)
    return overrides


def _write(args, text: str, context, overrides: dict, processes: list, graphs: list) -> int:
    try:
        return _write_and_save(args, text, context, overrides, processes, graphs)
    finally:
        # The cell's processes were told to stop as the cell closed; the animation was encoded
        # while they did.
        for graph in graphs:
            graph.wait_for_processes()


def _write_and_save(
    args: argparse.Namespace, text: str, context, overrides: dict, processes: list, graphs: list
) -> int:
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from calligraphy_bringup.graph import (
        SIM_PROCESS_GROUPS,
        WRITE_CELL,
        SimNodeGraph,
        wait_until_cell_sees_now,
    )
    from calligraphy_bringup.write_watch import (
        MotionClock,
        Progress,
        SheetFrames,
        new_sheet,
        save_sheet_as_of,
    )
    from calligraphy_writer.client import (
        CalligraphyClient,
        CalligraphyClientError,
        GoalTimeoutError,
    )

    out: Path = args.out
    started = args.started
    # Where the wall time went (report.json `wall_s`): bringing the cell up, writing, saving.
    marks: dict[str, float] = {}
    graph = observer = executor = spinner = recorder = cell = None
    timed_out = ''
    try:
        graph = SimNodeGraph(
            context,
            overrides=overrides,
            nodes=WRITE_CELL,
            process_groups=SIM_PROCESS_GROUPS,
            processes=processes,
        )
        graphs.append(graph)
        graph.start()
        observer = Node('calligraphy_write_cli', context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(observer)
        frames = SheetFrames(observer)
        motion = clock = MotionClock(observer)
        if args.record:
            from calligraphy_bringup.recording import SessionRecorder

            recorder = SessionRecorder(observer, out / 'session')
        # The client's action clients live on this node, in the writer's own context (one DDS
        # participant): a client of its own context joined the graph only now, and the writer
        # could answer the goal before it had discovered the client's reader; the answer was then
        # lost although the character was written ('no goal from the writer within 60 s', seen
        # once in about 20 runs). Created before spinning starts, as rclpy's ActionClient needs,
        # and closed only once the spinning has stopped (_close).
        cell = CalligraphyClient(node=observer, server_timeout_s=60.0)
        spinner = _Spinner(executor, observer)
        progress = Progress(motion)
        # The arm, paper and camera run in processes of their own and start after the
        # in-process writer: wait until the camera sees the sheet as of now.
        try:
            wait_until_cell_sees_now(observer, timeout_s=90.0)
        except TimeoutError as error:
            raise CalligraphyClientError(str(error)) from None
        # The animation starts from the sheet before the first stroke (on a loaded machine
        # the 3 MB sheet images can reach this process seconds after the camera's).
        frames.first.wait(timeout=20.0)
        new_sheet(observer)
        sim_start = clock.last
        marks['cell_up'] = time.monotonic()
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
            if result is not None and result.success:
                # The goal ended as the timeout struck, before the cancel took: all of it was
                # written, which is success (the report said both 'timed_out' and success).
                timed_out = ''
        progress.finish()
        marks['written'] = time.monotonic()
        written_at = clock.last  # robot time: the arm's newest tip pose as the writing ended
        sim_time_s = clock.elapsed_since(sim_start)
        # The sheet as it is once the virtual paper has inked the tip poses up to `written_at`.
        paper = save_sheet_as_of(observer, frames, (out / 'paper.png').resolve(), written_at)
        frames.add_final(paper)
    except (RuntimeError, OSError) as error:
        # The writer, the cell or the output folder failed us (CalligraphyClientError is a
        # RuntimeError, as are the sheet saver's errors): one line, not a traceback.
        print(f'calligraphy write: error: {error}', file=sys.stderr)
        return 1
    finally:
        marks['saved'] = time.monotonic()
        _close(spinner, recorder, executor, observer, graph, cell)
        marks['stopped'] = time.monotonic()
    # The animation is encoded from the frames kept in memory once the cell has stopped (its
    # processes still ending): beside the running cell the same GIF took 1.8-2.1 s, not 0.3 s.
    try:
        animated = frames.save_gif(out / 'writing.gif')
    except OSError as error:
        print(f'calligraphy write: error: saving the animation: {error}', file=sys.stderr)
        return 1

    report = build_report(text, result, motion, time.monotonic() - started, sim_time_s, timed_out)
    report['wall_s'] = wall_breakdown(started, marks, time.monotonic())
    # Which brush the virtual paper simulated and which model wrote: what a session is traced to.
    report.update(args.inputs.report())
    (out / 'report.json').write_text(json.dumps(report, indent=2, ensure_ascii=False) + '\n')
    announce(report, paper, (out / 'writing.gif').resolve() if animated else None, out)
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


def _close(spinner, recorder, executor, observer, graph, cell=None) -> None:
    """Stop everything this command started, threads joined before anything is destroyed; the
    cell's processes are told to stop, and the caller waits for them (wait_for_processes).

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
            graph.close(wait_for_processes=False)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
