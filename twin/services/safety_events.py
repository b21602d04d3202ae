"""Typed events of safety confirmation (安否確認): shelters, readers, look-ups, head counts, child watch.

Accepted shelter taps go to the columnar tap register (`ShelterNetwork.taps`), not here, so
380,000 check-ins stay cheap; everything else, refusals above all, is a typed event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from twin.events import Event


@dataclass(frozen=True, slots=True)
class ReaderRegistered(Event):
    """A reader was registered to a facility (shelter, school or cram school)."""

    reader_id: int
    facility_id: int
    kind: ClassVar[str] = "reader_registered"


@dataclass(frozen=True, slots=True)
class ReaderStatusChanged(Event):
    """A reader lost or regained the network."""

    reader_id: int
    online: bool
    kind: ClassVar[str] = "reader_status_changed"


@dataclass(frozen=True, slots=True)
class CheckInRefused(Event):
    """A tap, identity or synced row was refused; nothing was recorded for it."""

    reader_id: int
    serial: int
    reason: str
    kind: ClassVar[str] = "check_in_refused"


@dataclass(frozen=True, slots=True)
class OfflineBatchSynced(Event):
    """A reader's queued taps reached the server: how many applied, replayed, refused."""

    reader_id: int
    applied: int
    replayed: int
    refused: int
    kind: ClassVar[str] = "offline_batch_synced"


@dataclass(frozen=True, slots=True)
class SyncRowRejected(Event):
    """A synced row was malformed (no usable tap id, serial or time); the detail says what."""

    reader_id: int
    detail: str
    kind: ClassVar[str] = "sync_row_rejected"


@dataclass(frozen=True, slots=True)
class PaperFormsReconciled(Event):
    """Paper forms were transcribed into the shelter system."""

    entered: int
    unreadable: int
    conflicts: int
    kind: ClassVar[str] = "paper_forms_reconciled"


@dataclass(frozen=True, slots=True)
class FamilyLookup(Event):
    """A resident asked where someone is; allowed or refused, with the reason."""

    requester_id: int
    target_id: int
    allowed: bool
    reason: str
    kind: ClassVar[str] = "family_lookup"


@dataclass(frozen=True, slots=True)
class HeadcountReported(Event):
    """A shelter's head count reached the disaster HQ (災害対策本部)."""

    shelter_id: int
    count: int
    identified: int
    counted_at: float
    kind: ClassVar[str] = "headcount_reported"


@dataclass(frozen=True, slots=True)
class ChildEnrolled(Event):
    """A guardian consented to child watch for a child."""

    child_id: int
    guardian_id: int
    kind: ClassVar[str] = "child_enrolled"


@dataclass(frozen=True, slots=True)
class ConsentRefused(Event):
    """An enrolment or withdrawal was refused (not the guardian, too weak an identity, not a child)."""

    child_id: int
    guardian_id: int
    reason: str
    kind: ClassVar[str] = "consent_refused"


@dataclass(frozen=True, slots=True)
class ConsentWithdrawn(Event):
    """A guardian withdrew consent; the child's records were deleted."""

    child_id: int
    guardian_id: int
    deleted: int
    kind: ClassVar[str] = "consent_withdrawn"


@dataclass(frozen=True, slots=True)
class ChildTapRecorded(Event):
    """A consented child tapped a school or cram-school reader."""

    child_id: int
    reader_id: int
    facility_id: int
    kind: ClassVar[str] = "child_tap_recorded"


@dataclass(frozen=True, slots=True)
class ChildTapIgnored(Event):
    """A tap was not tracked (no consent, duplicate, unknown card); no resident is named."""

    reader_id: int
    reason: str
    kind: ClassVar[str] = "child_tap_ignored"


@dataclass(frozen=True, slots=True)
class GuardianNotified(Event):
    """A guardian got a child-watch notice; `late` if past the deadline."""

    child_id: int
    guardian_id: int
    message_id: int
    tapped_at: float
    late: bool
    kind: ClassVar[str] = "guardian_notified"


@dataclass(frozen=True, slots=True)
class NotificationFailed(Event):
    """Delivering a child-watch notice failed; it stays pending for the next dispatch."""

    child_id: int
    guardian_id: int
    reason: str
    kind: ClassVar[str] = "notification_failed"


@dataclass(frozen=True, slots=True)
class ChildRecordsPurged(Event):
    """Child-watch records past the retention period were deleted."""

    deleted: int
    older_than: float
    kind: ClassVar[str] = "child_records_purged"
