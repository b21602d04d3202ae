"""Child watch (子どもの見守り): a tap at school or cram school notifies the guardian via the portal.

Only children whose guardian consented (an adult of the same household, identified with the
card's PIN or at a counter) are tracked; other taps leave no trace but an anonymous count.
Each tap queues a notice that must reach the guardian within `notify_within_s`; failed
deliveries stay pending and are retried by `dispatch`. Tap records and sent notices are
deleted after the retention period (`purge`) and when consent is withdrawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from twin.clock import DAY, to_jst
from twin.errors import Conflict, Forbidden, NotFound, TwinError
from twin.events import EventLog
from twin.identity import Identity
from twin.services.card_serials import SerialIndex, SerialResolver, finite_time, id_or_minus_one
from twin.services.procedures import require_assurance
from twin.services.safety_events import (
    ChildEnrolled,
    ChildRecordsPurged,
    ChildTapIgnored,
    ChildTapRecorded,
    ConsentRefused,
    ConsentWithdrawn,
    GuardianNotified,
    NotificationFailed,
    ReaderRegistered,
)
from twin.services.safety_validate import check_int, check_positive, params_from_dict
from twin.services.shelters import UnknownReader

Notify = Callable[[int, str, str, float], int]  # Portal.deliver(resident_id, topic, body, now) -> message id
WATCH_KINDS = ("school", "cram_school")
TOPIC = "child_watch"


class NotGuardian(Forbidden):
    """The person giving or withdrawing consent is not the child's guardian."""

    code = "not_guardian"


@dataclass(frozen=True)
class ChildWatchParams:
    """Child-watch settings (mirrors the design's `safety.child_watch_*` fields)."""

    notify_within_s: float = 60.0  # deadline from tap to the guardian's notice
    retention_days: int = 30
    repeat_window_s: float = 600.0  # a repeat tap at the same facility inside this is not re-notified
    guardian_min_age: int = 18
    child_max_age: int = 17

    def __post_init__(self) -> None:
        check_positive("notify_within_s", self.notify_within_s)
        check_int("retention_days", self.retention_days, 1, 3650)
        check_positive("repeat_window_s", self.repeat_window_s)
        check_int("guardian_min_age", self.guardian_min_age, 14, 120)
        check_int("child_max_age", self.child_max_age, 0, 17)

    @classmethod
    def from_dict(cls, data: dict) -> ChildWatchParams:
        """Build from a mapping; unknown keys are errors naming the key."""
        return params_from_dict(cls, data, "child watch params")


@dataclass(frozen=True, slots=True)
class PendingNotice:
    """A notice waiting to reach a guardian."""

    child_id: int
    guardian_id: int
    facility_id: int
    kind: str
    tapped_at: float
    deadline: float


