"""Consents (同意) a holder gives clinics to read a vital-records handbook: recorded, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from twin.errors import Conflict, NotFound
from twin.events import Event


@dataclass(frozen=True, slots=True)
class ConsentChanged(Event):
    """A consent was granted or revoked (by the holder, or a guardian for a minor)."""

    consent_id: int
    subject: int
    clinic: str
    book: str
    granted_by: int
    granted: bool
    kind: ClassVar[str] = "vitals_consent_changed"


@dataclass(slots=True)
class Consent:
    """One consent: a clinic may read one handbook of one subject until it ends or is revoked."""

    consent_id: int
    subject: int
    clinic: str
    book: str
    granted_by: int
    granted_at: float
    until: float | None
    revoked_at: float | None = None

    def active(self, now: float) -> bool:
        """Whether the consent allows a read at `now`."""
        if self.revoked_at is not None and now >= self.revoked_at:
            return False
        return self.granted_at <= now and (self.until is None or now < self.until)


class ConsentBook:
    """All consents, by id and by (subject, clinic, book)."""

    def __init__(self) -> None:
        self._all: list[Consent] = []

    def grant(
        self, subject: int, clinic: str, book: str, by: int, now: float, until: float | None
    ) -> Consent:
        """Record a new consent (a second active one for the same clinic and book is a conflict)."""
        if self.active(subject, clinic, book, now) is not None:
            raise Conflict(
                f"clinic {clinic} already has an active consent for {subject}'s {book} handbook"
            )
        if until is not None and until <= now:
            raise Conflict(f"a consent must end after it starts (until={until}, now={now})")
        c = Consent(len(self._all) + 1, subject, clinic, book, by, float(now), until)
        self._all.append(c)
        return c

    def get(self, consent_id: int) -> Consent:
        """The consent with this id."""
        if not 1 <= consent_id <= len(self._all):
            raise NotFound(f"no consent {consent_id}")
        return self._all[consent_id - 1]

    def revoke(self, consent_id: int, now: float) -> Consent:
        """End a consent now (revoking twice is a conflict)."""
        c = self.get(consent_id)
        if c.revoked_at is not None:
            raise Conflict(f"consent {consent_id} was already revoked")
        c.revoked_at = float(now)
        return c

    def active(self, subject: int, clinic: str, book: str, now: float) -> Consent | None:
        """The consent letting `clinic` read `book` of `subject` at `now`, if any."""
        for c in reversed(self._all):
            if (c.subject, c.clinic, c.book) == (subject, clinic, book) and c.active(now):
                return c
        return None

    def of(self, subject: int) -> pl.DataFrame:
        """Every consent about one subject."""
        rows = [
            (c.consent_id, c.clinic, c.book, c.granted_by, c.granted_at, c.until, c.revoked_at)
            for c in self._all
            if c.subject == subject
        ]
        return pl.DataFrame(
            rows,
            orient="row",
            schema={
                "consent_id": pl.Int64,
                "clinic": pl.Utf8,
                "book": pl.Utf8,
                "granted_by": pl.Int64,
                "granted_at": pl.Float64,
                "until": pl.Float64,
                "revoked_at": pl.Float64,
            },
        )
