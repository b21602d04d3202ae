"""Vital records (バイタル情報参照): the e-maternal (電子母子手帳) and e-medication (電子お薬手帳) handbooks.

The card is the access key: the holder (or a guardian, while the holder is a minor) reads
with card and PIN. Clinics read only under the holder's recorded, revocable consent; a
registered emergency service may break the glass, which is logged and told to the holder
afterwards. Records are kept under the handbook's own number, never the My Number (vital
records lie outside the My Number Act's fields).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import polars as pl

from twin.clock import local_date
from twin.errors import Forbidden, NotFound, ValidationError
from twin.events import Event, EventLog
from twin.identity import Assurance, Identity
from twin.services._checks import check_identity, params_from_dict
from twin.services.vitals_consent import ConsentBook, ConsentChanged
from twin.services.vitals_guardians import ADULT_AGE

BOOKS = {
    "maternal": ("pregnancy_checkup", "infant_checkup", "vaccination"),
    "medication": ("prescription", "history", "allergy"),
}
Notify = Callable[[int, str, str, float], int]


class NotAGuardian(Forbidden):
    """A reader who is neither the holder nor a guardian of a minor holder."""

    code = "not_a_guardian"


class NoConsent(Forbidden):
    """A clinic read without an active consent (never given, expired or revoked)."""

    code = "no_consent"


@dataclass(frozen=True, slots=True)
class VitalsParams:
    """Which handbooks, what links a resident to them, break-glass, and the login session."""

    records: tuple[str, ...] = ("maternal", "medication")
    link_key: str = "card"
    break_glass: bool = True
    session_seconds: float = 1800.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "records", tuple(self.records))
        bad = [b for b in self.records if b not in BOOKS]
        if bad:
            raise ValidationError(
                f"vitals.records: unknown handbook {bad[0]!r}; known: {', '.join(BOOKS)}"
            )
        if self.link_key != "card":
            raise ValidationError(
                f"vitals.link_key must be 'card', got {self.link_key!r}: vital records lie outside the "
                "My Number Act's fields, so they are never keyed by the My Number"
            )
        if not self.session_seconds > 0:
            raise ValidationError("vitals.session_seconds must be > 0")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VitalsParams:
        """Parameters from a design table; unknown keys are errors."""
        return params_from_dict(cls, data, "vitals")

    @classmethod
    def from_design(cls, section: Any) -> VitalsParams:
        """Parameters from a design's `vitals` section (a My-Number link key is refused)."""
        return cls(
            records=tuple(section.records),
            link_key=section.link_key,
            break_glass=section.break_glass,
        )


@dataclass(frozen=True, slots=True)
class VitalRecorded(Event):
    """An entry was added to a handbook (by the health centre, a clinic or a pharmacy)."""

    handbook_no: int
    book: str
    entry: str
    source: str
    kind: ClassVar[str] = "vitals_recorded"


@dataclass(frozen=True, slots=True)
class VitalAccess(Event):
    """A read, or a refused read: who (`reader`), about whom, which book, on what basis."""

    subject: int
    book: str
    reader: str
    basis: str  # holder, guardian, consent, break_glass, refused
    rows: int
    detail: str
    kind: ClassVar[str] = "vitals_access"


