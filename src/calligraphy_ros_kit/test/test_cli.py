"""The `calligraphy` plumbing: registered subcommands, one-line errors, JSON benchmarks."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from calligraphy_model.errors import CalligraphyError
from calligraphy_ros_kit import cli
from calligraphy_ros_kit.cli import CliError, run_benchmark


def _registry(monkeypatch, commands: dict, benchmarks: dict | None = None) -> None:
    groups = {
        cli.COMMANDS_GROUP: {n: SimpleNamespace(load=lambda f=f: f) for n, f in commands.items()},
        cli.BENCHMARKS_GROUP: {
            n: SimpleNamespace(load=lambda f=f: f) for n, f in (benchmarks or {}).items()
        },
    }
    monkeypatch.setattr(cli, 'registered', lambda group: groups[group])


def _failing_command(subparsers: argparse._SubParsersAction) -> None:
    def fail(args: argparse.Namespace) -> int:
        raise CliError('the brush is dry')

    subparsers.add_parser('paint', help='paint a character').set_defaults(func=fail)


def test_benchmark_figures_are_printed_and_saved_as_json(tmp_path, capsys):
    args = argparse.Namespace(name='demo', quick=True, json=tmp_path / 'b' / 'demo.json')
    assert run_benchmark(lambda quick: {'strokes_per_s': 123.0, 'quick': quick}, args) == 0
    saved = json.loads(args.json.read_text())
    assert saved['strokes_per_s'] == 123.0 and saved['quick'] is True
    assert saved['benchmark'] == 'demo' and saved['wall_s'] >= 0
    assert 'strokes_per_s: 123.0' in capsys.readouterr().out


def test_bench_options_reach_benchmarks_that_take_them_and_are_refused_by_others(tmp_path):
    args = argparse.Namespace(name='writer', quick=False, json=None, chars='永', seed=3)
    seen = {}
    assert (
        run_benchmark(lambda quick, chars='', seed=0: seen.update(c=chars, s=seed) or {}, args)
        == 0
    )
    assert seen == {'c': '永', 's': 3}
    with pytest.raises(CliError, match='--chars'):
        run_benchmark(lambda quick: {}, args)


def test_registered_commands_and_benchmarks_become_subcommands(monkeypatch, capsys):
    _registry(monkeypatch, {'paint': _failing_command}, {'ink': lambda quick: {'ml': 1.5}})
    parser = cli.build_parser()
    assert parser.prog == 'calligraphy'
    help_text = parser.format_help()
    assert 'paint' in help_text and 'bench' in help_text
    assert cli.main(['bench', 'ink', '--quick']) == 0
    assert 'ml: 1.5' in capsys.readouterr().out


def test_a_cli_error_is_one_line_on_stderr_and_exit_2(monkeypatch, capsys):
    _registry(monkeypatch, {'paint': _failing_command})
    assert cli.main(['paint']) == 2
    captured = capsys.readouterr()
    assert captured.err == 'calligraphy paint: error: the brush is dry\n'
    assert isinstance(CliError('x'), CalligraphyError) and CliError('x').code == 2


def _command_raising(error: BaseException):
    def add(subparsers: argparse._SubParsersAction) -> None:
        def run(args: argparse.Namespace) -> int:
            raise error

        subparsers.add_parser('paint').set_defaults(func=run)

    return add


def test_ctrl_c_exits_130_also_when_it_struck_inside_an_extensions_import(monkeypatch, capsys):
    # Ctrl-C during the import of a pybind11 extension (onnxruntime's, in the writer's start)
    # leaves that import as ImportError('initialization failed') raised from the interrupt:
    # a `calligraphy write` interrupted there printed that traceback and exited 1.
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as interrupt:
        in_import = ImportError('initialization failed')
        in_import.__cause__ = interrupt
    for error in (KeyboardInterrupt(), in_import):
        _registry(monkeypatch, {'paint': _command_raising(error)})
        assert cli.main(['paint']) == 130
        assert capsys.readouterr().err == 'interrupted\n'
    # An import that failed on its own is a bug to show, not an interrupt.
    _registry(monkeypatch, {'paint': _command_raising(ImportError('no module named ink'))})
    with pytest.raises(ImportError, match='ink'):
        cli.main(['paint'])


def test_no_subcommand_prints_help_and_exits_2(monkeypatch, capsys):
    _registry(monkeypatch, {})
    assert cli.main([]) == 2
    assert 'usage: calligraphy' in capsys.readouterr().out


def test_the_plumbing_imports_no_subcommand_and_no_rclpy():
    code = (
        'import sys\n'
        'import calligraphy_ros_kit.cli\n'
        "loaded = [m for m in sys.modules if m.split('.')[0] in "
        "('rclpy', 'calligraphy_bringup', 'stroke_planner', 'brush_policy_training')]\n"
        'assert not loaded, loaded\n'
    )
    subprocess.run([sys.executable, '-c', code], check=True)


def test_a_named_command_loads_no_other_command(monkeypatch, capsys):
    """`calligraphy write ...` imports write's module alone; help still lists every command."""

    def broken(subparsers: argparse._SubParsersAction) -> None:
        raise RuntimeError('this command was loaded')

    _registry(monkeypatch, {'paint': _failing_command, 'sculpt': broken})
    assert cli.main(['paint']) == 2
    assert 'the brush is dry' in capsys.readouterr().err
    with pytest.raises(RuntimeError, match='was loaded'):
        cli.main(['--help'])
