"""Errors a client can act on: one code from a fixed list plus a human message.

DawhostError            any problem reported to a client as an `error` event
├── code BAD_REQUEST      the message itself is malformed (missing id, bad JSON, wrong types)
├── code UNKNOWN_MODEL    no model with that id is registered
├── code UNKNOWN_OPTION   an option name the model does not declare
├── code BAD_OPTION       an option value of the wrong type or out of bounds
├── code BAD_INPUT        an input (notes, audio path, lyrics) that cannot be used
├── code PATH_NOT_ALLOWED a path outside the work folder and the allowed input roots
├── code BUSY             the model's or the server's queue is full; retry later
├── code DUPLICATE_ID     a request id that is still running
├── code CANCELLED        the request was cancelled
├── code TIMEOUT          the job ran longer than its time limit and was stopped
└── code MODEL_ERROR      the model failed; the message says why
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    BAD_REQUEST = "bad_request"
    UNKNOWN_MODEL = "unknown_model"
    UNKNOWN_OPTION = "unknown_option"
    BAD_OPTION = "bad_option"
    BAD_INPUT = "bad_input"
    PATH_NOT_ALLOWED = "path_not_allowed"
    BUSY = "busy"
    DUPLICATE_ID = "duplicate_id"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    MODEL_ERROR = "model_error"


class DawhostError(Exception):
    """An error to report to the client; `field` names the offending option or input."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"DawhostError({self.code.value}, {self.message!r})"


class BadInput(DawhostError):
    """Raised by models for inputs they cannot use: `raise BadInput("lyrics", "is empty")`."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(ErrorCode.BAD_INPUT, f"input {field!r} {problem}", field=field)


class JobCancelled(Exception):
    """Raised inside a job by `Job.check_cancelled()` / `Job.progress()` once it is cancelled
    or timed out; the engine turns it into a `cancelled` or `timeout` error event."""
