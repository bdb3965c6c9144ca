"""Error codes of brush-path execution; the values mirror ExecuteBrushPath.action's constants."""

from __future__ import annotations

from enum import IntEnum


class MotionErrorCode(IntEnum):
    SUCCESS = 0
    EMPTY_PATH = 1
    INVALID_PATH = 2
    OUTSIDE_PAPER = 3
    TOO_DEEP = 4
    UNREACHABLE = 5
    JOINT_STATES_STALE = 6
    CONTROLLER_UNAVAILABLE = 7
    TRACKING_ERROR = 8
    COLLISION = 9
    INVALID_ARGUMENT = 10
    CANCELED = 20
    INTERNAL_ERROR = 99


class MotionError(Exception):
    """A request the arm will not (or could not) execute, with its code and a readable message."""

    def __init__(self, code: MotionErrorCode, message: str) -> None:
        super().__init__(f'{code.name}: {message}')
        self.code = code
        self.message = message


class BackendUnavailableError(RuntimeError):
    """The selected motion backend cannot run here (e.g. moveit_py not installed)."""
