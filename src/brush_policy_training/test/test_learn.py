"""`calligraphy learn`: sessions read with rosbags, brush identified, fine-tuned, gated.

Sessions are built here as rosbag2 bags (MCAP) of real calligraphy_interfaces messages, serialised
with rosbags' own CDR serialiser: a known brush's seen widths at known commanded depths, plus
camera-like noise. No ROS graph, no `calligraphy write`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from brush_policy_training.learn_identify import identify
from brush_policy_training.learn_model import (
    PromotionRefusedError,
    evaluate_pair,
    promote,
    verdict,
)
from brush_policy_training.learn_session import read_session, typestore
from brush_policy_training.learn_synthetic import default_message, simulate_session
from brush_policy_training.simulator import true_width_gain
from calligraphy_model.brush import BrushParams
from calligraphy_ros_kit.cli import main

TRUE_BRUSH = BrushParams(belly_diameter_m=0.0082, touch_width_m=0.0005, width_slope=0.85)
NOISE_M = 0.00005


def write_session(
    out: Path,
    brush: BrushParams | None = TRUE_BRUSH,
    characters: str = '一二',
    strokes_per_character: int = 4,
    points: int = 40,
    observe: bool = True,
    seed: int = 0,
) -> Path:
    """A `calligraphy write --record`-like folder: out/session (bag) and out/report.json."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    rng = np.random.default_rng(seed)
    store = typestore()
    path_type = 'calligraphy_interfaces/msg/BrushPath'
    obs_type = 'calligraphy_interfaces/msg/PaperObservation'
    metrics_type = 'calligraphy_interfaces/msg/StrokeMetrics'
    out.mkdir(parents=True, exist_ok=True)
    writer = Writer(
        out / 'session', version=Writer.VERSION_LATEST, storage_plugin=StoragePlugin.MCAP
    )
    stamp = 1_780_000_000 * 10**9
    with writer:
        paths = writer.add_connection('/writer/brush_path', path_type, typestore=store)
        observations = writer.add_connection('/paper_observation', obs_type, typestore=store)
        for _ in characters:
            written = []
            for k in range(strokes_per_character):
                depth = np.clip(
                    0.0075 * np.sin(np.linspace(0.05, np.pi - 0.05, points)) ** 0.7
                    * rng.uniform(0.5, 1.0), 0.0002, None,
                )  # fmt: skip
                msg = default_message(store, path_type)
                msg.stroke_index = k
                msg.controller = 'learned'
                msg.x_m = np.linspace(0.03, 0.07, points)
                msg.y_m = np.full(points, 0.05 + 0.005 * k)
                msg.pressing_depth_m = depth
                msg.time_from_start_s = np.linspace(0.0, 2.0, points)
                stamp += 3 * 10**9
                writer.write(paths, stamp, store.serialize_cdr(msg, path_type))
                seen = brush.seen_width_at_depth(depth) + rng.normal(0.0, NOISE_M, points)
                seen[rng.random(points) < 0.1] = np.nan  # crossings, unmeasurable points
                metrics = default_message(store, metrics_type)
                metrics.stroke_index = k
                metrics.planned_width_m = np.full(points, 0.004)
                metrics.measured_width_m = seen
                metrics.coverage, metrics.darkness = 0.98, 0.85
                written.append(metrics)
                if observe:
                    obs = default_message(store, obs_type)
                    obs.strokes = list(written)
                    stamp += 10**9
                    writer.write(observations, stamp, store.serialize_cdr(obs, obs_type))
    report = {'characters': [{'char': c} for c in characters]}
    report['simulated_brush'] = vars(brush) if brush is not None else 'nominal'
    (out / 'report.json').write_text(json.dumps(report))
    return out


@pytest.fixture(scope='module')
def session(tmp_path_factory) -> Path:
    return write_session(tmp_path_factory.mktemp('learn') / 'w')