class VitalRecords:
    """The handbooks of a city's residents, under handbook numbers, with their access rules."""

    def __init__(
        self,
        residents: pl.DataFrame,
        params: VitalsParams | None = None,
        events: EventLog | None = None,
        notify: Notify | None = None,
    ) -> None:
        frame = residents.select("resident_id", "birth_date").sort("resident_id")
        self._rid = frame["resident_id"].to_numpy().astype(np.int64)
        self._birth = frame["birth_date"].to_numpy().astype("datetime64[D]")
        self.params = params or VitalsParams()
        self.events = events if events is not None else EventLog()
        self.notify = notify
        self.consents = ConsentBook()
        self._handbook: dict[int, int] = {}  # resident -> handbook number (the records' own key)
        self._guardians: dict[int, set[int]] = {}
        self._clinics: set[str] = set()
        self._emergency: set[str] = set()
        self._cols: dict[str, list] = {
            "handbook_no": [],
            "book": [],
            "entry": [],
            "detail": [],
            "source": [],
            "at": [],
        }

    # --- who is who ----------------------------------------------------------------------------
    def _known(self, resident_id: int) -> int:
        """A resident of the city, or NotFound."""
        i = int(np.searchsorted(self._rid, resident_id))
        if i >= self._rid.size or self._rid[i] != resident_id:
            raise NotFound(f"resident {resident_id} is not a resident of this city")
        return i

    def age(self, resident_id: int, now: float) -> int:
        """A resident's age in whole years at `now` (Japan local date)."""
        born = self._birth[self._known(resident_id)].astype(dt.date)
        today = local_date(now)
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def handbook_no(self, resident_id: int) -> int:
        """The handbook number of a resident (issued on first use)."""
        self._known(resident_id)
        return self._handbook.setdefault(int(resident_id), 100_001 + len(self._handbook))

    def add_guardian(self, child: int, guardian: int) -> None:
        """Record a parent or other legal guardian (親権者) of a child."""
        self._known(child)
        self._known(guardian)
        if child == guardian:
            raise ValidationError("a resident is not their own guardian")
        self._guardians.setdefault(int(child), set()).add(int(guardian))

    def register_clinic(self, clinic: str) -> None:
        """Register a clinic or pharmacy that may read under consent."""
        self._clinics.add(clinic)

    def register_emergency_service(self, service: str) -> None:
        """Register an emergency service allowed to break the glass."""
        self._emergency.add(service)

    # --- writing -------------------------------------------------------------------------------
    def record(
        self, subject: int, book: str, entry: str, detail: str, source: str, now: float
    ) -> None:
        """Add an entry to a handbook (the keeper's write path: health centre, clinic, pharmacy)."""
        self._book(book)
        if entry not in BOOKS[book]:
            raise ValidationError(
                f"a {book} handbook holds {', '.join(BOOKS[book])}, not {entry!r}"
            )
        no = self.handbook_no(subject)
        for col, v in zip(self._cols, (no, book, entry, detail, source, float(now)), strict=True):
            self._cols[col].append(v)
        self.events.append(VitalRecorded(now, no, book, entry, source))

    def _book(self, book: str) -> None:
        """Refuse a handbook the design does not offer."""
        if book not in self.params.records:
            raise ValidationError(
                f"handbook {book!r} is not offered; offered: {', '.join(self.params.records)}"
            )

    def _entries(self, subject: int, book: str) -> pl.DataFrame:
        """One subject's entries in one handbook, oldest first."""
        no = self._handbook.get(int(subject), -1)
        frame = pl.DataFrame(
            self._cols,
            schema={
                "handbook_no": pl.Int64,
                "book": pl.Utf8,
                "entry": pl.Utf8,
                "detail": pl.Utf8,
                "source": pl.Utf8,
                "at": pl.Float64,
            },
        )
        return frame.filter((pl.col("handbook_no") == no) & (pl.col("book") == book)).drop(
            "handbook_no"
        )

    # --- reading -------------------------------------------------------------------------------
    def _deny(self, err: Forbidden, subject: int, book: str, reader: str, now: float) -> Forbidden:
        """Log a refused read; hand the error back."""
        self.events.append(VitalAccess(now, int(subject), book, reader, "refused", 0, str(err)))
        return err

    def _basis(self, identity: Identity, subject: int, now: float) -> str:
        """Holder or guardian-of-a-minor, or refuse."""
        if identity.resident_id == subject:
            return "holder"
        if identity.resident_id not in self._guardians.get(int(subject), set()):
            raise NotAGuardian(
                f"resident {identity.resident_id} is not a guardian of resident {subject}"
            )
        if self.age(subject, now) >= ADULT_AGE:
            raise NotAGuardian(
                f"resident {subject} is an adult; a parent reads their records only "
                "with their consent, not as a guardian"
            )
        return "guardian"

    def read(self, identity: Identity, subject: int, book: str, now: float) -> pl.DataFrame:
        """A handbook read with card and PIN by its holder, or by a guardian while the holder is a minor."""
        self._book(book)
        reader = f"resident:{identity.resident_id}"
        try:
            check_identity(
                identity,
                now,
                Assurance.HIGH,
                self.params.session_seconds,
                f"read the {book} handbook",
            )
            basis = self._basis(identity, subject, now)
        except Forbidden as e:
            raise self._deny(e, subject, book, reader, now) from None
        rows = self._entries(subject, book)
        self.events.append(VitalAccess(now, int(subject), book, reader, basis, rows.height, ""))
        return rows

    def grant_consent(
        self,
        identity: Identity,
        clinic: str,
        book: str,
        now: float,
        subject: int | None = None,
        until: float | None = None,
    ) -> int:
        """Let a registered clinic read a handbook (by the holder, or a guardian for a minor)."""
        self._book(book)
        subject = identity.resident_id if subject is None else int(subject)
        check_identity(identity, now, Assurance.HIGH, self.params.session_seconds, "give consent")
        try:
            self._basis(identity, subject, now)
        except Forbidden as e:
            raise self._deny(e, subject, book, f"resident:{identity.resident_id}", now) from None
        if clinic not in self._clinics:
            raise NotFound(f"clinic {clinic!r} is not registered")
        c = self.consents.grant(subject, clinic, book, identity.resident_id, now, until)
        self.events.append(
            ConsentChanged(now, c.consent_id, subject, clinic, book, identity.resident_id, True)
        )
        return c.consent_id

    def revoke_consent(self, identity: Identity, consent_id: int, now: float) -> None:
        """Withdraw a consent (by the holder, or a guardian for a minor); effective at once."""
        check_identity(identity, now, Assurance.HIGH, self.params.session_seconds, "revoke consent")
        c = self.consents.get(consent_id)
        self._basis(identity, c.subject, now)
        self.consents.revoke(consent_id, now)
        self.events.append(
            ConsentChanged(
                now, consent_id, c.subject, c.clinic, c.book, identity.resident_id, False
            )
        )

    def clinic_read(self, clinic: str, subject: int, book: str, now: float) -> pl.DataFrame:
        """A clinic's read: only under an active consent; refusals are logged."""
        self._book(book)
        reader = f"clinic:{clinic}"
        if clinic not in self._clinics:
            raise self._deny(
                Forbidden(f"clinic {clinic!r} is not registered"), subject, book, reader, now
            )
        consent = self.consents.active(int(subject), clinic, book, now)
        if consent is None:
            raise self._deny(
                NoConsent(
                    f"clinic {clinic} holds no active consent to read resident "
                    f"{subject}'s {book} handbook (never given, ended or revoked)"
                ),
                subject,
                book,
                reader,
                now,
            )
        rows = self._entries(subject, book)
        self.events.append(
            VitalAccess(
                now,
                int(subject),
                book,
                reader,
                "consent",
                rows.height,
                f"consent {consent.consent_id}",
            )
        )
        return rows

    def break_glass(self, service: str, subject: int, reason: str, now: float) -> pl.DataFrame:
        """An emergency read of the medication handbook without consent; logged and told to the holder."""
        reader = f"emergency:{service}"
        if not self.params.break_glass or service not in self._emergency:
            raise self._deny(
                Forbidden(
                    f"{service!r} is not a registered emergency service (or break-glass "
                    "is off); read with consent instead"
                ),
                subject,
                "medication",
                reader,
                now,
            )
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError("a break-glass read must state its reason")
        self._book("medication")
        rows = self._entries(subject, "medication")
        self.events.append(
            VitalAccess(now, int(subject), "medication", reader, "break_glass", rows.height, reason)
        )
        self._tell_after_break_glass(int(subject), service, reason, now)
        return rows

    def _tell_after_break_glass(self, subject: int, service: str, reason: str, now: float) -> None:
        """Notify the holder (and a minor's guardians) through the portal."""
        if self.notify is None:
            return
        body = (
            f"On an emergency, {service} read your medication handbook without consent "
            f"(reason: {reason}). You can see every access in your handbook's access log."
        )
        told = {subject} | (
            self._guardians.get(subject, set()) if self.age(subject, now) < ADULT_AGE else set()
        )
        for rid in sorted(told):
            self.notify(rid, "vitals:break_glass", body, now)

    def access_log(
        self, identity: Identity, now: float, subject: int | None = None
    ) -> pl.DataFrame:
        """Every read and refused read about a subject, for the holder (or a minor's guardian)."""
        subject = identity.resident_id if subject is None else int(subject)
        check_identity(
            identity, now, Assurance.HIGH, self.params.session_seconds, "read the access log"
        )
        self._basis(identity, subject, now)
        rows = [
            (e.at, e.book, e.reader, e.basis, e.detail)
            for e in self.events.of(VitalAccess)
            if e.subject == subject
        ]
        return pl.DataFrame(
            rows,
            orient="row",
            schema={
                "at": pl.Float64,
                "book": pl.Utf8,
                "reader": pl.Utf8,
                "basis": pl.Utf8,
                "detail": pl.Utf8,
            },
        )
