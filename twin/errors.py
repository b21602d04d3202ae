"""Domain exceptions: each says what happened and what remains."""

from __future__ import annotations


class TwinError(Exception):
    """Base of every domain refusal; the HTTP layer maps it to a 4xx."""

    code: str = "twin_error"
    status: int = 400

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description of the refusal."""
        return {"error": self.code, "detail": str(self)}


class ValidationError(TwinError, ValueError):
    """Input that is malformed or out of range."""

    code = "invalid_input"
    status = 422


class NotFound(TwinError, LookupError):
    """A named thing (resident, shelter, account …) does not exist."""

    code = "not_found"
    status = 404


class Forbidden(TwinError, PermissionError):
    """The caller is not allowed to do this (consent, household, role, ordinance)."""

    code = "forbidden"
    status = 403


class Conflict(TwinError):
    """The request contradicts stored state (e.g. an idempotency key reused differently)."""

    code = "conflict"
    status = 409
