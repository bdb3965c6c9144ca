"""`calligraphy train` and `calligraphy eval` (registered in the `calligraphy.commands` group)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from brush_policy_node.config import CONTROLLERS, EVAL_CONTROLLERS, FEEDBACK, ControllerConfig
from brush_policy_training.characters import read_character_list, test_characters
from calligraphy_ros_kit.cli import CliError

DEFAULT_TRAIN_OUTPUT = 'out/train'


def add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'train',
        help='train the learned brush policy in the brush simulator, export ONNX + model card',
        description='Generates data under randomised brushes, trains with torch on the CPU, '
        'exports <output-dir>/<model_name>.onnx and its .card.json, and evaluates it on the '
        'held-out test characters.',
    )
    parser.add_argument('--config', type=Path, help='training config JSON (TrainConfig fields)')
    parser.add_argument(
        '--output-dir', help=f'where to write the model (default {DEFAULT_TRAIN_OUTPUT})'
    )
    parser.add_argument('--eval-episodes', type=int, help='held-out episodes for the card')
    parser.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    from brush_policy_training.training import TrainConfig, train

    try:
        config = TrainConfig.from_file(args.config) if args.config else TrainConfig()
        if args.output_dir:
            config = replace(config, output_dir=args.output_dir)
        if args.eval_episodes is not None:
            config = replace(config, eval_episodes=args.eval_episodes)
    except FileNotFoundError as error:
        raise CliError(f'config file not found: {error.filename}') from error
    except (ValueError, TypeError, json.JSONDecodeError) as error:
        raise CliError(f'bad training config: {error}') from error

    def card_evaluation(model_path: Path, card: object) -> dict:
        from brush_policy_node.runtime import build_controllers
        from brush_policy_training.evaluation import evaluate

        controllers = build_controllers(config.controllers, 'learned', model_path)
        figures = {}
        for name in CONTROLLERS:
            result = evaluate(
                controllers, name, test_characters(), config.eval_episodes, config.seed + 1000
            )
            figures[name] = result
            print(f'eval {name}: IoU {result["iou_mean"]:.4f} {result["iou_ci95"]}')
        figures['protocol'] = 'EVALUATION.md; held-out test_chars.txt, eval brush distribution'
        return figures

    train(config, evaluate=card_evaluation if config.eval_episodes > 0 else None)
    return 0


def add_eval_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'eval',
        help='score a brush controller in the brush simulator (EVALUATION.md)',
        description='Writes each episode (character x evaluation-distribution brush) with the '
        'controller and with `constant`, and reports IoU with a 95%% CI, the ceiling, chamfer, '
        'width error and the fraction of the constant-to-ceiling gap closed.',
    )
    parser.add_argument('--controller', required=True, choices=EVAL_CONTROLLERS)
    parser.add_argument(
        '--mismatch',
        action='store_true',
        help='the brush is drawn from the evaluation distribution but the controller is told the '
        'nominal one; with learned+feedback, reports how much of the lost IoU feedback recovers',
    )
    parser.add_argument(
        '--chars', help='characters, or a file listing them (default: the held-out test list)'
    )
    parser.add_argument('--episodes', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', type=Path, help='write the figures to this JSON file')
    parser.add_argument('--model', default='', help="ONNX policy ('' = the shipped model)")
    parser.add_argument(
        '--contact-sheet', type=Path, help='PNG path (default: beside --json, or none)'
    )
    parser.set_defaults(func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from brush_policy_node.runtime import build_controllers
    from brush_policy_training.evaluation import evaluate

    if args.episodes < 1:
        raise CliError(f'--episodes must be >= 1, got {args.episodes}')
    chars = test_characters()
    if args.chars:
        is_file = Path(args.chars).is_file()
        chars = read_character_list(args.chars) if is_file else ''.join(args.chars.split())
    if not chars:
        raise CliError('no characters to evaluate')
    try:
        default = 'learned' if args.controller == FEEDBACK else args.controller
        controllers = build_controllers(ControllerConfig(), default, args.model)
    except (FileNotFoundError, ValueError) as error:
        raise CliError(str(error)) from error
    sheet = args.contact_sheet
    if sheet is None and args.json is not None:
        sheet = args.json.with_suffix('.png')
    try:
        figures = evaluate(
            controllers, args.controller, chars, args.episodes, args.seed, sheet, args.mismatch
        )
    except Exception as error:
        if type(error).__name__ == 'PlanningError':
            raise CliError(f'cannot plan the characters: {error}') from error
        raise
    for key, value in figures.items():
        print(f'{key:>20}: {value}')
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + '\n')
        print(f'saved {args.json}')
    return 0
