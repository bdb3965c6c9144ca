"""Error codes of the dip (no ROS).

DipErrorCode is the dip's one mirror of DipInk.action's result codes.
"""

from __future__ import annotations

from enum import IntEnum

from calligraphy_model.errors import CalligraphyError


class DipErrorCode(IntEnum):
    SUCCESS = 0
    INVALID_MODE = 1
    BUSY_WRITING = 2
    INK_WELL_UNREACHABLE = 3
    EXECUTION_FAILED = 4
    INVALID_ARGUMENT = 5
    CANCELED = 20
    INTERNAL_ERROR = 99


class DipError(CalligraphyError):
    """A dip refused or failed, with its DipInk code and a readable message."""

    def __init__(self, code: DipErrorCode, message: str) -> None:
        super().__init__(code, message)
        self.code = DipErrorCode(code)


class InkWellUnreachableError(DipError):
    """The arm cannot carry out the dip routine at the configured well (the node does not
    start)."""

    def __init__(self, message: str) -> None:
        super().__init__(DipErrorCode.INK_WELL_UNREACHABLE, message)
