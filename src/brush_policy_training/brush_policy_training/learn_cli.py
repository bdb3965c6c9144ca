"""`calligraphy learn SESSION_DIR... --output-dir DIR [--promote]` (issue 16, item 3).

Stages (shown on stderr): read the sessions → identify the brush (identified_brush.yaml,
identification.json) → fine-tune around it (ONNX + model card with provenance) → evaluate new vs
current on held-out characters with the identified brush (evaluation.json) → promote when better.
Nothing is written when a session cannot be read or the brush cannot be identified.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from calligraphy_ros_kit.cli import CliError

DEFAULT_EPISODES = 200
QUICK_EPISODES = 12


def add_learn_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'learn',
        help='learn from recorded sessions: identify the brush, fine-tune, evaluate, promote',
        description='Reads recorded sessions (the --out folder of `calligraphy write --record`, '
        'or a rosbag2 bag folder of a real cell), fits the brush width curve to what the camera '
        'measured, fine-tunes the policy on brushes around it, and evaluates the new model '
        'against the current one on held-out characters with the identified brush.',
    )
    parser.add_argument('sessions', nargs='+', type=Path, metavar='SESSION_DIR')
    parser.add_argument('--output-dir', type=Path, required=True)
    parser.add_argument(
        '--promote',
        action='store_true',
        help="install the new model as the cell's (user model directory, $CALLIGRAPHY_MODEL_DIR "
        "or ~/.local/share/calligraphy/models) only when its IoU CI lies above the current one's",
    )
    parser.add_argument('--quick', action='store_true', help='tiny training and evaluation')
    parser.add_argument(
        '--episodes', type=int, help=f'evaluation episodes (default {DEFAULT_EPISODES})'
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--current-model', type=Path, help="model to compare with (default: the cell's current)"
    )
    parser.add_argument('--identify-only', action='store_true', help='stop after identification')
    parser.set_defaults(func=run_learn)


class Progress:
    """Stage lines and a training bar on stderr."""

    def __init__(self, stages: int) -> None:
        self.stages = stages
        self.stage = 0
        self.started = time.perf_counter()

    def begin(self, text: str) -> None:
        self.stage += 1
        elapsed = time.perf_counter() - self.started
        print(
            f'[{self.stage}/{self.stages}] {text} ({elapsed:.0f} s)', file=sys.stderr, flush=True
        )

    def training_log(self, epochs: int):
        def log(message: str) -> None:
            match = re.match(r'epoch\s+(\d+)', message)
            if match:
                done = int(match.group(1))
                filled = int(round(30 * done / epochs))
                bar = '#' * filled + '.' * (30 - filled)
                print(f'    training [{bar}] {done}/{epochs} epochs  {message.strip()}',
                      file=sys.stderr, flush=True)  # fmt: skip
            else:
                print(f'    {message}', file=sys.stderr, flush=True)

        return log


def run_learn(args: argparse.Namespace) -> int:
    from brush_policy_training.learn_identify import (
        IdentificationError,
        identify,
        prior_width_gain,
        write_brush_yaml,
    )
    from brush_policy_training.learn_session import SessionError, read_session

    episodes = args.episodes or (QUICK_EPISODES if args.quick else DEFAULT_EPISODES)
    if episodes < 1:
        raise CliError(f'--episodes must be >= 1, got {episodes}')
    if args.current_model is not None and not args.current_model.is_file():
        raise CliError(f'--current-model {args.current_model} does not exist')
    progress = Progress(2 if args.identify_only else 5)
    progress.begin(f'reading {len(args.sessions)} session(s)')
    sessions = []
    for folder in args.sessions:
        try:
            session = read_session(folder)
        except SessionError as error:
            raise CliError(str(error)) from error
        print(f'    {folder}: {session.paths} strokes, {len(session.strokes)} observed, '
              f'characters {session.characters}', file=sys.stderr)  # fmt: skip
        sessions.append(session)

    progress.begin('identifying the brush (width vs depth, ink use)')
    truths = [s.simulated_brush for s in sessions]
    truth = truths[0] if truths[0] and all(t == truths[0] for t in truths) else None
    try:
        identified = identify(
            [st for s in sessions for st in s.strokes],
            truth,
            ink_runs=[(s.ink_steps, s.dips_recorded) for s in sessions],
        )
    except IdentificationError as error:
        raise CliError(f'cannot identify the brush: {error}') from error
    document, brush = identified['document'], identified['brush']
    document['sessions'] = [s.provenance() for s in sessions]
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    write_brush_yaml(
        out / 'identified_brush.yaml', brush, document['width_curve'], document['ink_use']
    )
    _save(out / 'identification.json', document)
    curve = document['width_curve']
    errors = curve['standard_errors']
    for name, value in curve['parameters'].items():
        print(f'    {name} = {value:.6g} ± {errors[name]:.2g}', file=sys.stderr)
    rms_mm = curve['residual_rms_m'] * 1e3
    print(f'    residual RMS {rms_mm:.3f} mm over {curve["points"]} points', file=sys.stderr)
    prior = prior_width_gain(document)
    print(f'    width gain {prior:.4g} over the nominal brush: the writer starts from it with '
          f'--param writer_node:prior_width_gain={prior:.4g} (calligraphy write --model applies '
          "the new model card's)", file=sys.stderr)  # fmt: skip
    lag = document['tip_lag']
    print(f'    tip lag not identified (residual shift {lag["residual_shift_m"] * 1e3:.2f} mm; '
          'see identification.json)', file=sys.stderr)  # fmt: skip
    ink = document['ink_use']
    if ink['identified']:
        print(f'    ink_capacity_m2 = {ink["ink_capacity_m2"]:.6g} ± '
              f'{ink["ink_capacity_standard_error_m2"]:.2g} (camera darkness over '
              f'{ink["strokes"]} strokes, {ink["dips"]} dips)', file=sys.stderr)  # fmt: skip
        budget = ink['writer_parameter']['writer_node']['ink.capacity_m2']
        print(f'    write with it: calligraphy write ... --param '
              f'writer_node:ink.capacity_m2={budget:.4g} (the ink budget for this brush)',
              file=sys.stderr)  # fmt: skip
    else:
        print(f'    ink use {ink["why"]}', file=sys.stderr)
    if 'against_simulated_brush' in document:
        rms = document['against_simulated_brush'].get('width_curve_rms_error_m')
        if rms is not None:
            print(f'    [simulation only] width curve RMS error vs the simulated brush '
                  f'{rms * 1e3:.3f} mm', file=sys.stderr)  # fmt: skip
    if args.identify_only:
        print(f'identified brush: {out / "identified_brush.yaml"}')
        return 0
    return _learn_model(args, sessions, document, brush, episodes, progress)


def _learn_model(args, sessions, document, brush, episodes, progress) -> int:
    from brush_policy_training.characters import test_characters
    from brush_policy_training.learn_identify import prior_width_gain
    from brush_policy_training.learn_model import (
        PromotionRefusedError,
        current_model,
        evaluate_pair,
        finetune,
        promote,
    )
    from brush_policy_training.training import TrainConfig, tiny_config

    out = args.output_dir
    if args.quick:
        config = replace(tiny_config(str(out / 'model'), args.seed), epochs=4)
    else:
        # `calligraphy train`'s size (about 2 min here), so the new model is not handicapped
        # against the shipped one by a smaller training run.
        config = replace(
            TrainConfig(), seed=args.seed, eval_episodes=0, output_dir=str(out / 'model')
        )
    progress.begin(f'fine-tuning around the identified brush ({config.characters} characters × '
                   f'{config.brushes_per_character} brushes, {config.epochs} epochs)')  # fmt: skip
    sessions_card = [s.provenance() for s in sessions]
    result = finetune(config, brush, document, sessions_card, progress.training_log(config.epochs))
    current = args.current_model or current_model()
    progress.begin(f'evaluating new vs current ({current}) on {episodes} episodes')
    evaluation = evaluate_pair(
        result.model_path, current, brush, test_characters(), episodes, args.seed + 1000,
        prior_width_gain(document),
    )  # fmt: skip
    result.card.evaluation = {'learn_gate': evaluation}
    result.card.save(result.card_path)
    _save(out / 'evaluation.json', evaluation)
    for label in ('new', 'current', 'current_with_identified_prior'):
        if label not in evaluation:
            continue
        fig = evaluation[label]
        lo, hi = fig['iou_ci95']
        name = label.replace('_', ' ')
        print(f'    {name:>7}: IoU {fig["iou_mean"]:.4f} [{lo:.4f}, {hi:.4f}] (starting from '
              f'width gain {fig["prior_width_gain"]:.3g})', file=sys.stderr)  # fmt: skip
    diff = evaluation['paired_difference']
    low, high = diff['iou_ci95']
    print(f'    paired difference new - current: {diff["iou_mean"]:+.4f} '
          f'[{low:+.4f}, {high:+.4f}]', file=sys.stderr)  # fmt: skip
    print(f'model: {result.model_path} ({evaluation["verdict"]["text"]})')
    progress.begin('promotion' if args.promote else 'done (no --promote)')
    if not args.promote:
        return 0
    try:
        installed = promote(result.model_path, evaluation)
    except PromotionRefusedError as error:
        raise CliError(str(error)) from error
    print(f'promoted: {installed["installed"]} (previous kept: {installed["previous"]}); '
          f'run it with `calligraphy write --model {installed["installed"]}`')  # fmt: skip
    return 0


def _save(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + '\n', encoding='utf-8')
