"""Domain exceptions: each says what happened and what remains."""

from __future__ import annotations


class TwinError(Exception):
    """Base of every domain refusal; the HTTP layer maps it to a 4xx."""

    code: str = "twin_error"
    status: int = 400

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description of the refusal."""
        return {"error": self.code, "detail": str(self)}

    def __reduce__(self):
        """Pickle as class, message and attributes, so refusals with their own __init__ cross processes (Ray)."""
        return _rebuild, (type(self), self.args, dict(self.__dict__))


def _rebuild(cls: type[TwinError], args: tuple, state: dict) -> TwinError:
    """A refusal unpickled without calling its __init__ (whose signature may differ from its args)."""
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


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
