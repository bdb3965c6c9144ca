"""`calligraphy bench soak`: cold starts, faults and bad input, each against its expected outcome.

Every run brings the simulated cell up cold, after an idle gap, and on every other run with a
busy CPU loop beside it (the machines are shared), and checks:

- the main job: `calligraphy write 一` exits 0 with a report of one stroke and an IoU above 0.5;
- CLI misuse, which must fail at once with a one-line message and no traceback: an empty text,
  `--size-mm nan`, `--timeout-s -1`, `--out /proc/x` (exit 2), a character the font lacks (exit 1);
- on a running cell (its processes as `calligraphy write` starts them), bad input through each
  action and service: a NaN or negative size, a text that cannot fit, a 10,000-character
  character, a dip with 1,000 wipes, an observation of a NaN box, a brush path through the ink
  well's rim, each answered with its error code and a short message, the node still serving;
- on every other run: two characters written one after the other (`write_character` in the next
  free cell, then `write_text`) land in different cells; the camera killed while writing is
  reported in the result's warnings and the rest is written open loop within the time of an
  undisturbed character; the writer killed mid-character is noticed by a waiting
  `CalligraphyClient` within seconds and the motion executor lifts the brush to the safe height
  by itself; `calligraphy write 永永 --timeout-s 8` cancels, saves the sheet with the ink written
  so far and exits 1.

A case whose command or goal does not end within its bound is a hang; any other result than the
expected one, a traceback, an abort or "terminate called" is an unexpected outcome. Figures: runs,
cases, unexpected_outcomes, hangs and the list of what went wrong.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

CRASH_MARKS = ('Traceback (most recent call last)', 'terminate called', 'Aborted', 'core dumped')
CELL_START_TIMEOUT_S = 120.0


class _HangError(Exception):
    """A case did not end within its bound."""


class Soak:
    """Runs cases, each a callable returning None (as expected) or what was wrong."""

    def __init__(self) -> None:
        self.cases = 0
        self.problems: list[dict] = []
        self.hangs = 0

    def check(self, run: int, name: str, case: Callable[[], str | None]) -> None:
        self.cases += 1
        started = time.monotonic()
        try:
            wrong = case()
        except _HangError as hang:
            self.hangs += 1
            wrong = f'hang: {hang}'
        except Exception as error:  # noqa: BLE001 — a failing case is a figure, not a crash
            wrong = f'{type(error).__name__}: {error}'
        seconds = round(time.monotonic() - started, 1)
        status = 'ok' if wrong is None else f'UNEXPECTED: {wrong}'
        print(f'[soak] run {run} {name}: {status} ({seconds} s)', flush=True)
        if wrong is not None:
            self.problems.append({'run': run, 'case': name, 'what': wrong[:1600], 's': seconds})


# ---------------------------------------------------------------- the CLI


def _cli(args: list[str], timeout_s: float, signal_after_s: float | None = None):
    command = [sys.executable, '-m', 'calligraphy_bringup.cli', *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        if signal_after_s is not None:
            time.sleep(signal_after_s)
            process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise _HangError(
            f'calligraphy {" ".join(args)[:60]} still running after {timeout_s:.0f} s'
        ) from None
    return process.returncode, out, err


def _crash(err: str) -> str | None:
    for mark in CRASH_MARKS:
        if mark in err:
            at = err.index(mark)
            return f'{mark!r} in stderr: {err[max(0, at - 200) : at + 1200].strip()}'
    return None


def _expect_exit(args: list[str], code: int, timeout_s: float, contains: str = '') -> Callable:
    def case() -> str | None:
        rc, out, err = _cli(args, timeout_s)
        crash = _crash(err)
        if crash:
            return crash
        if rc != code:
            return f'exit {rc}, expected {code}: {(err or out).strip()[-200:]}'
        message = (err + out).strip()
        if code == 2 and len(err.strip().splitlines()) > 3:
            return f'a usage error of {len(err.splitlines())} lines: {err.strip()[-200:]}'
        if contains and contains not in message:
            return f'no {contains!r} in the output: {message[-200:]}'
        return None

    return case


def _write_main_job(folder: Path) -> Callable:
    def case() -> str | None:
        rc, out, err = _cli(['write', '一', '--out', str(folder)], 400.0)
        crash = _crash(err)
        if crash:
            return crash
        if rc != 0:
            return f'exit {rc}: {(err or out).strip()[-300:]}'
        report = json.loads((folder / 'report.json').read_text())
        character = report['characters'][0]
        if character['strokes'] != 1 or not (character['iou'] or 0.0) > 0.5:
            return f'report {character}'
        return None

    return case


def _write_with_timeout(folder: Path) -> Callable:
    def case() -> str | None:
        import cv2
        import numpy as np

        rc, out, err = _cli(['write', '永永', '--out', str(folder), '--timeout-s', '8'], 300.0)
        crash = _crash(err)
        if crash:
            return crash
        if rc != 1:
            return f'exit {rc}, expected 1: {(err or out).strip()[-200:]}'
        sheet = cv2.imread(str(folder / 'paper.png'), cv2.IMREAD_GRAYSCALE)
        if sheet is None or not (folder / 'report.json').exists():
            return 'no sheet or report saved after the timeout'
        if int(np.count_nonzero(sheet < 128)) < 100:
            return 'the saved sheet has no ink although strokes were written'
        return None

    return case


# ---------------------------------------------------------------- a running cell


class LiveCell:
    """The simulated cell's processes, started as `calligraphy write` starts them, and a client
    node in this process."""

    def __init__(self, folder: Path) -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor

        from calligraphy_bringup.graph import (
            SIM_CELL,
            SIM_PROCESS_GROUPS,
            wait_until_cell_sees_now,
        )

        # The writer alone, so that it can be killed with the executor left to lift the brush.
        separate = {name for group in SIM_PROCESS_GROUPS for name in group} | {'writer_node'}
        rest = tuple(s.name for s in SIM_CELL if s.name not in separate)
        groups = [*SIM_PROCESS_GROUPS, rest, ('writer_node',)]
        overrides = json.dumps({'writer_node': {'save_dir': str(folder)}})
        self.processes: dict[tuple[str, ...], subprocess.Popen] = {}
        for group in groups:
            command = [sys.executable, '-m', 'calligraphy_bringup.graph', *group]
            command += ['--config', 'sim', '--overrides', overrides]
            self.processes[group] = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('soak_client', context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()
        wait_until_cell_sees_now(self.node, CELL_START_TIMEOUT_S)

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            while self.context.ok():
                self.executor.spin_once(timeout_sec=0.2)
        except (ExternalShutdownException, Exception):  # noqa: BLE001 — closing
            pass

    def kill(self, node_name: str) -> None:
        for group, process in self.processes.items():
            if node_name in group:
                process.kill()
                process.wait()

    def call(self, service_type, name: str, request, timeout_s: float = 30.0):
        from calligraphy_bringup.graph import wait_for_future

        client = self.node.create_client(service_type, name)
        try:
            if not client.wait_for_service(timeout_sec=timeout_s):
                raise _HangError(f'{name} not available within {timeout_s:.0f} s')
            future = client.call_async(request)
            if not wait_for_future(future, timeout_s):
                raise _HangError(f'{name} did not answer within {timeout_s:.0f} s')
            return future.result()
        finally:
            self.node.destroy_client(client)

    def goal(self, action_type, name: str, goal, timeout_s: float = 120.0, during=None):
        from rclpy.action import ActionClient

        from calligraphy_bringup.graph import wait_for_future

        client = ActionClient(self.node, action_type, name)
        try:
            if not client.wait_for_server(timeout_sec=30.0):
                raise _HangError(f'{name} not available within 30 s')
            sent = client.send_goal_async(goal)
            if not wait_for_future(sent, 30.0):
                raise _HangError(f'{name} did not answer the goal within 30 s')
            handle = sent.result()
            if not handle.accepted:
                raise RuntimeError(f'{name} rejected the goal')
            result_future = handle.get_result_async()
            if during is not None:
                during()
            if not wait_for_future(result_future, timeout_s):
                handle.cancel_goal_async()
                raise _HangError(f'{name} gave no result within {timeout_s:.0f} s')
            return result_future.result().result
        finally:
            client.destroy()

    def close(self) -> list[str]:
        """Stop everything; what the processes printed that looks like a crash."""
        self.context.try_shutdown()
        self._thread.join(timeout=5.0)
        crashes = []
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for group, process in self.processes.items():
            try:
                _, err = process.communicate(timeout=20.0)
            except subprocess.TimeoutExpired:
                process.kill()
                _, err = process.communicate()
                crashes.append(f'{group} did not end within 20 s of SIGTERM')
            crash = _crash(err or '') if process.returncode != -signal.SIGKILL else None
            if crash:
                crashes.append(f'{group}: {crash}')
        return crashes


def _expect_code(result, code: int, what: str) -> str | None:
    if result.error_code != code:
        return f'{what}: code {result.error_code} ({result.error_msg[:120]!r}), expected {code}'
    if not result.error_msg or len(result.error_msg) > 300:
        return f'{what}: message of {len(result.error_msg)} characters'
    return None


def _bad_input_cases(cell: LiveCell) -> dict[str, Callable]:
    import numpy as np

    from calligraphy_interfaces.action import DipInk, ExecuteBrushPath, WriteCharacter, WriteText
    from calligraphy_interfaces.msg import BrushPath
    from calligraphy_interfaces.srv import ObservePaper
    from calligraphy_sim.ink_well import ink_well_in_paper

    def character(**fields):
        goal = WriteCharacter.Goal(next_free_cell=True, **fields)
        return cell.goal(WriteCharacter, '/write_character', goal, 60.0)

    def rim_path() -> BrushPath:
        well = ink_well_in_paper()
        x = well.x_m + np.linspace(0.0, 2.5 * well.radius_m, 41)
        path = BrushPath(frame_id='paper')
        path.x_m = x.tolist()
        path.y_m = [well.y_m] * len(x)
        path.pressing_depth_m = [-(well.rim_height_m - 0.005)] * len(x)
        path.time_from_start_s = np.linspace(0.0, 2.0, len(x)).tolist()
        path.tilt_x_rad = [0.0] * len(x)
        path.tilt_y_rad = [0.0] * len(x)
        return path

    code = WriteCharacter.Result
    return {
        'size NaN': lambda: _expect_code(
            character(character='十', size_m=math.nan), code.SIZE_OUT_OF_RANGE, 'size NaN'
        ),
        'size negative': lambda: _expect_code(
            character(character='十', size_m=-0.05), code.SIZE_OUT_OF_RANGE, 'size -50 mm'
        ),
        '10,000 characters as one': lambda: _expect_code(
            character(character='永' * 10_000), code.PLANNING_FAILED, 'long character'
        ),
        'text that cannot fit': lambda: _expect_code(
            cell.goal(WriteText, '/write_text', WriteText.Goal(text='永' * 10_000), 60.0),
            WriteText.Result.TEXT_DOES_NOT_FIT,
            '10,000-character text',
        ),
        'dip with 1,000 wipes': lambda: _expect_code(
            cell.goal(DipInk, '/dip_ink', DipInk.Goal(mode='full', wipe_count=1000), 60.0),
            DipInk.Result.INVALID_ARGUMENT,
            'wipe_count 1000',
        ),
        'observation of a NaN box': lambda: _expect_code(
            cell.call(
                ObservePaper,
                '/observe_paper',
                ObservePaper.Request(box_x_m=math.nan, box_y_m=0.05, box_size_m=0.06),
            ),
            ObservePaper.Response.INVALID_BOX,
            'NaN box',
        ),
        'brush path through the ink well rim': lambda: _expect_code(
            cell.goal(
                ExecuteBrushPath,
                '/execute_brush_path',
                ExecuteBrushPath.Goal(path=rim_path(), time_scale=1.0),
                60.0,
            ),
            ExecuteBrushPath.Result.COLLISION,
            'rim path',
        ),
    }


def _cells_are_kept(cell: LiveCell) -> str | None:
    """十 in the next free cell, then 二 as a text: their brush paths lie in different cells."""
    from calligraphy_interfaces.action import WriteCharacter, WriteText
    from calligraphy_interfaces.msg import BrushPath

    paths: list[BrushPath] = []
    subscription = cell.node.create_subscription(BrushPath, '/writer/brush_path', paths.append, 50)
    try:
        first = cell.goal(
            WriteCharacter,
            '/write_character',
            WriteCharacter.Goal(character='十', next_free_cell=True),
            180.0,
        )
        if not first.success:
            return f'十: {first.error_msg} (code {first.error_code})'
        count = len(paths)
        second = cell.goal(WriteText, '/write_text', WriteText.Goal(text='二'), 180.0)
        if not second.success:
            return f'二: {second.error_msg} (code {second.error_code})'
        deadline = time.monotonic() + 10.0
        while len(paths) < count + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        ten = [(min(p.x_m), max(p.x_m), min(p.y_m), max(p.y_m)) for p in paths[:count]]
        two = [(min(p.x_m), max(p.x_m), min(p.y_m), max(p.y_m)) for p in paths[count:]]
        if not ten or not two:
            return f'brush paths heard: {len(ten)} for 十, {len(two)} for 二'

        def box(spans):
            return (
                min(s[0] for s in spans),
                max(s[1] for s in spans),
                min(s[2] for s in spans),
                max(s[3] for s in spans),
            )

        a, b = box(ten), box(two)
        overlap = a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]
        return f'二 {b} written over 十 {a}' if overlap else None
    finally:
        cell.node.destroy_subscription(subscription)


def _camera_loss(cell: LiveCell) -> str | None:
    """Kill the camera while 三 is written: warned about in the result, no per-stroke waits."""
    from calligraphy_interfaces.action import WriteCharacter

    started = time.monotonic()

    def kill_soon() -> None:
        time.sleep(3.0)
        cell.kill('sim_camera_node')

    result = cell.goal(
        WriteCharacter,
        '/write_character',
        WriteCharacter.Goal(character='三', next_free_cell=True),
        240.0,
        during=kill_soon,
    )
    seconds = time.monotonic() - started
    if not result.success:
        return f'三 with the camera lost: {result.error_msg} (code {result.error_code})'
    if not any('camera' in warning for warning in result.warnings):
        return f'no camera warning in the result: {list(result.warnings)}'
    # 三 takes 10-20 s on a set-up machine; a wait per stroke for a dead camera took 15 s each.
    if seconds > 60.0:
        return f'三 took {seconds:.0f} s with the camera lost'
    return None


def _writer_killed(cell: LiveCell) -> str | None:
    """Kill the writer while it writes 永: a client waiting on it fails within seconds, and the
    motion executor, left with the brush low, lifts it to the safe height by itself."""
    from geometry_msgs.msg import PoseStamped

    from calligraphy_writer.client import CalligraphyClient, WriterLostError

    tip_z: list[float] = []
    subscription = cell.node.create_subscription(
        PoseStamped, '/brush_tip_pose', lambda m: tip_z.append(m.pose.position.z), 10
    )
    outcome: dict = {}

    def write() -> None:
        try:
            with CalligraphyClient() as client:
                outcome['result'] = client.write('永', timeout_s=300.0)
        except WriterLostError as error:
            outcome['lost'] = (time.monotonic(), str(error))
        except Exception as error:  # noqa: BLE001 — reported as the case's outcome
            outcome['other'] = f'{type(error).__name__}: {error}'

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120.0
        while not (tip_z and tip_z[-1] < 0.0) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not (tip_z and tip_z[-1] < 0.0):
            return f'the brush never reached the paper ({len(tip_z)} tip poses; {outcome})'
        cell.kill('writer_node')
        killed = time.monotonic()
        thread.join(timeout=60.0)
        if thread.is_alive():
            raise _HangError('the client still waited 60 s after the writer was killed')
        if 'lost' not in outcome:
            return f'the client did not report the writer lost: {outcome}'
        # Fast DDS drops a killed participant after its 20 s lease.
        noticed = outcome['lost'][0] - killed
        if noticed > 40.0:
            return f'the client noticed the writer gone after {noticed:.0f} s'
        # The stroke and its 10 mm hop end, then idle_lift_timeout_s (8 s) passes.
        while time.monotonic() < killed + 60.0 and not (tip_z and tip_z[-1] > 0.044):
            time.sleep(0.1)
        if not tip_z[-1] > 0.044:
            return f'the brush stayed {tip_z[-1] * 1e3:.1f} mm above the sheet'
        return None
    finally:
        cell.node.destroy_subscription(subscription)


# ---------------------------------------------------------------- the benchmark


def _same(value):
    return value


def _busy_cpu() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, '-c', 'while True: pass'])


def run(quick: bool, repeats: int = 10, seed: int = 0) -> dict:
    """`repeats` cold runs (quick: 2, with short idle gaps)."""
    repeats = 2 if quick else repeats
    gap_s = 2.0 if quick else 20.0
    rng = random.Random(seed)
    soak = Soak()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='bench-soak-') as tmp:
        for index in range(repeats):
            time.sleep(gap_s * (0.5 + rng.random()))
            busy = _busy_cpu() if index % 2 == 1 else None
            folder = Path(tmp) / str(index)
            try:
                soak.check(index, 'write 一 cold', _write_main_job(folder / 'main'))
                for name, args, code, text in (
                    ('empty text', ['write', ''], 2, 'empty'),
                    ('--size-mm nan', ['write', '一', '--size-mm', 'nan'], 2, ''),
                    ('--timeout-s -1', ['write', '一', '--timeout-s', '-1'], 2, ''),
                    ('--out /proc/x', ['write', '一', '--out', '/proc/x'], 2, ''),
                    ('character not in font', ['write', '🫠', '--out', str(folder / 'nf')], 1, ''),
                ):
                    soak.check(index, name, _expect_exit(args, code, 300.0, text))
                live = None
                try:
                    live = LiveCell(folder / 'live')
                except Exception as error:  # noqa: BLE001
                    soak.check(index, 'cell start', lambda error=error: str(error))
                if live is not None:
                    try:
                        for name, case in _bad_input_cases(live).items():
                            soak.check(index, name, case)
                        if index % 2 == 0:
                            soak.check(index, 'cells kept', partial(_cells_are_kept, live))
                            soak.check(index, 'camera lost', partial(_camera_loss, live))
                            soak.check(index, 'writer killed', partial(_writer_killed, live))
                    finally:
                        crashes = '; '.join(live.close()) or None
                    soak.check(index, 'cell processes end cleanly', partial(_same, crashes))
                if index % 2 == 0:
                    soak.check(
                        index, 'write 永永 --timeout-s 8', _write_with_timeout(folder / 't')
                    )
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
    return {
        'runs': repeats,
        'cases': soak.cases,
        'unexpected_outcomes': len(soak.problems),
        'hangs': soak.hangs,
        'problems': soak.problems,
        'soak_wall_s': round(time.monotonic() - started, 1),
    }
