"""The installed `calligraphy` command as a user meets it: every package's subcommands listed,
benchmarks discoverable, a mistyped command refused with one line and exit status 2."""

from __future__ import annotations

import re
import subprocess

from calligraphy_ros_kit.cli import benchmark_names, build_parser

# Subcommands the cell's packages register (stroke_planner, brush_policy_training, this one).
SUBCOMMANDS = ('bench', 'eval', 'learn', 'plan', 'train', 'write')


def _calligraphy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(['calligraphy', *args], capture_output=True, text=True, timeout=120)


def test_help_lists_bench_and_exits_zero():
    completed = _calligraphy('--help')
    assert completed.returncode == 0
    assert 'bench' in completed.stdout


def test_help_lists_every_packages_subcommand():
    completed = _calligraphy('--help')
    assert completed.returncode == 0
    # argparse lists each subcommand with its help, indented under COMMAND.
    listed = re.findall(r'^    (\w+) ', completed.stdout, flags=re.MULTILINE)
    assert tuple(sorted(listed)) == SUBCOMMANDS, completed.stdout


def test_unknown_subcommand_exits_nonzero_with_message():
    completed = _calligraphy('paint')
    assert completed.returncode == 2
    assert 'invalid choice' in completed.stderr


def test_unknown_subcommand_is_one_error_line_naming_it_and_the_choices():
    completed = _calligraphy('paint')
    errors = [line for line in completed.stderr.splitlines() if 'error' in line]
    assert len(errors) == 1, completed.stderr
    assert errors[0].startswith('calligraphy: error:') and "'paint'" in errors[0]
    assert all(name in errors[0] for name in SUBCOMMANDS)
    assert 'Traceback' not in completed.stderr


def test_no_subcommand_prints_help_and_exits_nonzero():
    completed = _calligraphy()
    assert completed.returncode == 2
    assert 'usage: calligraphy' in completed.stdout


def test_parser_builds_with_registered_commands():
    parser = build_parser()
    assert parser.prog == 'calligraphy'
    for name in SUBCOMMANDS:
        args = parser.parse_args([name, *_minimal(name)])
        assert args.command == name and callable(args.func)


def test_the_cells_benchmarks_are_registered_under_the_names_bench_sh_runs():
    assert {'writer', 'soak', 'policy', 'planner'} <= set(benchmark_names())
    completed = _calligraphy('bench', 'no-such-benchmark')
    assert completed.returncode == 2 and 'invalid choice' in completed.stderr


def _minimal(name: str) -> list[str]:
    """The fewest arguments that make `calligraphy NAME ...` parse."""
    return {
        'bench': ['writer'],
        'eval': ['--controller', 'learned'],
        'learn': ['out/session', '--output-dir', 'out/learn'],
        'plan': ['永'],
        'train': [],
        'write': ['永'],
    }[name]
