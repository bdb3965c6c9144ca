"""What `calligraphy write` writes with, besides the text: the brush the virtual paper simulates
(nominal, an evaluation seed's, or a YAML file's), the policy model the controller runs and any
node parameter set with `--param NODE:NAME=VALUE`. Each is checked before the cell comes up,
turned into node parameters, and named in report.json so a session can be traced to what produced
it."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from pathlib import Path
from typing import TYPE_CHECKING

# numpy, YAML and the brush model are imported where used: `calligraphy write` checks its
# options before it starts the cell's processes, and importing them there (0.12 s) delayed the
# camera's process, the last of the cell to be ready.
if TYPE_CHECKING:
    from calligraphy_model.brush import BrushParams


def eval_brush(seed: int) -> BrushParams:
    """The brush of episode 0 of the offline evaluation with `seed` (brush_policy_training's
    make_episodes draws episode e's brush from the evaluation distribution with [seed, e])."""
    import numpy as np

    from calligraphy_model.brush import BrushParams

    return BrushParams.sample(np.random.default_rng([seed, 0]), 'eval')


def brush_parameters(brush: BrushParams) -> dict[str, float]:
    """virtual_paper_node parameters that make it simulate `brush`, each of the type the node
    declares (the nominal brush's)."""
    from calligraphy_model.brush import BrushParams

    nominal = BrushParams()
    return {
        f'brush.{f.name}': type(getattr(nominal, f.name))(getattr(brush, f.name))
        for f in dataclasses.fields(brush)
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parse_param(text: str, nodes: tuple[str, ...]) -> tuple[str, str, object]:
    """`NODE:NAME=VALUE` as (node, parameter, value); the value is read as YAML (as in the
    nodes' config files), so `0.15` is a float, `4` an integer and `true` a boolean."""
    node, sep, rest = text.partition(':')
    name, eq, raw = rest.partition('=')
    if not (sep and eq and node and name and raw):
        raise ValueError(f'--param {text!r}: expected NODE:NAME=VALUE')
    if node not in nodes:
        raise ValueError(f'--param {text!r}: no node {node!r} in the cell ({", ".join(nodes)})')
    import yaml

    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        problem = getattr(error, 'problem', None) or type(error).__name__
        raise ValueError(f'--param {text!r}: the value is not valid YAML ({problem})') from error
    if not isinstance(value, (bool, int, float, str, list)):
        raise ValueError(f'--param {text!r}: a parameter takes a number, text, bool or list')
    return node, name, value


class WriteInputs:
    """The brush, model and parameter options of one `calligraphy write` run."""

    def __init__(
        self,
        brush_seed: int | None,
        brush_file: Path | None,
        model: Path | None,
        params: list[str] | None = None,
        nodes: tuple[str, ...] = (),
    ):
        self.brush_seed, self.brush_file, self.model = brush_seed, brush_file, model
        self.brush: BrushParams | None = None
        self.param_texts, self.nodes = list(params or []), nodes
        self.params: dict[str, dict] = {}
        self.notes: list[str] = []  # what the options implied, for the CLI to say

    def problem(self) -> str | None:
        """What is wrong with the options (one line for the CLI), or None; loads the brush."""
        if self.brush_file is not None and self.brush_seed is not None:
            return '--brush-file and --brush-seed both choose the brush: give one'
        if self.brush_file is not None:
            from calligraphy_model.brush import load_brush_file

            try:
                self.brush = load_brush_file(self.brush_file)
            except ValueError as error:
                return f'--brush-file {error}'
        elif self.brush_seed is not None:
            self.brush = eval_brush(self.brush_seed)
        for text in self.param_texts:
            try:
                node, name, value = parse_param(text, self.nodes)
            except ValueError as error:
                return str(error)
            self.params.setdefault(node, {})[name] = value
        if self.model is not None:
            from brush_policy_node.model_card import card_path_for

            if not self.model.is_file():
                return f'--model {self.model}: no such file'
            if not card_path_for(self.model).is_file():
                return (
                    f'--model {self.model}: its model card {card_path_for(self.model)} is missing'
                )
            return self._prior_from_card(card_path_for(self.model))
        return None

    def _prior_from_card(self, card: Path) -> str | None:
        """A model `calligraphy learn` trained around an identified brush: the writer starts
        its width-gain estimate from that brush (the card's identified_brush.prior_width_gain)
        unless --param writer_node:prior_width_gain says otherwise."""
        from brush_policy_node.model_card import ModelCard

        try:
            identified = ModelCard.load(card).identified_brush
        except (OSError, ValueError, TypeError) as error:
            return f'--model {self.model}: its model card {card} is not readable ({error})'
        prior = identified.get('prior_width_gain') if isinstance(identified, dict) else None
        if prior is None or 'prior_width_gain' in self.params.get('writer_node', {}):
            return None
        if not (isinstance(prior, (int, float)) and 0.0 < prior < math.inf):
            return f'--model {self.model}: its card has a bad prior_width_gain ({prior!r})'
        self.params.setdefault('writer_node', {})['prior_width_gain'] = float(prior)
        self.notes.append(
            f"the writer starts from the width gain {prior:.4g} of the brush the model's card "
            'identified (--param writer_node:prior_width_gain=1 for the nominal brush)'
        )
        return None

    def overrides(self) -> dict[str, dict]:
        """Node parameters, by node, that make the cell write with these choices."""
        overrides: dict[str, dict] = {}
        if self.brush is not None:
            overrides['virtual_paper_node'] = brush_parameters(self.brush)
        if self.model is not None:
            overrides['brush_policy_node'] = {'model_path': str(self.model.resolve())}
        for node, values in self.params.items():
            overrides.setdefault(node, {}).update(values)
        return overrides

    def report(self) -> dict:
        """report.json's `simulated_brush` and `model`: which brush and which model wrote."""
        from brush_policy_node.model_card import card_path_for
        from brush_policy_node.runtime import SHIPPED_MODEL

        if self.brush_file is not None:
            brush: dict | str = {'file': str(self.brush_file.resolve()), **vars(self.brush)}
        elif self.brush_seed is not None:
            brush = {'seed': self.brush_seed, **vars(self.brush)}
        else:
            brush = 'nominal'
        model = (self.model or SHIPPED_MODEL).resolve()
        card = card_path_for(model)
        return {
            'parameters': self.params,
            'simulated_brush': brush,
            'model': {
                'path': str(model),
                'shipped': self.model is None,
                'sha256': _sha256(model),
                'card': str(card),
                'card_sha256': _sha256(card),
            },
        }