def test_reads_the_session_and_identifies_the_width_curve(session):
    data = read_session(session)
    assert data.paths == 8 and len(data.strokes) == 8 and data.characters == '一二'
    depth, width = data.pairs()
    assert len(depth) > 200 and np.all(depth > 0)
    result = identify(data.strokes, data.simulated_brush)
    fit = result['document']['width_curve']
    brush = result['brush']
    assert abs(brush.touch_width_m - TRUE_BRUSH.touch_width_m) < 0.00015
    assert abs(brush.belly_diameter_m - TRUE_BRUSH.belly_diameter_m) < 0.0003
    assert abs(brush.width_slope - TRUE_BRUSH.width_slope) < 0.08
    assert 0.7 * NOISE_M < fit['residual_rms_m'] < 1.3 * NOISE_M
    assert all(0 < e < 0.1 for e in fit['standard_errors'].values())
    against = result['document']['against_simulated_brush']
    assert against['width_curve_rms_error_m'] < 0.0001 and 'simulation' in against['label']
    # The widths were laid where the depths were commanded: no lag to find.
    assert abs(fit['footprint_lag_m']) < 0.0003
    # This session did not record the dipping action's status: no ink use to fit.
    ink = result['document']['ink_use']
    assert not ink['identified'] and '/dip_ink/_action/status' in ink['why']
    assert result['brush'].ink_capacity_m2 == BrushParams().ink_capacity_m2


def test_identifies_the_ink_capacity_from_the_darkness_between_recorded_dips(tmp_path):
    """A brush holding a third less ink than nominal, written until it was dipped twice: the
    darkness the camera measured falls with the ink laid and the fit finds the capacity."""
    small = BrushParams(ink_capacity_m2=0.0008)
    data = read_session(simulate_session(tmp_path / 'sim', '永山大中', small, seed=1))
    assert data.dips_recorded and max(st.dips_before for st in data.ink_steps) == 2
    result = identify(data.strokes, data.simulated_brush, [(data.ink_steps, True)])
    ink = result['document']['ink_use']
    assert ink['identified'] and ink['dips'] == 2 and ink['strokes'] >= 10
    assert abs(ink['ink_capacity_m2'] - 0.0008) < 0.1 * 0.0008
    assert 0 < ink['ink_capacity_standard_error_m2'] < 0.1 * 0.0008
    assert result['brush'].ink_capacity_m2 == pytest.approx(ink['ink_capacity_m2'])
    assert 'ink_capacity_m2' in result['document']['identified_brush']
    # The writer's ink budget for this brush: its nominal-brush calibration, scaled.
    budget = ink['writer_parameter']['writer_node']['ink.capacity_m2']
    assert budget == pytest.approx(1.4e-3 * ink['ink_capacity_m2'] / 1.2e-3)
    # Without the dips the same darkness cannot be tied to the ink laid since a dip.
    blind = identify(data.strokes, data.simulated_brush, [(data.ink_steps, False)])
    assert not blind['document']['ink_use']['identified']


def test_identifies_a_brush_outside_the_training_ranges_from_simulated_writing(tmp_path):
    """Strokes rendered by the brush simulator and measured as the camera does (not the width
    law plus noise): the fitted curve is within 0.1 mm RMS of the truth where it was written."""
    wide = BrushParams(belly_diameter_m=0.011, touch_width_m=0.0005, width_slope=1.4)
    data = read_session(simulate_session(tmp_path / 'sim', '永山', wide, seed=1))
    result = identify(data.strokes, data.simulated_brush)
    assert result['document']['against_simulated_brush']['width_curve_rms_error_m'] < 0.0001
    assert result['document']['width_curve']['residual_rms_m'] < 0.0004


def _learn(*args: str) -> int:
    return main(['learn', *args])


