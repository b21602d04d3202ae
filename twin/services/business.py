"""Business procedures (事業者手続の簡略化): accounts keyed by the corporate number (法人番号).

A corporation proves it owns a corporate number with the registration credential the
national register sent it on designation (a stand-in for the notice of designation plus the
representative's electronic certificate). Basic, qualification and procurement data are
registered once and read by any division of the city; each read is logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from twin.errors import Conflict, Forbidden, NotFound, ValidationError
from twin.events import Event, EventLog
from twin.ids import is_valid_corporate_number

DIVISIONS = ("procurement", "economy", "environment", "health", "city_planning", "finance")
INDUSTRIES = tuple("ABCDEFGHIJKLMNOPQRST")  # JSIC major groups
GRADES = ("A", "B", "C", "D")  # bid-qualification grades, A the largest
SECTIONS: dict[str, dict[str, type | tuple]] = {
    "basic": {
        "name": str,
        "address": str,
        "representative": str,
        "industry": INDUSTRIES,
        "employees": int,
        "capital_yen": int,
        "ward": int,
    },
    "qualification": {"categories": tuple, "grade": GRADES, "valid_until": dt.date},
    "procurement": {"interests": tuple, "contracts_last_year": int},
}


class InvalidCorporateNumber(ValidationError):
    """A corporate number that is malformed or fails its check digit."""

    code = "invalid_corporate_number"


class NotTheOwner(Forbidden):
    """A registration credential that does not prove ownership of the corporate number given."""

    code = "not_the_owner"


def check_corporate_number(number: object) -> str:
    """The number if it is 13 digits with the right leading check digit, else InvalidCorporateNumber."""
    try:
        ok = is_valid_corporate_number(number)  # type: ignore[arg-type]
    except (TypeError, ValueError) as e:
        raise InvalidCorporateNumber(str(e)) from None
    if not ok:
        raise InvalidCorporateNumber(
            f"corporate number {number} fails its check digit (the first digit)"
        )
    return str(number)


@dataclass(frozen=True, slots=True)
class RegistrationCredential:
    """What the national register sent a corporation: its number and a secret token."""

    corporate_number: str
    token: str

    def __repr__(self) -> str:
        return f"RegistrationCredential({self.corporate_number}, token=…)"


class CorporateRegister:
    """The national register of corporate numbers (a stand-in for the NTA's): who exists, and their credentials."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret if secret is not None else os.urandom(32)
        self._names: dict[str, str] = {}

    def designate(self, corporate_number: str, name: str) -> RegistrationCredential:
        """Designate a corporation and send it its registration credential."""
        cn = check_corporate_number(corporate_number)
        self._names[cn] = name
        return RegistrationCredential(cn, self._token(cn))

    def _token(self, cn: str) -> str:
        """The keyed token of a corporate number."""
        return hmac.digest(self._secret, cn.encode(), hashlib.sha256).hex()

    def name(self, corporate_number: str) -> str:
        """The registered name of a designated corporation."""
        try:
            return self._names[corporate_number]
        except KeyError:
            raise NotFound(f"corporate number {corporate_number} is not designated") from None

    def proves(self, credential: RegistrationCredential) -> bool:
        """Whether a credential proves ownership of the number it names."""
        if credential.corporate_number not in self._names:
            return False
        return hmac.compare_digest(credential.token, self._token(credential.corporate_number))


@dataclass(frozen=True, slots=True)
class BusinessEvent(Event):
    """A business-account action: opened, registered, read, notice, renewed, or refused."""

    action: str
    corporate_number: str
    actor: str
    detail: str
    kind: ClassVar[str] = "business"


def _check_fields(section: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Fields of a section, each of the declared type or one of the declared choices."""
    if section not in SECTIONS:
        raise ValidationError(f"unknown section {section!r}; sections: {', '.join(SECTIONS)}")
    spec = SECTIONS[section]
    unknown = sorted(set(fields) - set(spec))
    if unknown:
        raise ValidationError(f"{section}: unknown field {unknown[0]!r}; fields: {', '.join(spec)}")
    missing = sorted(set(spec) - set(fields))
    if missing:
        raise ValidationError(f"{section}: missing field {missing[0]!r}")
    for name, kind in spec.items():
        v = fields[name]
        ok = (
            v in kind
            if isinstance(kind, tuple)
            else isinstance(v, kind) and not isinstance(v, bool)
        )
        if not ok or (isinstance(v, int) and not isinstance(v, bool) and v < 0):
            raise ValidationError(f"{section}.{name}: invalid value {v!r}")
    if section == "qualification" and not set(fields["categories"]) <= set(INDUSTRIES):
        raise ValidationError(
            f"qualification.categories must be JSIC groups {', '.join(INDUSTRIES)}"
        )
    return dict(fields)


class BusinessPortal:
    """The city's business accounts: register once, read by any division, notices pushed."""

    def __init__(self, register: CorporateRegister, events: EventLog | None = None) -> None:
        self.register = register
        self.events = events if events is not None else EventLog()
        self._accounts: dict[str, dict[str, Any]] = {}
        self._data: dict[tuple[str, str], dict[str, Any]] = {}
        self._inbox: dict[str, list[tuple[int, str, str, float]]] = {}

    def log(self, action: str, cn: str, actor: str, detail: str, now: float) -> None:
        """Record one action (refusals included)."""
        self.events.append(BusinessEvent(now, action, cn, actor, detail))

    def authenticate(self, credential: RegistrationCredential, now: float) -> str:
        """The corporate number a credential proves (refusals logged)."""
        if not isinstance(credential, RegistrationCredential):
            raise ValidationError(
                f"present a RegistrationCredential, got {type(credential).__name__}"
            )
        try:
            cn = check_corporate_number(credential.corporate_number)
        except InvalidCorporateNumber as e:
            self.log("refused", str(credential.corporate_number), "applicant", str(e), now)
            raise
        if not self.register.proves(credential):
            self.log("refused", cn, "applicant", "credential does not prove ownership", now)
            raise NotTheOwner(
                f"the credential does not prove ownership of corporate number {cn}; "
                "use the credential the national register sent that corporation"
            )
        return cn

    def open_account(self, credential: RegistrationCredential, contact: str, now: float) -> str:
        """Open the business account of the corporation the credential proves."""
        cn = self.authenticate(credential, now)
        if cn in self._accounts:
            raise Conflict(f"corporate number {cn} already has an account")
        self._accounts[cn] = {"contact": contact, "opened": float(now)}
        self._inbox[cn] = []
        self.log("opened", cn, "owner", self.register.name(cn), now)
        return cn

    def account_of(self, credential: RegistrationCredential, now: float) -> str:
        """The caller's account (authenticated)."""
        cn = self.authenticate(credential, now)
        if cn not in self._accounts:
            raise NotFound(f"corporate number {cn} has no account; open one first")
        return cn

    def register_data(
        self, credential: RegistrationCredential, section: str, fields: dict[str, Any], now: float
    ) -> None:
        """Register (or update) one section of data, once for every division."""
        cn = self.account_of(credential, now)
        self._data[(cn, section)] = {**_check_fields(section, fields), "updated_at": float(now)}
        self.log("registered", cn, "owner", section, now)

    def read(
        self, division: str, corporate_number: str, section: str, now: float
    ) -> dict[str, Any]:
        """A division's read of a business's registered data (logged)."""
        if division not in DIVISIONS:
            self.log("refused", str(corporate_number), division, "not a division of the city", now)
            raise Forbidden(
                f"{division!r} is not a division of the city; divisions: {', '.join(DIVISIONS)}"
            )
        cn = check_corporate_number(corporate_number)
        data = self._data.get((cn, section))
        if data is None:
            raise NotFound(f"corporate number {cn} has registered no {section} data")
        self.log("read", cn, division, section, now)
        return dict(data)

    def has(self, corporate_number: str, section: str) -> bool:
        """Whether a business has registered a section."""
        return (corporate_number, section) in self._data

    def section_data(self, corporate_number: str, section: str) -> dict[str, Any] | None:
        """A section as registered, for the city's own matching (not logged as a division read)."""
        data = self._data.get((corporate_number, section))
        return None if data is None else dict(data)

    def has_account(self, corporate_number: str) -> bool:
        """Whether a corporate number has an account."""
        return corporate_number in self._accounts

    def deliver(self, corporate_number: str, topic: str, body: str, now: float) -> int:
        """Put a message in a business's inbox; returns its number there."""
        box = self._inbox[corporate_number]
        box.append((len(box) + 1, topic, body, float(now)))
        return len(box)

    def inbox(self, credential: RegistrationCredential, now: float) -> pl.DataFrame:
        """The caller's own inbox."""
        cn = self.account_of(credential, now)
        return pl.DataFrame(
            self._inbox[cn],
            orient="row",
            schema={
                "message_id": pl.Int64,
                "topic": pl.Utf8,
                "body": pl.Utf8,
                "delivered_at": pl.Float64,
            },
        )

    def access_log(self, credential: RegistrationCredential, now: float) -> pl.DataFrame:
        """Which division read which section of the caller's data, and when."""
        cn = self.account_of(credential, now)
        rows = [
            (e.at, e.actor, e.detail)
            for e in self.events.of(BusinessEvent)
            if e.corporate_number == cn and e.action == "read"
        ]
        return pl.DataFrame(
            rows, orient="row", schema={"at": pl.Float64, "division": pl.Utf8, "section": pl.Utf8}
        )

    def accounts(self) -> list[str]:
        """Corporate numbers with an account."""
        return sorted(self._accounts)
