"""Character sets: the training list and the held-out test list (disjoint), and plan access."""

from __future__ import annotations

from pathlib import Path

from brush_policy_node.types import StrokeSpec

DATA_DIR = Path(__file__).resolve().parent / 'data'


def read_character_list(path: str | Path) -> str:
    """Characters of a list file (lines starting with '#' are comments; whitespace ignored)."""
    text = Path(path).read_text(encoding='utf-8')
    lines = [line for line in text.splitlines() if not line.lstrip().startswith('#')]
    return ''.join(''.join(lines).split())


def training_characters() -> str:
    return read_character_list(DATA_DIR / 'train_chars.txt')


def test_characters() -> str:
    return read_character_list(DATA_DIR / 'test_chars.txt')


def plan_strokes(
    character: str, box_x_m: float = 0.02, box_y_m: float = 0.02, size_m: float = 0.06
) -> tuple[object, list[StrokeSpec]]:
    """The stroke planner's plan of one character and its strokes as StrokeSpecs."""
    from stroke_planner import plan_character

    plan = plan_character(character, box_x_m=box_x_m, box_y_m=box_y_m, size_m=size_m)
    return plan, [StrokeSpec.from_stroke(s, i) for i, s in enumerate(plan.strokes)]