def test_bad_sessions_are_refused_with_exit_2_and_nothing_written(tmp_path, capsys):
    out = tmp_path / 'out'
    not_a_session = tmp_path / 'empty'
    not_a_session.mkdir()
    assert _learn(str(not_a_session), '--output-dir', str(out), '--identify-only') == 2
    assert 'is not a session' in capsys.readouterr().err
    blind = write_session(tmp_path / 'blind', observe=False)
    assert _learn(str(blind), '--output-dir', str(out), '--identify-only') == 2
    assert 'no camera observation' in capsys.readouterr().err
    for cut in (True, False):  # a file cut short; one garbled inside its chunks
        corrupt = write_session(tmp_path / f'corrupt{cut}')
        mcap = next((corrupt / 'session').glob('*.mcap'))
        raw = bytearray(mcap.read_bytes())
        raw[len(raw) // 3 : len(raw) * 2 // 3] = b'\xff' * (len(raw) * 2 // 3 - len(raw) // 3)
        mcap.write_bytes(bytes(raw[: len(raw) * 2 // 3] if cut else raw))
        assert _learn(str(corrupt), '--output-dir', str(out), '--identify-only') == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert 'calligraphy learn: error:' in err[-1] and 'Traceback' not in ''.join(err), err
    assert not out.exists()


def test_quick_learn_writes_model_and_card_with_provenance(session, tmp_path):
    from brush_policy_node.runtime import SHIPPED_MODEL

    out = tmp_path / 'learned'
    code = _learn(
        str(session), '--output-dir', str(out), '--quick', '--episodes', '2',
        '--current-model', str(SHIPPED_MODEL),
    )  # fmt: skip
    assert code == 0
    brush = (out / 'identified_brush.yaml').read_text()
    assert 'belly_diameter_m' in brush and 'ink_capacity_m2' in brush
    identification = json.loads((out / 'identification.json').read_text())
    assert identification['width_curve']['residual_rms_m'] < 0.0001
    card = json.loads((out / 'model' / 'brush_policy.card.json').read_text())
    assert (out / 'model' / 'brush_policy.onnx').stat().st_size > 1000
    mcap = next((session / 'session').glob('*.mcap'))
    digest = hashlib.sha256(mcap.read_bytes()).hexdigest()
    (listed,) = card['dataset']['sessions']
    assert listed['mcap_sha256'] == {mcap.name: digest}
    assert listed['characters'] == '一二' and listed['strokes'] == 8 and listed['date_utc']
    assert card['identified_brush']['parameters']['belly_diameter_m'] == pytest.approx(
        TRUE_BRUSH.belly_diameter_m, abs=0.0003
    )
    # The writer's starting width gain for this brush, which `calligraphy write --model` applies.
    prior = identification['width_curve']['writer_parameter']['writer_node']['prior_width_gain']
    assert card['identified_brush']['prior_width_gain'] == prior
    assert prior == pytest.approx(true_width_gain(TRUE_BRUSH), rel=0.03)
    evaluation = json.loads((out / 'evaluation.json').read_text())
    assert set(evaluation['verdict']) >= {'better', 'text'}
    assert evaluation['new']['iou_ci95'][0] <= evaluation['new']['iou_mean']


def test_the_gate_refuses_a_model_that_is_not_better(tmp_path, monkeypatch):
    from brush_policy_node.runtime import SHIPPED_MODEL

    monkeypatch.setenv('CALLIGRAPHY_MODEL_DIR', str(tmp_path / 'models'))
    # The same model against itself: identical episodes, identical scores, CIs that overlap.
    evaluation = evaluate_pair(SHIPPED_MODEL, SHIPPED_MODEL, TRUE_BRUSH, '永和', 2, 0)
    assert evaluation['new']['iou_ci95'] == evaluation['current']['iou_ci95']
    assert not evaluation['verdict']['better']
    assert 'current_with_identified_prior' not in evaluation
    # With the identified brush's prior the new model starts as `calligraphy write --model`
    # starts it; the current one with the prior too is reported beside it (not in the verdict).
    wide = BrushParams(belly_diameter_m=0.011, width_slope=1.4)
    gain = true_width_gain(wide)
    primed = evaluate_pair(SHIPPED_MODEL, SHIPPED_MODEL, wide, '永和', 2, 0, gain)
    assert primed['new']['prior_width_gain'] == gain and primed['current']['prior_width_gain'] == 1
    assert primed['current_with_identified_prior']['iou_mean'] == primed['new']['iou_mean']
    assert primed['new']['iou_mean'] != primed['current']['iou_mean']
    with pytest.raises(PromotionRefusedError, match='not promoted'):
        promote(SHIPPED_MODEL, evaluation)
    assert not (tmp_path / 'models').exists()
    assert verdict([0.80, 0.82], [0.81, 0.83]) == {
        'better': False, 'worse': False, 'text': 'not shown better: the IoU CIs overlap'
    }  # fmt: skip
    # Apart and above: installed, and the previous one kept for rollback.
    better = {'verdict': verdict([0.85, 0.87], [0.80, 0.82])}
    first = promote(SHIPPED_MODEL, better)
    second = promote(SHIPPED_MODEL, better)
    assert Path(first['installed']).is_file() and first['previous'] is None
    assert Path(second['previous']).is_file()
    assert (
        Path(second['previous']).with_name(Path(second['previous']).stem + '.card.json').is_file()
    )
