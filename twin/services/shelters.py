"""Shelters (避難所): capacity, readers, card-tap check-in and check-out, redirects when full.

`ShelterNetwork` holds every shelter of a city as columns. Two counts per shelter: the desk
count (`occ`: people the desk let in by any channel, used for capacity) and the server count
(`reg`: what the city's shelter system knows, identified residents plus `anon`, the paper forms
and people it cannot name yet). A resident's record is `where[resident]` (a shelter index, -1
for none) since `since[resident]`. Per tap the work is O(1); `check_in_many` takes whole
batches as columns (see `shelter_batch`); `occupancy()` shows the counts by facility id.
"""

from __future__ import annotations

from array import array

import numpy as np
import polars as pl

from twin.errors import NotFound, TwinError, ValidationError
from twin.events import EventLog
from twin.identity import Identity
from twin.services import shelter_batch, shelter_offline, shelter_paper, shelter_parts, shelter_run
from twin.services.card_serials import SerialIndex, SerialResolver, finite_time
from twin.services.procedures import require_assurance
from twin.services.safety_events import CheckInRefused
from twin.services.shelter_outcomes import (
    CHECKED_OUT,
    FULL,
    IN,
    MOVED,
    NO_ROOM,
    NOT_CHECKED_IN,
    OUTCOMES,
    REFUSED,
    Outcome,
    step_in,
)
from twin.services.shelter_readers import ShelterReaders
from twin.services.shelter_register import TapRegister
from twin.services.shelter_types import ReaderOffline, ShelterParams, TapResult, UnknownReader
from twin.services.shelter_views import ShelterViews

__all__ = ["ReaderOffline", "ShelterNetwork", "ShelterParams", "TapResult", "UnknownReader"]