class ChildWatch:
    """Readers at schools and cram schools, consents, tap records and guardian notices."""

    def __init__(self, facilities: pl.DataFrame, ages: np.ndarray, household_of: np.ndarray,
                 resolver: SerialResolver, notify: Notify, params: ChildWatchParams | None = None,
                 events: EventLog | None = None) -> None:
        self.params = params or ChildWatchParams()
        watch = facilities.filter(pl.col("kind").is_in(WATCH_KINDS))
        self.facility_kind = dict(zip(watch["facility_id"].to_list(), watch["kind"].to_list(), strict=True))
        self.ages = np.asarray(ages)
        self.household_of = np.asarray(household_of)
        self.resolver, self.notify = resolver, notify
        self.events = events if events is not None else EventLog()
        self.readers: dict[int, int] = {}  # reader id -> facility id
        self.guardian_of: dict[int, int] = {}  # consented child -> guardian
        self.records: dict[str, list] = {"at": [], "child_id": [], "facility_id": [], "reader_id": []}
        self.sent: dict[str, list] = {"tapped_at": [], "sent_at": [], "child_id": [], "guardian_id": [],
                                      "message_id": []}
        self.pending: list[PendingNotice] = []
        self._last: dict[tuple[int, int], float] = {}  # (child, facility) -> last notified tap
        self.ignored = 0

    @classmethod
    def from_city(cls, city, notify: Notify, resolver: SerialResolver | None = None,
                  params: ChildWatchParams | None = None, events: EventLog | None = None) -> ChildWatch:
        """Child watch over a city's schools and cram schools."""
        r = city.residents
        return cls(city.facilities, r["age"].to_numpy(), r["household_id"].to_numpy(),
                   resolver or SerialIndex.from_residents(r), notify, params, events)

    def register_reader(self, facility_id: int, now: float) -> int:
        """Register a reader at a school or cram school; returns its reader id."""
        if int(facility_id) not in self.facility_kind:
            raise NotFound(f"facility {facility_id} is not a school or cram school of this city")
        rid = len(self.readers) + 1
        self.readers[rid] = int(facility_id)
        self.events.append(ReaderRegistered(finite_time(now), rid, int(facility_id)))
        return rid

    def _resident(self, resident_id: int, what: str) -> int:
        if not isinstance(resident_id, (int, np.integer)) or not 0 <= resident_id < self.ages.size:
            raise NotFound(f"{what} {resident_id!r} is not a resident of this city")
        return int(resident_id)

    def _check_guardian(self, child_id: int, guardian: Identity) -> tuple[int, int]:
        """The (child, guardian) pair if the guardian may consent for the child."""
        require_assurance(guardian, "child_watch_consent")
        child = self._resident(child_id, "child")
        g = self._resident(guardian.resident_id, "guardian")
        if self.ages[child] > self.params.child_max_age:
            raise Forbidden(f"resident {child} is {int(self.ages[child])}; child watch is for children up "
                            f"to {self.params.child_max_age}")
        if self.household_of[g] != self.household_of[child] or self.ages[g] < self.params.guardian_min_age:
            raise NotGuardian(f"resident {g} is not an adult of child {child}'s household, so cannot "
                              "consent for the child (the guardian registers at a city counter)")
        return child, g

    def _checked(self, child_id: int, guardian: Identity, t: float) -> tuple[int, int]:
        """`_check_guardian`, logging a refusal before raising it."""
        try:
            return self._check_guardian(child_id, guardian)
        except TwinError as e:
            self.events.append(ConsentRefused(t, id_or_minus_one(child_id), id_or_minus_one(guardian.resident_id),
                                              e.code))
            raise

    def enrol(self, child_id: int, guardian: Identity, now: float) -> None:
        """Record the guardian's consent: from now on the child's taps are tracked and notified."""
        t = finite_time(now)
        child, g = self._checked(child_id, guardian, t)
        if self.guardian_of.get(child, g) != g:
            self.events.append(ConsentRefused(t, child, g, Conflict.code))
            raise Conflict(f"child {child} is already enrolled by guardian {self.guardian_of[child]}; "
                           "that guardian must withdraw first")
        self.guardian_of[child] = g
        self.events.append(ChildEnrolled(t, child, g))

    def withdraw(self, child_id: int, guardian: Identity, now: float) -> int:
        """Withdraw consent: tracking stops and the child's records and notices are deleted."""
        t = finite_time(now)
        child, g = self._checked(child_id, guardian, t)
        if self.guardian_of.get(child) != g:
            self.events.append(ConsentRefused(t, child, g, NotGuardian.code))
            raise NotGuardian(f"child {child} is not enrolled by resident {g}")
        del self.guardian_of[child]
        deleted = self._delete(lambda cols, i: cols["child_id"][i] == child)
        self.pending = [p for p in self.pending if p.child_id != child]
        self._last = {k: v for k, v in self._last.items() if k[0] != child}
        self.events.append(ConsentWithdrawn(t, child, g, deleted))
        return deleted

    def tap(self, reader_id: int, serial: int, now: float) -> bool:
        """A card tapped at a school or cram school; True if it was recorded and a notice queued."""
        t = finite_time(now)
        fac = self.readers.get(reader_id)
        if fac is None:
            self.events.append(ChildTapIgnored(t, int(reader_id), UnknownReader.code))
            raise UnknownReader(f"reader {reader_id!r} is not registered at any school or cram school; "
                                "the tap was not recorded")
        try:
            child = self.resolver.resident_of(serial, t)
        except TwinError as e:
            self.events.append(ChildTapIgnored(t, reader_id, e.code))
            raise
        g = self.guardian_of.get(child)
        last = self._last.get((child, fac), -np.inf)
        if g is None or t - last < self.params.repeat_window_s:
            self.ignored += 1
            self.events.append(ChildTapIgnored(t, reader_id, "not_enrolled" if g is None else "repeat_tap"))
            return False
        self._last[(child, fac)] = t
        for col, v in zip(self.records, (t, child, fac, reader_id), strict=True):
            self.records[col].append(v)
        self.events.append(ChildTapRecorded(t, child, reader_id, fac))
        self.pending.append(PendingNotice(child, g, fac, self.facility_kind[fac], t, t + self.params.notify_within_s))
        self.dispatch(t)
        return True

    def dispatch(self, now: float) -> int:
        """Try to deliver every pending notice; failures stay pending. Returns how many were sent."""
        t = finite_time(now)
        still, sent = [], 0
        for p in self.pending:
            place = "school" if p.kind == "school" else "cram school"
            body = (f"Your child (resident {p.child_id}) tapped in at {place} {p.facility_id} at "
                    f"{to_jst(p.tapped_at):%H:%M} JST.")
            try:
                mid = int(self.notify(p.guardian_id, TOPIC, body, t))
            except Exception as e:  # any delivery failure: keep it and retry on the next dispatch
                self.events.append(NotificationFailed(t, p.child_id, p.guardian_id, f"{type(e).__name__}: {e}"))
                still.append(p)
                continue
            for col, v in zip(self.sent, (p.tapped_at, t, p.child_id, p.guardian_id, mid), strict=True):
                self.sent[col].append(v)
            self.events.append(GuardianNotified(t, p.child_id, p.guardian_id, mid, p.tapped_at, t > p.deadline))
            sent += 1
        self.pending = still
        return sent

    def overdue(self, now: float) -> list[PendingNotice]:
        """Pending notices already past their deadline."""
        t = finite_time(now)
        return [p for p in self.pending if p.deadline < t]

    def _delete(self, doomed: Callable[[dict[str, list], int], bool]) -> int:
        """Drop tap records and sent notices matching `doomed`; returns how many rows went."""
        gone = 0
        for cols in (self.records, self.sent):
            keep = [i for i in range(len(next(iter(cols.values())))) if not doomed(cols, i)]
            gone += len(next(iter(cols.values()))) - len(keep)
            for k in cols:
                cols[k] = [cols[k][i] for i in keep]
        return gone

    def purge(self, now: float) -> int:
        """Delete tap records and sent notices older than the retention period; returns how many."""
        t = finite_time(now)
        cutoff = t - self.params.retention_days * DAY
        deleted = self._delete(lambda cols, i: cols["at" if "at" in cols else "tapped_at"][i] < cutoff)
        self._last = {k: v for k, v in self._last.items() if v >= cutoff}
        self.events.append(ChildRecordsPurged(t, deleted, cutoff))
        return deleted

    def records_frame(self) -> pl.DataFrame:
        """The tap records held: at, child_id, facility_id, reader_id."""
        return pl.DataFrame(self.records, schema={"at": pl.Float64, "child_id": pl.Int64,
                                                  "facility_id": pl.Int64, "reader_id": pl.Int64})

    def notices_frame(self) -> pl.DataFrame:
        """Notices sent: tapped_at, sent_at, child_id, guardian_id, message_id, delay_s, on_time."""
        df = pl.DataFrame(self.sent, schema={"tapped_at": pl.Float64, "sent_at": pl.Float64, "child_id": pl.Int64,
                                             "guardian_id": pl.Int64, "message_id": pl.Int64})
        delay = pl.col("sent_at") - pl.col("tapped_at")
        return df.with_columns(delay.alias("delay_s"), (delay <= self.params.notify_within_s).alias("on_time"))
