"""Events of the trust core: card lifecycle, PIN counters, certificates, reader decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from twin.events import Event, EventLog
from twin.fast_init import fast_init
from twin.trust_errors import TrustError


@dataclass(frozen=True, slots=True)
class Refused(Event):
    """Any refusal by a card, the authority or a reader; `reason` is the error code."""

    serial: int
    reason: str
    where: str
    detail: str
    kind: ClassVar[str] = "refused"


@dataclass(frozen=True, slots=True)
class PinRejected(Event):
    """A wrong PIN or password entered; `tries_left` after this entry."""

    serial: int
    app: str
    tries_left: int
    kind: ClassVar[str] = "pin_rejected"


@dataclass(frozen=True, slots=True)
class PinLockedEvent(Event):
    """An app's retry counter reached zero."""

    serial: int
    app: str
    kind: ClassVar[str] = "pin_locked"


@dataclass(frozen=True, slots=True)
class PinUnlocked(Event):
    """A counter clerk reset an app's retry counter (and possibly the PIN)."""

    serial: int
    app: str
    new_pin_set: bool
    kind: ClassVar[str] = "pin_unlocked"


@dataclass(frozen=True, slots=True)
class CardLifecycle(Event):
    """A card lifecycle step: applied, issued, suspended, found, reissued, renewed, expired, retired."""

    serial: int
    resident_id: int
    step: str
    detail: str = ""
    kind: ClassVar[str] = "card_lifecycle"


@dataclass(frozen=True, slots=True)
class CertificateIssued(Event):
    """The authority issued a certificate for a card."""

    serial: int
    cert_serial: int
    purpose: str
    not_after: float
    kind: ClassVar[str] = "certificate_issued"


@dataclass(frozen=True, slots=True)
class CertificateRevokedEvent(Event):
    """The authority revoked a certificate."""

    serial: int
    cert_serial: int
    purpose: str
    reason: str
    kind: ClassVar[str] = "certificate_revoked"


@dataclass(frozen=True, slots=True)
class RevocationListPublished(Event):
    """The authority published revocation list number `number`."""

    number: int
    entries: int
    next_update: float
    kind: ClassVar[str] = "revocation_list_published"


@dataclass(frozen=True, slots=True)
class RevokedAcceptedInWindow(Event):
    """A verifier accepted a card revoked after the list it relied on was published."""

    serial: int
    cert_serial: int
    revoked_at: float
    list_published_at: float
    where: str
    path: str  # "list" (live reader with a cached list) or "offline" (found at sync)
    kind: ClassVar[str] = "revoked_accepted_in_window"


@fast_init
@dataclass(frozen=True, slots=True)
class Authenticated(Event):
    """A reader established an identity from a card."""

    serial: int
    resident_id: int
    method: str
    where: str
    offline: bool
    kind: ClassVar[str] = "authenticated"


@dataclass(frozen=True, slots=True)
class AppChanged(Event):
    """A free-area app installed on or removed from a card."""

    serial: int
    app: str
    installed: bool
    kind: ClassVar[str] = "app_changed"


@dataclass(frozen=True, slots=True)
class TapsSynced(Event):
    """An offline reader delivered its queued taps after reconnecting."""

    where: str
    delivered: int
    remaining: int
    kind: ClassVar[str] = "taps_synced"


def refuse(log: EventLog, err: TrustError, serial: int, where: str, now: float) -> TrustError:
    """Record a refusal event for `err` and return it, so callers write `raise refuse(...)`."""
    log.append(Refused(now, int(serial), err.code, where, str(err)))
    return err