class ShelterNetwork(ShelterReaders, ShelterViews):
    """Every shelter of a city: capacity, readers, the desk and server counts, resident records."""

    def __init__(self, shelters: pl.DataFrame, n_residents: int, resolver: SerialResolver,
                 params: ShelterParams | None = None, events: EventLog | None = None) -> None:
        self.params = params or ShelterParams()
        self.resolver = resolver
        self.events = events if events is not None else EventLog()
        if shelters.height == 0:
            raise ValidationError("a shelter network needs at least one shelter")
        self.facility_ids = shelters["facility_id"].to_numpy().astype(np.int64)
        self.taps = TapRegister(self.facility_ids)
        self._fids: list[int] = self.facility_ids.tolist()
        self._index = {f: i for i, f in enumerate(self._fids)}
        self._xy = np.column_stack([shelters["x_km"].to_numpy(), shelters["y_km"].to_numpy()])
        cap = shelters["capacity"].to_numpy().astype(np.int64)
        if self.params.capacity_per_shelter:
            cap = np.full(cap.size, self.params.capacity_per_shelter, dtype=np.int64)
        # typed arrays (list-speed indexing from Python; compiled code writes them in place through
        # `np.frombuffer` views: `shelter_run`); they never change size
        self.cap = array("q", cap.tolist())
        self.occ = array("q", bytes(8 * cap.size))  # desk counts
        self.reg = array("q", bytes(8 * cap.size))  # server counts (identified + anonymous)
        self.anon = array("q", bytes(8 * cap.size))  # anonymous part of reg
        self.staff: list[int] = [self.params.paper_form_staff_per_shelter] * cap.size  # paper-desk staff
        self.where = np.full(int(n_residents), -1, dtype=np.int32)  # shelter index per resident
        self.since = np.full(int(n_residents), np.nan)
        self.readers: dict[int, int] = {}  # reader id -> shelter index
        self.online: dict[int, bool] = {}
        self.reader_epoch = 0  # counts changes to `readers` and `online` (`shelter_run` keeps a table)
        self.queues: dict[int, shelter_offline.TapQueue] = {}
        self.applied: dict[int, tuple[int, float]] = {}  # offline tap id -> (serial, at)
        self.reader_taps: dict[str, tuple[int, int, float]] = {}  # card-reader tap id -> (resident, serial, at)
        self.paper = shelter_paper.PaperForms()
        self._neighbours: dict[int, list[int]] = {}

    @classmethod
    def from_city(cls, city, resolver: SerialResolver | None = None, params: ShelterParams | None = None,
                  now: float = 0.0, events: EventLog | None = None) -> ShelterNetwork:
        """The city's shelters with `readers_per_shelter` readers each; serials resolved by `resolver`
        (default: a `SerialIndex` of the city's card holders)."""
        shelters = city.facilities.filter(pl.col("kind") == "shelter")
        net = cls(shelters, city.residents.height, resolver or SerialIndex.from_residents(city.residents),
                  params, events)
        for fid in net.facility_ids.tolist():
            for _ in range(net.params.readers_per_shelter):
                net.register_reader(fid, now)
        return net

    # ---- shelters (readers: `shelter_readers`; views: `shelter_views`) ------------------------
    @property
    def shelter_count(self) -> int:
        """How many shelters the network has."""
        return len(self.cap)

    def shelter_index(self, shelter_id: int) -> int:
        """The internal index of facility `shelter_id`; other facilities are an error."""
        try:
            return self._index[int(shelter_id)]
        except (KeyError, TypeError, ValueError):
            raise NotFound(f"facility {shelter_id!r} is not a shelter of this city") from None

    # ---- check-in and check-out -------------------------------------------------------------
    def tap(self, reader_id: int, serial: int, now: float) -> TapResult:
        """A card tapped on a shelter reader: check the holder in (queued if the reader is offline)."""
        s = self.readers.get(reader_id)
        if s is None:
            s = self.reader_shelter(reader_id, now, serial)  # refuses and logs
        if not self.online[reader_id]:
            return shelter_offline.queue_tap(self, reader_id, s, serial, now)
        try:
            rid = self.resolver.resident_of(serial, now)
        except TwinError as e:
            self.refuse(now, reader_id, serial, e.code, s)
            raise
        return self.admit(rid, s, now, "card", reader_id)

    def check_in_identity(self, identity: Identity, shelter_id: int, now: float) -> TapResult:
        """Check in a person identified another way (reader, counter, face check) at a desk."""
        s = self.shelter_index(shelter_id)
        try:
            require_assurance(identity, "shelter_registration")
            self.resident_index(identity.resident_id)
        except TwinError as e:
            self.refuse(now, -1, -1, e.code, s, "identity")
            raise
        return self.admit(identity.resident_id, s, now, identity.method, -1)

    def check_in_many(self, reader_ids, serials, at) -> pl.DataFrame:
        """Many card taps in order, as columns; same outcomes as calling `tap` for each (never raises)."""
        return shelter_batch.check_in_many(self, reader_ids, serials, at)

    def check_in_columns(self, reader_ids, serials, at) -> dict[str, list]:
        """`check_in_many` answering with plain lists: outcome, reason, resident_id, shelter_id, redirect_to."""
        start = len(self.taps)
        shelter_batch.check_in_many(self, reader_ids, serials, at, frame=False)
        return self.taps.columns(start)

    def check_out(self, reader_id: int, serial: int, now: float) -> TapResult:
        """A card tapped to leave: the holder's record is cleared wherever it is (idempotent)."""
        s = self.reader_shelter(reader_id, now, serial)
        if not self.online[reader_id]:
            self.refuse(now, reader_id, serial, ReaderOffline.code, s)
            raise ReaderOffline(f"reader {reader_id} is offline; check-outs need the server (note the "
                                "departure on paper and enter it with check_out_identity later)")
        try:
            rid = self.resolver.resident_of(serial, now)
        except TwinError as e:
            self.refuse(now, reader_id, serial, e.code, s)
            raise
        return self.leave(rid, now, "card", reader_id)

    def check_out_identity(self, identity: Identity, now: float) -> TapResult:
        """Check out a person identified at a desk (any assurance above NONE)."""
        try:
            require_assurance(identity, "shelter_registration")
            self.resident_index(identity.resident_id)
        except TwinError as e:
            self.refuse(now, -1, -1, e.code, -1, "identity")
            raise
        return self.leave(identity.resident_id, now, identity.method, -1)

    def paper_form(self, shelter_id: int, resident_id: int, now: float, rng: np.random.Generator) -> TapResult:
        """A person fills a paper form at the desk (the path without a card); entered at reconciliation."""
        return shelter_paper.fill_form(self, self.shelter_index(shelter_id), resident_id, now, rng)

    def reconcile_paper(self, now: float, limit: int | None = None) -> shelter_paper.PaperReport:
        """Transcribe pending paper forms (oldest first, at most `limit`) into the shelter system."""
        return shelter_paper.reconcile(self, now, limit)

    # ---- state transitions (shared by every channel) -------------------------------------
    def resident_index(self, resident_id: int) -> int:
        """`resident_id` if it names a resident of this city, else NotFound."""
        if not isinstance(resident_id, (int, np.integer)) or not 0 <= resident_id < self.where.size:
            raise NotFound(f"resident {resident_id!r} is not a resident of this city")
        return int(resident_id)

    def admit(self, rid: int, s: int, now: float, channel: str, reader_id: int) -> TapResult:
        """Check resident `rid` into shelter index `s` unless already there or the shelter is full."""
        out, redirect = self.admit_code(rid, s, now, channel, reader_id)
        fids = self._fids
        return TapResult(OUTCOMES[out], fids[s], int(rid), fids[redirect] if redirect >= 0 else None)

    def admit_code(self, rid: int, s: int, now: float, channel: str, reader_id: int) -> tuple[int, int]:
        """`admit` answering plain codes: (outcome code, redirect shelter index or -1)."""
        t = float(now)
        if t - t != 0.0:  # NaN or infinite
            finite_time(t)
        rid = int(rid)
        out = step_in(int(self.where[rid]), s, self.occ, self.reg, self.cap)
        redirect = -1
        if out == IN or out == MOVED:
            self.where[rid] = s
            self.since[rid] = t
        elif out == FULL:
            redirect = self.nearest_with_room(s)
            out = FULL if redirect >= 0 else NO_ROOM
        self.taps.append_row((t, channel, reader_id, s, rid, out, "", redirect, -1))
        return out, redirect

    def tap_part(self, reader_ids: list[int], serials: list[int], now: float) -> tuple[list[int], int]:
        """`tap` for several cards at one instant (a group at the desk), in order: each one's outcome
        code (REFUSED where `tap` would raise: logged the same way) and the first redirect (-1: none)."""
        return shelter_parts.tap_part(self, reader_ids, serials, now)

    def tap_code(self, reader_id: int, serial: int, now: float) -> tuple[int, int]:
        """`tap_part` for one card: (outcome code, redirect index or -1; REFUSED where `tap` raises)."""
        return shelter_parts.tap_code(self, reader_id, serial, finite_time(now))

    def check_in_run(self, card, where, who, times, rng: np.random.Generator,
                     holders: np.ndarray | None = None, compiled: bool = True) -> tuple[list[int], int]:
        """Single check-ins one after another (per row a card tap: reader id, serial; or a paper form:
        shelter index, resident id), as `tap_code`/`paper_code` would make them, up to the first one
        to react to (done) or one only the per-person call takes (not done): `shelter_run`. `holders`:
        `SerialIndex.holders_of(who)` if the caller has it; `compiled=False`: without numba."""
        return shelter_run.check_in_run(self, card, where, who, times, rng, holders, compiled)

    def paper_part(self, s: int, resident_ids: list[int], now: float,
                   rng: np.random.Generator) -> tuple[list[int], int]:
        """`paper_form` for several people at one instant at shelter index `s`, in order: outcome codes
        and the first redirect (-1: none)."""
        return shelter_parts.paper_part(self, s, resident_ids, now, rng)

    def paper_code(self, s: int, resident_id: int, now: float, rng: np.random.Generator) -> tuple[int, int]:
        """`paper_part` for one person: (outcome code, redirect index or -1; REFUSED where
        `paper_form` raises)."""
        return shelter_parts.paper_code(self, s, resident_id, now, rng)

    def leave(self, rid: int, now: float, channel: str, reader_id: int) -> TapResult:
        """Clear resident `rid`'s record (and free a place at its shelter)."""
        t = finite_time(now)
        cur = self.where.item(rid)
        if cur < 0:
            self.taps.add(t, channel, reader_id, -1, rid, NOT_CHECKED_IN, "", -1, -1)
            return TapResult(Outcome.NOT_CHECKED_IN, -1, rid)
        self.occ[cur] = max(self.occ[cur] - 1, 0)
        self.reg[cur] -= 1
        self.where[rid], self.since[rid] = -1, np.nan
        self.taps.add(t, channel, reader_id, cur, rid, CHECKED_OUT, "", -1, -1)
        return TapResult(Outcome.CHECKED_OUT, int(self.facility_ids[cur]), rid)

    def refuse(self, now: float, reader_id: int, serial: int, reason: str, s: int, channel: str = "card") -> None:
        """Log a refused attempt (typed event and a register row); nothing else changes."""
        t = finite_time(now)
        self.events.append(CheckInRefused(t, int(reader_id), int(serial), reason))
        self.taps.add(t, channel, reader_id, s, -1, REFUSED, reason, -1, -1)

    def nearest_with_room(self, s: int) -> int:
        """The index of the nearest other shelter with a free place, or -1 if all are full."""
        order = self._neighbours.get(s)
        if order is None:
            d = np.hypot(*(self._xy - self._xy[s]).T)
            order = [int(i) for i in np.argsort(d, kind="stable") if i != s]
            self._neighbours[s] = order
        occ, cap = self.occ, self.cap
        for t in order:
            if occ[t] < cap[t]:
                return t
        return -1
