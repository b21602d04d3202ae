"""Replies to keyed requests (reader taps, payments): recorded, duplicate or rejected, with a status.

The shapes follow the reader contract (`devices.contract.TapResult`): a repeat of a key with
the same request gets the first answer (a recorded one as `duplicate`, 200); the same key
with another request is a 409 conflict; a refusal carries the twin's error code and message.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from actors.journal import Answer
from twin.errors import TwinError


@lru_cache(maxsize=1)
def _statuses() -> dict[str, int]:
    """HTTP status of every TwinError code known in this process (first class wins per code)."""
    out: dict[str, int] = {}
    todo = [TwinError]
    while todo:
        cls = todo.pop()
        out.setdefault(cls.code, int(cls.status))
        todo.extend(cls.__subclasses__())
    return out


def status_of(code: str) -> int:
    """The HTTP status for a refusal code (422 when the code is not a known TwinError's)."""
    return _statuses().get(code, 422)


def recorded(key: str, fingerprint: str, result: dict[str, Any], http: int = 201) -> Answer:
    """A recorded answer."""
    return Answer(fingerprint, {"tap_id": key, "status": "recorded", "result": result}, http)


def rejected(key: str, fingerprint: str, code: str, detail: str, http: int | None = None) -> Answer:
    """A rejected answer with the twin's refusal code."""
    return Answer(fingerprint, {"tap_id": key, "status": "rejected", "error": code, "detail": detail},
                  status_of(code) if http is None else http)


def from_error(key: str, fingerprint: str, err: TwinError) -> Answer:
    """A rejected answer from a raised refusal."""
    return rejected(key, fingerprint, err.code, str(err), int(err.status))


def repeat(prior: Answer, fingerprint: str, key: str) -> tuple[dict[str, Any], int]:
    """The reply to a repeated key: the first answer, or a conflict if the request changed."""
    if prior.fingerprint != fingerprint:
        return ({"tap_id": key, "status": "rejected", "error": "conflict",
                 "detail": f"key {key} was already used for a different request; nothing was changed"}, 409)
    if prior.answer.get("status") == "recorded":
        return {**prior.answer, "status": "duplicate"}, 200
    return prior.answer, prior.status
