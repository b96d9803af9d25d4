"""Stable error codes: the protocol's acknowledgements carry them, clients switch on them."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_PAYLOAD = "invalid_payload"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    QUEUE_EMPTY = "queue_empty"
    INVALID_STATE = "invalid_state"
    INSUFFICIENT_PAYMENT = "insufficient_payment"
    UNKNOWN_SERVICE = "unknown_service"
    CONFLICT = "conflict"
    BUSY = "busy"
    INTERNAL_ERROR = "internal_error"


class CommandError(Exception):
    """A command was refused; nothing it would have changed is kept."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.message}
