"""The one error base of the cell's cores: a code (the interface constant a caller receives) and
a one-line message. Each core names its own subclass; nodes translate `code` into their result."""

from __future__ import annotations


class CalligraphyError(Exception):
    """`code`: the error constant of the interface the caller uses; `message`: one line."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message

    def __str__(self) -> str:
        return self.message
