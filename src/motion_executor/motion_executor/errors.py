"""Error codes of brush-path execution (no ROS).

MotionErrorCode is the motion executor's one mirror of ExecuteBrushPath.action's result codes.
"""

from __future__ import annotations

from enum import IntEnum

from calligraphy_model.errors import CalligraphyError


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


class MotionError(CalligraphyError):
    """A request the arm will not (or could not) execute, with its code and a readable message."""

    def __init__(self, code: MotionErrorCode, message: str) -> None:
        super().__init__(code, message)
        self.code = MotionErrorCode(code)

    def __str__(self) -> str:
        return f'{self.code.name}: {self.message}'


class BackendUnavailableError(CalligraphyError):
    """The selected motion backend (or controller interface) cannot run here (e.g. moveit_py
    not installed): the node does not start."""

    def __init__(self, message: str) -> None:
        super().__init__(MotionErrorCode.CONTROLLER_UNAVAILABLE, message)
