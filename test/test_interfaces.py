"""The interface package: every result carries an error code and message, units are documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from calligraphy_interfaces import action, msg, srv
from conftest import REPO_ROOT

INTERFACE_DIR = REPO_ROOT / 'src' / 'calligraphy_interfaces'
ACTIONS = ['WriteCharacter', 'WriteText', 'DipInk', 'ExecuteBrushPath']
SERVICES = ['PlanStrokes', 'ComputeBrushPath', 'ObservePaper', 'SavePaper']


@pytest.mark.parametrize('name', ACTIONS)
def test_action_results_carry_error_code_and_message_and_feedback_has_phase(name):
    interface = getattr(action, name)
    result = interface.Result()
    assert result.error_code == interface.Result.SUCCESS == 0
    assert result.error_msg == ''
    assert 'phase' in interface.Feedback.get_fields_and_field_types()


@pytest.mark.parametrize('name', SERVICES)
def test_service_responses_carry_error_code_and_message(name):
    response = getattr(srv, name).Response()
    assert response.error_code == 0 and response.error_msg == ''


def test_progress_feedback_has_stroke_index_and_count():
    for name in ('WriteCharacter', 'WriteText'):
        fields = getattr(action, name).Feedback.get_fields_and_field_types()
        assert {'stroke_index', 'stroke_count', 'running_iou'} <= set(fields)


def test_brush_path_round_trips_its_arrays():
    path = msg.BrushPath(x_m=[0.1, 0.2], y_m=[0.3, 0.4], pressing_depth_m=[0.001, 0.002])
    path.time_from_start_s = [0.0, 0.5]
    assert list(path.pressing_depth_m) == [0.001, 0.002]


UNIT_WORDS = re.compile(r'metres|seconds|radians|fraction|0\.\.1|>= 0|1\.0 =|NaN|per ')


@pytest.mark.parametrize('path', sorted(INTERFACE_DIR.glob('*/*.*')), ids=lambda p: p.name)
def test_every_float_field_documents_its_unit(path: Path):
    """Each float field (or the comment block just above it) names its unit or range."""
    comments: list[str] = []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith('#'):
            comments.append(stripped)
            continue
        if not stripped or stripped == '---':
            comments = []
            continue
        if re.match(r'float(32|64)(\[\])? ', stripped) and '=' not in stripped:
            assert UNIT_WORDS.search(' '.join(comments[-6:])), f'{path.name}: {stripped}'
        if not re.match(r'float(32|64)', stripped):
            comments = []
