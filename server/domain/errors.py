"""Stable error codes: the protocol's acknowledgements carry them, clients switch on them."""

from __future__ import annotations

from common.wire import ErrorCode

__all__ = ["CommandError", "ErrorCode"]


class CommandError(Exception):
    """A command was refused; nothing it would have changed is kept."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.message}
