"""The `calligraphy` command line's plumbing (no rclpy: loading it starts no ROS).

Subcommands live in the packages that own them and register themselves through the
`calligraphy.commands` entry-point group: each entry point names a function
`add_parser(subparsers)` that adds one subparser and sets `func` (a callable taking the parsed
arguments and returning the process exit code). Benchmarks register the same way in the
`calligraphy.benchmarks` group, with a function `measure_...(quick: bool) -> dict` of named
figures; the built-in `bench` subcommand prints those figures and saves them as JSON. A
benchmark whose function takes keyword arguments `chars`, `seed` or `repeats` gets them from
`--chars`, `--seed` and `--repeats` when given.

This module imports no subcommand: the packages that register commands import `CliError` from
here, so the command line depends on nothing and nothing depends back on a package's CLI.

    python -m calligraphy_ros_kit.cli COMMAND ...   # what the `calligraphy` script runs
"""

from __future__ import annotations

import argparse
import ctypes
import inspect
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from calligraphy_model.errors import CalligraphyError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

COMMANDS_GROUP = 'calligraphy.commands'
BENCHMARKS_GROUP = 'calligraphy.benchmarks'
BENCH_OPTIONS = ('chars', 'seed', 'repeats')
USAGE_ERROR = 2


class CliError(CalligraphyError):
    """A user-facing error: printed as one line, exit status 2 (its `code`)."""

    def __init__(self, message: str) -> None:
        super().__init__(USAGE_ERROR, message)


def registered(group: str) -> dict[str, EntryPoint]:
    """The entry points of `group` by name, sorted by name (nothing loaded yet)."""
    # Here, not at the top: the cell's processes import this module for exit_process alone, and
    # importlib.metadata took 50 ms of each one's start.
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in sorted(entry_points(group=group), key=lambda ep: ep.name)}


def benchmark_names() -> list[str]:
    """Names of the registered benchmarks (`calligraphy bench NAME`), sorted."""
    return list(registered(BENCHMARKS_GROUP))


def _add_bench_parser(subparsers: argparse._SubParsersAction) -> None:
    benchmarks = registered(BENCHMARKS_GROUP)
    parser = subparsers.add_parser(
        'bench',
        help='run a benchmark and print its figures',
        description='Benchmarks print named figures and save them as JSON.',
    )
    parser.add_argument('name', choices=sorted(benchmarks) or None, help='benchmark to run')
    parser.add_argument('--json', type=Path, help='write the figures to this JSON file')
    parser.add_argument('--quick', action='store_true', help='fewer repetitions (smoke run)')
    parser.add_argument('--chars', help='characters to write (benchmarks that write)')
    parser.add_argument('--seed', type=int, help='seed (benchmarks that draw brushes)')
    parser.add_argument('--repeats', type=int, help='runs per case (benchmarks that repeat)')
    parser.set_defaults(func=lambda args: run_benchmark(benchmarks[args.name].load(), args))


def run_benchmark(measure: Callable[..., dict], args: argparse.Namespace) -> int:
    """Run one benchmark function with the options it takes; print and save its figures."""
    options = {
        name: getattr(args, name)
        for name in BENCH_OPTIONS
        if getattr(args, name, None) is not None
    }
    accepted = inspect.signature(measure).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise CliError(f'benchmark {args.name} takes no --{", --".join(unknown)}')
    started = time.perf_counter()
    figures = measure(args.quick, **options)
    figures.setdefault('benchmark', args.name)
    figures.setdefault('wall_s', round(time.perf_counter() - started, 3))
    for key, value in figures.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value
        print(f'{key:>28}: {shown}')
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + '\n')
        print(f'saved {args.json}')
    return 0


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser. With `only` the name of a registered command, that command
    alone is loaded (the others' modules are not imported: 0.2-0.3 s of every `calligraphy
    write`); otherwise all of them, as help and a wrong command name need."""
    parser = argparse.ArgumentParser(
        prog='calligraphy',
        description='The open robot calligraphy cell: plan, write, evaluate, benchmark, train.',
    )
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
    commands = registered(COMMANDS_GROUP)
    if only in commands:
        commands[only].load()(subparsers)
        return parser
    if only != 'bench':
        for ep in commands.values():
            ep.load()(subparsers)
    _add_bench_parser(subparsers)
    return parser


def exit_process(code: int) -> None:
    """End this process with `code` now, without the interpreter's teardown of its modules and
    objects, once the caller has closed everything it opened (files written, ROS contexts
    destroyed): stdout and stderr, Python's and C's, are flushed first. The teardown of a
    process that had the cell's nodes in it took 0.2-0.45 s of a `calligraphy write`."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    try:
        ctypes.CDLL(None).fflush(None)
    except (AttributeError, OSError):
        pass
    os._exit(code)


def interrupted_by_ctrl_c(error: BaseException) -> bool:
    """Whether `error` is Ctrl-C's KeyboardInterrupt or was raised from one. Ctrl-C while a
    pybind11 extension (onnxruntime's, rclpy's) is being imported comes out of the import as
    `ImportError: initialization failed` raised from the KeyboardInterrupt."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (None: this process's, as the `calligraphy` script does).

    A command that sets `quick_exit` in its parser's defaults (it has closed all it opened when
    it returns) ends the process at once when run as the script (see exit_process).
    """
    try:
        # Loading the subcommands imports their packages, which takes seconds: Ctrl-C then is
        # a clean exit too.
        words = list(sys.argv[1:] if argv is None else argv)
        named = next((word for word in words if not word.startswith('-')), None)
        parser = build_parser(only=named)
        args = parser.parse_args(words)
        if not getattr(args, 'func', None):
            parser.print_help()
            return USAGE_ERROR
        try:
            code = int(args.func(args) or 0)
        except CliError as error:
            print(f'calligraphy {args.command}: error: {error}', file=sys.stderr)
            return error.code
    except BaseException as error:
        if not interrupted_by_ctrl_c(error):
            raise
        if argv is None:
            # Everything the command opened is closed by now: a second Ctrl-C changes nothing,
            # and the process ends here, not in the interpreter's teardown.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        print('interrupted', file=sys.stderr)
        if argv is None:
            exit_process(130)
        return 130
    if argv is None and getattr(args, 'quick_exit', False):
        exit_process(code)
    return code


if __name__ == '__main__':
    sys.exit(main())
