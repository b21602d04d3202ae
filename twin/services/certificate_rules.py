"""Certificate rules: types, eligibility at the issuance server, fees, hours, refusals, events."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np
import polars as pl

from twin.errors import Conflict, Forbidden, TwinError, ValidationError
from twin.events import Event, EventLog
from twin.fast_init import fast_init
from twin.identity import Assurance, Identity
from twin.services.hours import Window, is_business_day, is_year_end
from twin.services.param_dicts import (
    from_dict,
    require_int,
    require_positive,
    require_rate,
    shared_fields,
)


@dataclass(frozen=True)
class CertificateType:
    """One certificate: its Japanese name and the population column that must be true to get it."""

    name: str
    name_ja: str
    requires: str | None  # population column, or None: any resident of the city
    family_register: bool = False  # kept by the family-register office; its own kiosk hours


CERTIFICATE_TYPES: dict[str, CertificateType] = {t.name: t for t in (
    CertificateType("residence_record", "住民票の写し", None),
    CertificateType("residence_record_items", "住民票記載事項証明書", None),
    CertificateType("seal_registration", "印鑑登録証明書", "seal_registered"),
    CertificateType("tax_certificate", "課税・所得証明書", "tax_record"),
    CertificateType("family_register", "戸籍証明書（全部・個人事項）", "family_register_here", True),
    CertificateType("family_register_attachment", "戸籍の附票の写し", "family_register_here", True),
)}
ELIGIBILITY_COLUMNS = ("seal_registered", "tax_record", "family_register_here")


class NotEligible(Forbidden):
    """The resident may not have this certificate (not a resident, no seal, no tax record …)."""

    code = "not_eligible"


class LowAssurance(Forbidden):
    """The identity is not strong enough (or too old) for this channel."""

    code = "low_assurance"


class ServiceClosed(Conflict):
    """Outside the opening hours for this channel and certificate."""

    code = "closed"


class KioskFault(TwinError):
    """The kiosk cannot serve right now (a fault, not the resident's doing)."""

    code = "kiosk_fault"
    status = 503


class NetworkDown(KioskFault):
    """The kiosk could not reach the city's issuance server."""

    code = "network_down"


class PaperOut(KioskFault):
    """The kiosk has no paper; it serves nobody until it is refilled."""

    code = "paper_out"


@dataclass(frozen=True)
class CertificateParams:
    """Fees, hours, service times and fault rates of kiosks and counters (scenarios drive these)."""

    kiosk_certificate_types: tuple[str, ...] = tuple(CERTIFICATE_TYPES)
    kiosk_fee_yen: int = 200  # FACTS.md: typically ¥200-300, often ¥50-150 below the counter
    counter_fee_yen: int = 300
    family_register_fee_yen: int = 450  # the national standard fee for a family-register certificate
    kiosk_open_hour: float = 6.5
    kiosk_close_hour: float = 23.0
    kiosk_closed_new_year: bool = True
    maintenance_days: tuple[dt.date, ...] = ()
    family_register_weekdays_only: bool = True  # at kiosks: weekdays 9:00-17:00 only
    family_register_open_hour: float = 9.0
    family_register_close_hour: float = 17.0
    counter_open_hour: float = 8.75
    counter_close_hour: float = 17.25
    counter_windows_per_ward: int = 4
    counter_min_assurance: int = int(Assurance.MEDIUM)
    kiosk_session_s: float = 300.0  # a card authentication older than this is refused
    kiosk_service_mean_s: float = 150.0  # assumption (unverified): menu, PIN, payment, printing
    counter_service_mean_s: float = 480.0  # assumption: 4 windows x 8 min ≈ 2 min per person ahead (Sakai guide)
    kiosk_p_network_down: float = 0.002  # assumption: per request, issuance server unreachable
    kiosk_p_paper_out: float = 0.001  # assumption: per print, the kiosk runs out of paper
    max_copies: int = 10

    def __post_init__(self) -> None:
        unknown = [t for t in self.kiosk_certificate_types if t not in CERTIFICATE_TYPES]
        if unknown:
            raise ValidationError(f"unknown certificate type(s) {unknown}; valid: {', '.join(CERTIFICATE_TYPES)}")
        object.__setattr__(self, "kiosk_certificate_types", tuple(self.kiosk_certificate_types))
        object.__setattr__(self, "maintenance_days", tuple(self.maintenance_days))
        for name in ("kiosk_fee_yen", "counter_fee_yen", "family_register_fee_yen"):
            require_int(name, getattr(self, name), 0, 100_000)
        require_int("counter_windows_per_ward", self.counter_windows_per_ward, 0, 100)
        require_int("counter_min_assurance", self.counter_min_assurance, int(Assurance.LOW), int(Assurance.HIGH))
        require_int("max_copies", self.max_copies, 1, 100)
        for name in ("kiosk_session_s", "kiosk_service_mean_s", "counter_service_mean_s"):
            require_positive(name, getattr(self, name))
        require_rate("kiosk_p_network_down", self.kiosk_p_network_down)
        require_rate("kiosk_p_paper_out", self.kiosk_p_paper_out)
        self.windows()  # validates the hours

    @classmethod
    def from_dict(cls, data: dict, where: str = "certificates") -> CertificateParams:
        """Build from a design section or widget values; an unknown key is an error naming it."""
        return from_dict(cls, data, where)

    @classmethod
    def from_design(cls, section: object) -> CertificateParams:
        """From a design's `certificates` section: every field the two share (hours, fees, windows …)."""
        return shared_fields(cls, section)

    def windows(self) -> dict[str, Window]:
        """The opening windows: kiosk, kiosk for family registers, counter."""
        return self._windows

    @cached_property
    def _windows(self) -> dict[str, Window]:
        maint = frozenset(self.maintenance_days)
        closed_ny = self.kiosk_closed_new_year

        def kiosk_day(d: dt.date) -> bool:
            return d not in maint and not (closed_ny and is_year_end(d))

        weekdays_only = self.family_register_weekdays_only  # not `self`: no cycle params -> window -> params

        def fr_day(d: dt.date) -> bool:
            return kiosk_day(d) and (is_business_day(d) if weekdays_only else True)

        fr_open, fr_close = ((self.family_register_open_hour, self.family_register_close_hour)
                             if self.family_register_weekdays_only else (self.kiosk_open_hour, self.kiosk_close_hour))
        return {
            "kiosk": Window("the kiosk service", self.kiosk_open_hour, self.kiosk_close_hour, kiosk_day,
                            "daily except 29 Dec-3 Jan" if closed_ny else "daily"),
            "kiosk_family_register": Window("family-register issuance at kiosks", fr_open, fr_close, fr_day,
                                            "on business days" if self.family_register_weekdays_only else "daily"),
            "counter": Window("the ward counter", self.counter_open_hour, self.counter_close_hour,
                              is_business_day, "on weekdays except holidays and 29 Dec-3 Jan"),
        }

    def fee(self, cert_type: str, channel: str) -> int:
        """The fee in yen for one copy at a channel ("kiosk" or "counter")."""
        if CERTIFICATE_TYPES[cert_type].family_register:
            return self.family_register_fee_yen
        return self.kiosk_fee_yen if channel == "kiosk" else self.counter_fee_yen


@fast_init
@dataclass(frozen=True, slots=True)
class Document:
    """An issued (or voided) certificate: its number and the audit record."""

    doc_no: str
    request_key: str
    resident_id: int
    cert_type: str
    copies: int
    channel: str
    site: int
    window: int
    fee_yen: int
    fee_key: str
    identity_method: str
    assurance: int
    status: str  # "issued" or "voided"
    reason: str
    at: float
    replayed: bool = field(default=False, compare=False)


@fast_init
@dataclass(frozen=True, slots=True)
class CertificateIssued(Event):
    """A certificate was issued (its fee committed with its audit record)."""

    doc_no: str
    resident_id: int
    cert_type: str
    channel: str
    site: int
    fee_yen: int
    kind: ClassVar[str] = "certificate_issued"


@dataclass(frozen=True, slots=True)
class CertificateRefused(Event):
    """A certificate request was refused; no fee was taken and no document recorded."""

    resident_id: int
    cert_type: str
    channel: str
    site: int
    reason: str
    detail: str
    kind: ClassVar[str] = "certificate_refused"


@dataclass(frozen=True, slots=True)
class CertificateVoided(Event):
    """A document failed to print: it was voided and its fee refunded."""

    doc_no: str
    resident_id: int
    reason: str
    kind: ClassVar[str] = "certificate_voided"


def type_of(cert_type: object) -> CertificateType:
    """The certificate type by name; an unknown name is a ValidationError listing the valid ones."""
    if cert_type not in CERTIFICATE_TYPES:
        raise ValidationError(f"unknown certificate type {cert_type!r}; valid: {', '.join(CERTIFICATE_TYPES)}")
    return CERTIFICATE_TYPES[cert_type]  # type: ignore[index]


class IssuanceServer:
    """The city's issuance server: who may have which certificate, as columns over resident ids."""

    def __init__(self, residents: pl.DataFrame) -> None:
        ids = residents["resident_id"].to_numpy()
        size = int(ids.max()) + 1 if ids.size else 0
        self._present = np.zeros(size, dtype=bool)
        self._present[ids] = True
        self._cols = {}
        for col in ELIGIBILITY_COLUMNS:
            arr = np.zeros(size, dtype=bool)
            arr[ids] = residents[col].to_numpy()
            self._cols[col] = arr

    def copy(self) -> IssuanceServer:
        """A server in this one's state that shares nothing (a per-process template's copy)."""
        new = object.__new__(IssuanceServer)
        new._present, new._cols = self._present.copy(), {k: v.copy() for k, v in self._cols.items()}
        return new

    def record_move_out(self, resident_ids: np.ndarray | list[int]) -> None:
        """Residents who left the city: no longer eligible for anything here."""
        ids = np.asarray(resident_ids, dtype=np.int64)
        self._present[ids[(ids >= 0) & (ids < self._present.size)]] = False

    def eligible(self, resident_ids: np.ndarray, cert_type: str) -> np.ndarray:
        """For many residents at once: may each have `cert_type`?"""
        t = type_of(cert_type)
        ids = np.asarray(resident_ids, dtype=np.int64)
        inside = (ids >= 0) & (ids < self._present.size)
        ok = np.zeros(ids.size, dtype=bool)
        ok[inside] = self._present[ids[inside]]
        if t.requires is not None:
            ok[inside] &= self._cols[t.requires][ids[inside]]
        return ok

    def eligible_rows(self, resident_ids: list[int], cert_types: list[str]) -> list[bool]:
        """For many (resident, certificate) rows at once: may each resident have that certificate?"""
        ok = [False] * len(resident_ids)
        rows_of: dict[str, list[int]] = defaultdict(list)  # each type's rows, from one pass
        for j, c in enumerate(cert_types):
            rows_of[c].append(j)
        for name, at in rows_of.items():
            for j, fine in zip(at, self.eligible(np.array([resident_ids[j] for j in at], dtype=np.int64),
                                                 name).tolist(), strict=True):
                ok[j] = fine
        return ok

    def check(self, resident_id: int, cert_type: str) -> None:
        """Raise NotEligible with the reason if the resident may not have `cert_type`."""
        t = type_of(cert_type)
        if not 0 <= resident_id < self._present.size or not self._present[resident_id]:
            raise NotEligible(f"resident {resident_id} is not a resident of this city; "
                              f"no {t.name} ({t.name_ja}) can be issued here")
        if t.requires is not None and not self._cols[t.requires][resident_id]:
            why = {"seal_registered": "has no registered seal",
                   "tax_record": "has no tax record in this city",
                   "family_register_here": "has no family register held in this city"}[t.requires]
            raise NotEligible(f"resident {resident_id} {why}; a {t.name} ({t.name_ja}) cannot be issued")


def refusal_event(identity: Identity | None, cert_type: object, channel: str, site: int,
                  err: TwinError, now: float) -> CertificateRefused:
    """The event that logs a refused request."""
    rid = identity.resident_id if isinstance(identity, Identity) else -1
    return CertificateRefused(now, rid, str(cert_type), channel, site, err.code, str(err))


def new_log(events: EventLog | None) -> EventLog:
    """The given event log, or a fresh one."""
    return events if events is not None else EventLog()
