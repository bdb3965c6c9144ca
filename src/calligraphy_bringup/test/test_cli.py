"""The `calligraphy` command line: discoverable subcommands, clear errors, JSON benchmarks."""

from __future__ import annotations

import argparse
import json
import subprocess

import pytest

from calligraphy_bringup.cli import CliError, build_parser, run_benchmark


def test_help_lists_bench_and_exits_zero():
    completed = subprocess.run(['calligraphy', '--help'], capture_output=True, text=True)
    assert completed.returncode == 0
    assert 'bench' in completed.stdout


def test_unknown_subcommand_exits_nonzero_with_message():
    completed = subprocess.run(['calligraphy', 'paint'], capture_output=True, text=True)
    assert completed.returncode == 2
    assert 'invalid choice' in completed.stderr


def test_no_subcommand_prints_help_and_exits_nonzero():
    completed = subprocess.run(['calligraphy'], capture_output=True, text=True)
    assert completed.returncode == 2
    assert 'usage: calligraphy' in completed.stdout


def test_benchmark_figures_are_printed_and_saved_as_json(tmp_path, capsys):
    args = argparse.Namespace(name='demo', quick=True, json=tmp_path / 'b' / 'demo.json')
    assert run_benchmark(lambda quick: {'strokes_per_s': 123.0, 'quick': quick}, args) == 0
    saved = json.loads(args.json.read_text())
    assert saved['strokes_per_s'] == 123.0 and saved['quick'] is True
    assert saved['benchmark'] == 'demo' and saved['wall_s'] >= 0
    assert 'strokes_per_s: 123.0' in capsys.readouterr().out


def test_parser_builds_with_registered_commands():
    parser = build_parser()
    assert parser.prog == 'calligraphy'


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
