"""The development and test sets shipped with the planner (stroke_planner/data/*.txt)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / 'data'


@dataclass(frozen=True)
class CharacterSet:
    cjk: str  # characters with stroke-order data and a UKai glyph
    latin: str  # a pangram


def load_set(name: str) -> CharacterSet:
    """`dev` (tuning, benchmarks) or `test` (README figures only)."""
    fields = {}
    for line in (DATA_DIR / f'{name}_set.txt').read_text(encoding='utf-8').splitlines():
        if line.strip() and not line.startswith('#'):
            key, _, value = line.partition(' ')
            fields[key] = value.strip()
    return CharacterSet(cjk=fields['cjk'], latin=fields['latin'])
