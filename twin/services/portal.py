"""Portal e-procedures (マイナポータル): e-mailbox, push notices, e-applications, e-payment, linkage log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
import polars as pl

from twin.errors import NotFound, ValidationError
from twin.events import Event, EventLog
from twin.identity import Assurance, Identity
from twin.services._checks import WeakIdentity, check_identity, params_from_dict
from twin.services.portal_push import TakeUp, TakeUpTracker, benefits_after, household_guardians

PORTAL_ORGAN = "portal"


@dataclass(frozen=True, slots=True)
class PortalParams:
    """Portal rules: the assurance a login needs and how long a login session lasts."""

    min_assurance: Assurance = Assurance.HIGH  # login with the JPKI user certificate and PIN
    session_seconds: float = 1800.0  # 30 min (assumption: a typical portal session timeout)

    def __post_init__(self) -> None:
        if not isinstance(self.min_assurance, Assurance):
            object.__setattr__(self, "min_assurance", Assurance[str(self.min_assurance).upper()])
        if not self.session_seconds > 0:
            raise ValidationError(f"session_seconds must be > 0, got {self.session_seconds!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PortalParams:
        """Parameters from a design table; unknown keys are errors."""
        return params_from_dict(cls, data, "portal")


@dataclass(frozen=True, slots=True)
class MessageDelivered(Event):
    """A message was put in a resident's e-mailbox (電子私書箱)."""

    message_id: int
    resident_id: int
    topic: str
    kind: ClassVar[str] = "portal_message_delivered"


@dataclass(frozen=True, slots=True)
class MessagesDelivered(Event):
    """A batch of messages on one topic went out (ids first_id … first_id + count - 1)."""

    topic: str
    count: int
    first_id: int
    kind: ClassVar[str] = "portal_messages_delivered"


@dataclass(frozen=True, slots=True)
class MailboxRead(Event):
    """A resident read their own mailbox."""

    resident_id: int
    messages: int
    kind: ClassVar[str] = "portal_mailbox_read"


@dataclass(frozen=True, slots=True)
class PortalRefused(Event):
    """The portal refused an action; `reason` says why."""

    resident_id: int
    action: str
    reason: str
    kind: ClassVar[str] = "portal_refused"


@dataclass(frozen=True, slots=True)
class FeePaidOnline(Event):
    """A fee was paid on the portal through the ledger (電子決済)."""

    resident_id: int
    reference: str
    fee_type: str
    amount: int
    posting_id: int
    replayed: bool
    kind: ClassVar[str] = "portal_fee_paid"


@dataclass(frozen=True, slots=True)
class LinkageLogRead(Event):
    """A resident read the record of linkage exchanges about them (情報提供等記録)."""

    resident_id: int
    rows: int
    kind: ClassVar[str] = "portal_linkage_log_read"


class Desk(Protocol):
    """What files an application (see linkage_applications.ApplicationDesk)."""

    def file(self, resident_id: int, application: str, now: float, channel: str) -> Any: ...


class FeeLedger(Protocol):
    """What takes a fee (twin.services.payments.Ledger)."""

    def pay_fee(
        self,
        key: str,
        resident_id: int,
        fee_type: str,
        amount: int,
        now: float,
        *,
        channel: str = ...,
        method: str = ...,
        site: int = ...,
    ) -> Any: ...


