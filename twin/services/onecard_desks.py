"""One-card desks besides the library: seal registration, facility booking, city-hospital reception."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from twin.clock import DAY, HOUR, local_date
from twin.errors import Conflict, Forbidden, NotFound, ValidationError
from twin.events import Event, EventLog
from twin.identity import Assurance, Identity
from twin.services._checks import check_identity
from twin.services.onecard import Credential, OldCard, OneCard

COUNTER_SESSION = 900.0  # s: a counter's card-and-PIN or photo-ID check stays fresh this long


@dataclass(frozen=True, slots=True)
class DeskEvent(Event):
    """A desk action at a one-card app: `app`, `action`, who, and a detail."""

    app: str
    action: str
    resident_id: int
    detail: str
    kind: ClassVar[str] = "onecard_desk"


class SealRegistry:
    """Seal registration (印鑑登録): the card's seal app replaces the seal-registration card."""

    def __init__(self, onecard: OneCard, events: EventLog | None = None) -> None:
        self.onecard = onecard
        self.events = events if events is not None else onecard.events
        self._registered: set[int] = set()

    def register(self, identity: Identity, now: float, on_card: bool) -> OldCard | None:
        """Register a seal after an in-person check; on the card's app, or with an old seal card."""
        check_identity(identity, now, Assurance.HIGH, COUNTER_SESSION, "register a seal")
        rid = identity.resident_id
        if rid in self._registered:
            raise Conflict(f"resident {rid} already has a registered seal; abolish it first")
        if on_card:
            self.onecard.install(identity, "seal", now)
            old = None
        else:
            old = self.onecard.issue_old_card(rid, "seal", now)
        self._registered.add(rid)
        self.events.append(
            DeskEvent(now, "seal", "register", rid, "on card" if on_card else "old card")
        )
        return old

    def present(self, credential: Credential, now: float) -> int:
        """The registered resident a seal card (or card with the seal app) stands for, at issuance."""
        rid = self.onecard.holder("seal", credential, now)
        if rid not in self._registered:
            self.events.append(DeskEvent(now, "seal", "refused", rid, "no registered seal"))
            raise Forbidden(
                f"resident {rid} has no registered seal (abolished or never registered)"
            )
        self.events.append(DeskEvent(now, "seal", "present", rid, type(credential).__name__))
        return rid

    def abolish(self, identity: Identity, now: float) -> None:
        """Abolish a registration (廃止): the seal no longer certifies."""
        check_identity(
            identity, now, Assurance.HIGH, COUNTER_SESSION, "abolish a seal registration"
        )
        if identity.resident_id not in self._registered:
            raise NotFound(f"resident {identity.resident_id} has no registered seal")
        self._registered.discard(identity.resident_id)
        self.events.append(DeskEvent(now, "seal", "abolish", identity.resident_id, ""))


class FacilityBooking:
    """Public-facility booking (施設予約) by card tap or old card: hourly slots, a few at a time."""

    def __init__(
        self,
        onecard: OneCard,
        facility_ids: list[int],
        max_active: int = 4,
        horizon_days: int = 90,
        events: EventLog | None = None,
    ) -> None:
        if max_active < 1 or horizon_days < 1:
            raise ValidationError("max_active and horizon_days must be >= 1")
        self.onecard, self.facilities = onecard, set(int(f) for f in facility_ids)
        self.max_active, self.horizon = max_active, horizon_days * DAY
        self.events = events if events is not None else onecard.events
        self._slots: dict[tuple[int, float], int] = {}  # (facility, start) -> booking id
        self._bookings: dict[int, tuple[int, int, float]] = {}  # id -> (resident, facility, start)
        self._next_id = 0

    def book(self, credential: Credential, facility_id: int, start: float, now: float) -> int:
        """Book the hour starting at `start`; returns the booking id."""
        rid = self.onecard.holder("facility", credential, now)
        if facility_id not in self.facilities:
            raise NotFound(f"no bookable facility {facility_id}")
        if start % HOUR or not now < start <= now + self.horizon:
            raise ValidationError(
                f"a slot starts on the hour, after now and within {self.horizon / DAY:.0f} days"
            )
        if (facility_id, start) in self._slots:
            raise Conflict(f"facility {facility_id} is already booked at that hour")
        active = sum(1 for r, _, s in self._bookings.values() if r == rid and s > now)
        if active >= self.max_active:
            raise Forbidden(
                f"resident {rid} already has {active} upcoming bookings (limit {self.max_active})"
            )
        self._next_id += 1
        bid = self._next_id
        self._bookings[bid] = (rid, int(facility_id), float(start))
        self._slots[(int(facility_id), float(start))] = bid
        self.events.append(DeskEvent(now, "facility", "book", rid, f"{facility_id}@{start:.0f}"))
        return bid

    def cancel(self, credential: Credential, booking_id: int, now: float) -> None:
        """Cancel one's own upcoming booking."""
        rid = self.onecard.holder("facility", credential, now)
        b = self._bookings.get(booking_id)
        if b is None or b[0] != rid:
            raise NotFound(f"booking {booking_id} is not one of resident {rid}'s bookings")
        if b[2] <= now:
            raise Conflict(f"booking {booking_id} has already started")
        del self._bookings[booking_id], self._slots[(b[1], b[2])]
        self.events.append(DeskEvent(now, "facility", "cancel", rid, str(booking_id)))

    def bookings(self) -> pl.DataFrame:
        """Every booking held."""
        rows = [(b, *v) for b, v in sorted(self._bookings.items())]
        return pl.DataFrame(
            rows,
            schema={
                "booking_id": pl.Int64,
                "resident_id": pl.Int64,
                "facility_id": pl.Int64,
                "start": pl.Float64,
            },
            orient="row",
        )


class HospitalReception:
    """City-hospital reception (市立病院診察券): the card opens the patient record number (with PIN)."""

    def __init__(self, onecard: OneCard, events: EventLog | None = None) -> None:
        self.onecard = onecard
        self.events = events if events is not None else onecard.events
        self._patient: dict[int, int] = {}  # resident -> the hospital's own patient number
        self._tickets: dict[object, int] = {}  # local date -> tickets issued

    def register_patient(self, resident_id: int, now: float) -> int:
        """Open a patient record; returns the hospital's patient number (not the My Number)."""
        rid = int(resident_id)
        if rid not in self._patient:
            self._patient[rid] = 100_001 + len(self._patient)
            self.events.append(DeskEvent(now, "hospital", "register", rid, ""))
        return self._patient[rid]

    def check_in(self, credential: Credential, now: float) -> tuple[int, int]:
        """Check a patient in at the reception machine; returns (patient number, ticket of the day)."""
        rid = self.onecard.holder("hospital", credential, now)
        if rid not in self._patient:
            raise NotFound(
                f"resident {rid} has no patient record here; register at the first-visit desk"
            )
        day = local_date(now)
        self._tickets[day] = self._tickets.get(day, 0) + 1
        self.events.append(DeskEvent(now, "hospital", "check_in", rid, str(self._tickets[day])))
        return self._patient[rid], self._tickets[day]
