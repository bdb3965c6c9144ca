"""Each core keeps one mirror of its interface's error codes (so that it stays free of ROS); the
mirror must equal the constants of the interface file, name for name and value for value."""

from __future__ import annotations

from enum import IntEnum

import pytest

from brush_policy_node import types as policy_types
from calligraphy_bringup.calibration_common import CalibrationErrorCode
from calligraphy_interfaces.action import (
    CalibrateCell,
    DipInk,
    ExecuteBrushPath,
    WriteCharacter,
    WriteText,
)
from calligraphy_interfaces.srv import ComputeBrushPath, ObservePaper, PlanStrokes
from calligraphy_writer import sequencer
from camera_feedback import types as camera_types
from ink_dipping.errors import DipErrorCode
from motion_executor.errors import MotionErrorCode
from stroke_planner.types import ErrorCode as PlanErrorCode


def constants(interface) -> dict[str, int]:
    """The integer constants an interface file defines (ERROR_NAME = value)."""
    return {
        name: value
        for name in dir(interface)
        if name.isupper() and isinstance(value := getattr(interface, name), int)
    }


def enum_codes(codes: type[IntEnum]) -> dict[str, int]:
    return {member.name: int(member) for member in codes}


@pytest.mark.parametrize(
    ('mirror', 'interface'),
    [
        (PlanErrorCode, PlanStrokes.Response),
        (MotionErrorCode, ExecuteBrushPath.Result),
        (DipErrorCode, DipInk.Result),
        (CalibrationErrorCode, CalibrateCell.Result),
    ],
    ids=['planner', 'motion', 'dipping', 'calibration'],
)
def test_an_error_enum_equals_its_interface(mirror, interface):
    assert enum_codes(mirror) == constants(interface)


def test_the_writers_codes_equal_both_of_its_actions():
    mirror = module_codes(sequencer)
    character, text = constants(WriteCharacter.Result), constants(WriteText.Result)
    # Every code a WriteCharacter caller can get has its mirror, with the same value.
    assert {n: mirror.get(n) for n in character} == character
    # The writer's codes that WriteText names too have WriteText's values; the rest (a text's
    # own codes) are mirrored with WriteText's values as well.
    shared = {n: v for n, v in mirror.items() if n in text}
    assert shared == {n: text[n] for n in shared}
    assert set(mirror) <= set(character) | set(text), set(mirror) - set(character) - set(text)
    assert len(constants(WriteCharacter.Result)) > 10


def module_codes(module) -> dict[str, int]:
    """A core's codes kept as module constants (NAME = int)."""
    return {
        name: value
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, int) and not isinstance(value, bool)
    }


@pytest.mark.parametrize(
    ('module', 'interface'),
    [(policy_types, ComputeBrushPath.Response), (camera_types, ObservePaper.Response)],
    ids=['policy', 'camera'],
)
def test_module_constants_equal_their_interface(module, interface):
    assert module_codes(module) == constants(interface)