class Portal:
    """The resident's portal: mailbox, push notices, e-applications, payments and linkage log."""

    def __init__(
        self,
        params: PortalParams | None = None,
        events: EventLog | None = None,
        broker: Any = None,
    ) -> None:
        self.params = params or PortalParams()
        self.events = events if events is not None else EventLog()
        self.broker = broker
        self._resident: list[int] = []
        self._topic: list[str] = []
        self._body: list[str] = []
        self._at: list[float] = []
        self._read_at: list[float | None] = []
        self._box: dict[int, list[int]] = {}
        self.take_ups = TakeUpTracker()

    # --- e-mailbox -------------------------------------------------------------------------
    def deliver(self, resident_id: int, topic: str, body: str, now: float) -> int:
        """Put a message in a resident's mailbox; returns its message id."""
        mid = self._store(int(resident_id), topic, body, now)
        self.events.append(MessageDelivered(now, mid, int(resident_id), topic))
        return mid

    def deliver_many(
        self, resident_ids: np.ndarray, topic: str, body: str, now: float
    ) -> np.ndarray:
        """Put the same message in many mailboxes; returns their message ids in order."""
        ids = np.asarray(resident_ids, dtype=np.int64)
        out = np.fromiter((self._store(int(r), topic, body, now) for r in ids), np.int64, ids.size)
        if ids.size:
            self.events.append(MessagesDelivered(now, topic, int(ids.size), int(out[0])))
        return out

    def _store(self, resident_id: int, topic: str, body: str, now: float) -> int:
        """Append one message and index it by resident."""
        if not topic or not isinstance(topic, str) or not isinstance(body, str):
            raise ValidationError(
                f"a message needs a non-empty str topic and a str body, got {topic!r}"
            )
        if resident_id < 0:
            raise ValidationError(f"resident id must be >= 0, got {resident_id}")
        self._resident.append(resident_id)
        self._topic.append(topic)
        self._body.append(body)
        self._at.append(float(now))
        self._read_at.append(None)
        mid = len(self._resident)
        self._box.setdefault(resident_id, []).append(mid)
        return mid

    def login(
        self, identity: Identity, now: float, action: str, resident_id: int | None = None
    ) -> int:
        """The resident a valid login may act for; refusals are logged and raised."""
        target = identity.resident_id if resident_id is None else int(resident_id)
        try:
            check_identity(
                identity, now, self.params.min_assurance, self.params.session_seconds, action
            )
            if target != identity.resident_id:
                raise WeakIdentity(
                    f"{action}: resident {identity.resident_id} may not act for resident {target}; "
                    "only the resident themself can open their portal"
                )
        except WeakIdentity as e:
            self.events.append(PortalRefused(now, int(identity.resident_id), action, str(e)))
            raise
        return target

    def mailbox(
        self,
        identity: Identity,
        now: float,
        resident_id: int | None = None,
        unread_only: bool = False,
    ) -> pl.DataFrame:
        """The messages in the caller's own mailbox, oldest first (another's mailbox is refused)."""
        rid = self.login(identity, now, "read mailbox", resident_id)
        mids = [
            m for m in self._box.get(rid, []) if not unread_only or self._read_at[m - 1] is None
        ]
        self.events.append(MailboxRead(now, rid, len(mids)))
        return pl.DataFrame(
            {
                "message_id": mids,
                "topic": [self._topic[m - 1] for m in mids],
                "body": [self._body[m - 1] for m in mids],
                "delivered_at": [self._at[m - 1] for m in mids],
                "read_at": [self._read_at[m - 1] for m in mids],
            },
            schema={
                "message_id": pl.Int64,
                "topic": pl.Utf8,
                "body": pl.Utf8,
                "delivered_at": pl.Float64,
                "read_at": pl.Float64,
            },
        )

    def mark_read(self, identity: Identity, message_id: int, now: float) -> None:
        """Mark one of the caller's messages read (another's message is not found)."""
        rid = self.login(identity, now, "mark message read")
        if not 1 <= message_id <= len(self._resident) or self._resident[message_id - 1] != rid:
            raise NotFound(f"message {message_id} is not in resident {rid}'s mailbox")
        if self._read_at[message_id - 1] is None:
            self._read_at[message_id - 1] = float(now)

    def holds(self, resident_id: int, message_id: int) -> bool:
        """Whether message `message_id` is in resident `resident_id`'s mailbox."""
        return 1 <= message_id <= len(self._resident) and self._resident[message_id - 1] == int(resident_id)

    def is_read(self, message_id: int) -> bool:
        """Whether a message (that exists) was marked read."""
        return self._read_at[message_id - 1] is not None

    def unread_count(self, resident_id: int) -> int:
        """How many unread messages wait for a resident (a count, no content)."""
        return sum(1 for m in self._box.get(int(resident_id), []) if self._read_at[m - 1] is None)

    def messages_frame(self) -> pl.DataFrame:
        """Every message's metadata (no bodies), for scenarios and dashboards."""
        return pl.DataFrame(
            {
                "message_id": np.arange(1, len(self._resident) + 1, dtype=np.int64),
                "resident_id": np.asarray(self._resident, dtype=np.int64),
                "topic": self._topic,
                "delivered_at": np.asarray(self._at, dtype=np.float64),
                "read": [r is not None for r in self._read_at],
            },
            schema={
                "message_id": pl.Int64,
                "resident_id": pl.Int64,
                "topic": pl.Utf8,
                "delivered_at": pl.Float64,
                "read": pl.Boolean,
            },
        )

    # --- push notices and take-up ------------------------------------------------------------
    def notify_eligible(
        self, resident_ids: np.ndarray, benefit: str, now: float, push: bool = True
    ) -> int:
        """Record residents newly eligible for a benefit; with `push`, tell them (プッシュ型)."""
        ids = np.unique(np.asarray(resident_ids, dtype=np.int64))
        fresh = self.take_ups.mark_eligible(ids, benefit, now, push)
        if push and fresh.size:
            body = (
                f"You may now be eligible for {benefit.replace('_', ' ')}. "
                "You can apply on the portal; documents the city can look up need not be attached."
            )
            self.deliver_many(fresh, f"eligibility:{benefit}", body, now)
        return int(fresh.size)

    def on_life_event(
        self,
        residents: pl.DataFrame,
        event: str,
        subject_ids: np.ndarray,
        now: float,
        push: bool = True,
    ) -> dict[str, np.ndarray]:
        """Make the households of a life event (a birth …) eligible for its benefits; push notices."""
        benefits = benefits_after(event)
        applicants = household_guardians(residents, subject_ids)
        for benefit in benefits:
            self.notify_eligible(applicants, benefit, now, push)
        return {b: applicants for b in benefits}

    def take_up(self, benefit: str) -> TakeUp:
        """Eligible residents who applied, split by whether they were pushed a notice."""
        return self.take_ups.summary(benefit)

    # --- e-applications ------------------------------------------------------------------------
    def apply(
        self,
        identity: Identity,
        application: str,
        now: float,
        desk: Desk,
    ) -> Any:
        """File an e-application (電子申請); the desk fetches what linkage covers."""
        rid = self.login(identity, now, f"apply for {application}")
        receipt = desk.file(rid, application, now, "portal")
        self.take_ups.mark_applied(rid, application, now)
        return receipt

    def record_counter_application(self, resident_id: int, application: str, now: float) -> None:
        """Count an application filed at a counter toward take-up (no portal login)."""
        self.take_ups.mark_applied(int(resident_id), application, now)

    # --- e-payment ------------------------------------------------------------------------------
    def pay(
        self,
        identity: Identity,
        reference: str,
        fee_type: str,
        amount: int,
        now: float,
        ledger: FeeLedger,
        method: str = "card",
    ) -> Any:
        """Pay a fee online; paying the same reference again replays the first receipt."""
        rid = self.login(identity, now, f"pay {fee_type}")
        if not isinstance(reference, str) or not reference or not reference.isprintable():
            raise ValidationError(f"a payment needs a printable reference, got {reference!r}")
        receipt = ledger.pay_fee(
            f"portal:{rid}:{reference}", rid, fee_type, amount, now, channel="portal", method=method
        )
        self.events.append(
            FeePaidOnline(
                now,
                rid,
                reference,
                fee_type,
                int(receipt.amount),
                int(receipt.posting_id),
                bool(receipt.replayed),
            )
        )
        return receipt

    # --- linkage log ---------------------------------------------------------------------------
    def linkage_log(
        self, identity: Identity, now: float, resident_id: int | None = None
    ) -> pl.DataFrame:
        """The linkage exchanges about the caller: who asked whom, when, for which items."""
        rid = self.login(identity, now, "read linkage log", resident_id)
        if self.broker is None:
            raise NotFound("this portal is not connected to a linkage network")
        code = self.broker.issue_codes(PORTAL_ORGAN, np.array([rid]))[0]
        frame = self.broker.disclosure(PORTAL_ORGAN, code, now)
        self.events.append(LinkageLogRead(now, rid, frame.height))
        return frame
