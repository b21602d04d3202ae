"""The city's card registry (個人番号カード管理): card state for every resident as numpy columns.

A 3.8 M-resident city costs a few arrays; `card(serial)` returns a thin `Card` view whose PIN
counters are the registry's own arrays, and keys and certificates are derived on first use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import polars as pl

from twin.card import face as face_items
from twin.card.chip import Card
from twin.card.freearea import BY_NAME
from twin.card.lifecycle import LifecycleMixin
from twin.card.rules import (
    ACTIVE,
    APPLIED,
    CERT_YEARS,
    MAX_TRIES,
    NO_DAY,
    RETIRED,
    SIGNING_MIN_AGE,
    STATUS_NAMES,
    SUSPENDED,
    Pins,
    age_ymd,
    card_expiry_ymd,
    date_of_day,
    day_of,
    day_start,
    derive_pin,
    nth_birthday_ymd,
    ymd,
)
from twin.clock import DAY
from twin.errors import ValidationError
from twin.events import EventLog
from twin.keys import KeyCache
from twin.pki import CertificateAuthority, FaceData
from twin.trust_errors import (
    CardExpired,
    CardNotIssued,
    CardRevoked,
    CardSuspended,
    UnknownCard,
    when,
)
from twin.trust_events import refuse

DEFAULT_LEAD_TIME = 30 * DAY  # application to hand-over (assumption: about a month)
_CARD_COLUMNS = {  # name -> dtype of the per-card columns
    "serial": np.int64, "resident": np.int64, "status": np.int8, "issued": np.int32, "expiry": np.int32,
    "user_gen": np.int16, "user_from": np.int32, "user_until": np.int32,
    "sign_gen": np.int16, "sign_from": np.int32, "sign_until": np.int32, "apps": np.uint32,
}


class CardRegistry(LifecycleMixin):
    """Columnar card state for a city: status, validity, certificate generations, PIN tries, apps."""

    def __init__(self, ca: CertificateAuthority, people: dict[str, np.ndarray], *, city_ja: str,
                 pin_secret: bytes, ordinances: Iterable[str] = (), lead_time: float = DEFAULT_LEAD_TIME,
                 events: EventLog | None = None) -> None:
        self.ca = ca
        self.events = events if events is not None else ca.events  # one trust log by default
        self.city_ja = city_ja
        self.pin_secret = pin_secret
        self.lead_time = float(lead_time)
        self.ordinances: set[str] = set()
        for app in ordinances:
            self.enact_ordinance(app)
        n = len(people["birth"])
        self.birth = np.array(people["birth"], copy=True, dtype=np.int32)  # JST day numbers
        self.sex = np.array(people["sex"], copy=True, dtype=np.uint8)
        self.ward = np.array(people["ward"], copy=True, dtype=np.int16)
        self.household = np.array(people["household"], copy=True, dtype=np.int64)
        self.my_number = np.array(people["my_number"], copy=True, dtype=np.int64)
        self.card_row = np.full(n, -1, dtype=np.int64)  # each resident's newest card
        self.name_version: dict[int, int] = {}
        self.address_version: dict[int, int] = {}
        self._n = 0
        for name, dtype in _CARD_COLUMNS.items():
            setattr(self, name, np.zeros(0, dtype=dtype))
        self.tries = np.zeros((0, 3), dtype=np.int8)
        self.since: dict[int, tuple[float, str]] = {}  # row -> (time, reason) of suspension/retirement
        self.ready_at: dict[int, float] = {}  # row -> when an applied card can be handed over
        self.pin_override: dict[tuple[int, int], str] = {}
        self._base_serial = np.zeros(0, dtype=np.int64)
        self._base_row = np.zeros(0, dtype=np.int64)
        self._extra: dict[int, int] = {}
        self._next_serial = 0
        self.seals = KeyCache(65536)  # the authority's signatures over card-face records
        self.cert_der = KeyCache(65536)  # (row, purpose, generation) -> the certificate on the chip
        self.sign_holder: dict[int, FaceData] = {}  # row -> 4 items frozen into its signing certificate
        self._row_cache: dict[int, int] = {}
        self._pin_cache: dict[tuple[int, int], str] = {}

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_city(cls, city, ca: CertificateAuthority, now: float, *, seed: int | None = None,
                  ordinances: Iterable[str] = (), lead_time: float = DEFAULT_LEAD_TIME,
                  events: EventLog | None = None, pin_secret: bytes | None = None) -> CardRegistry:
        """The registry of a built city at `now`: every `has_card` resident holds a valid card.

        PINs come from `pin_secret` (a live service's secret), else from (city, seed) as simulations need."""
        r = city.residents
        seed = city.seed if seed is None else int(seed)
        people = {"birth": r["birth_date"].cast(pl.Int32).to_numpy(), "sex": r["sex"].to_numpy(),
                  "ward": r["ward"].to_numpy(), "household": r["household_id"].to_numpy(),
                  "my_number": r["my_number"].to_numpy()}
        secret = pin_secret or hashlib.sha256(f"myna-twin/pins/{city.name}/{seed}".encode()).digest()
        reg = cls(ca, people, city_ja=city.preset.name_ja, pin_secret=secret, ordinances=ordinances,
                  lead_time=lead_time, events=events)
        holders = np.flatnonzero(r["has_card"].to_numpy())
        serials = r["card_serial"].to_numpy()[holders].astype(np.int64)
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA2D]))
        reg._load_snapshot(holders.astype(np.int64), serials, day_of(now), rng)
        return reg

    def fresh_copy(self, events: EventLog | None = None) -> CardRegistry:
        """A registry in this one's state that shares nothing a run can change (a per-process template's copy).

        Columns are copied, dicts and sets copied (their items are immutable), derived-value caches
        start empty; the authority is shared (its owner keeps it free of revocations). An attribute
        of another kind is refused, so a new mutable field cannot leak between runs unseen."""
        new = object.__new__(type(self))
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                value = value.copy()
            elif isinstance(value, dict | set):
                value = value.copy()
            elif isinstance(value, KeyCache):
                value = KeyCache(value.capacity)
            elif not isinstance(value, int | float | str | bytes | CertificateAuthority | EventLog):
                raise TypeError(f"CardRegistry.fresh_copy does not know how to copy {name!r} "
                                f"({type(value).__name__})")
            setattr(new, name, value)
        new.events = events if events is not None else EventLog()
        return new

    def _load_snapshot(self, residents: np.ndarray, serials: np.ndarray, today: int,
                       rng: np.random.Generator) -> None:
        """Cards valid today, issued since 2016 (cards began Jan 2016), certificates within 4 years."""
        birth = self.birth[residents].astype(np.int64)
        b = ymd(birth)
        start = max(day_of(1451574000.0), today - 9 * 365)  # 2016-01-01 JST
        issued = np.maximum(today - rng.integers(0, max(today - start, 1), residents.size), birth + 1)
        expiry = card_expiry_ymd(ymd(issued), b)
        recent = np.maximum(today - rng.integers(0, 4 * 365, residents.size), birth + 1)
        redo = expiry < today
        issued[redo] = recent[redo]
        expiry[redo] = card_expiry_ymd(ymd(issued[redo]), tuple(x[redo] for x in b))
        cert_from = np.where(issued >= today - 4 * 365, issued,
                             today - rng.integers(0, 4 * 365, residents.size))
        c = ymd(cert_from)
        cert_until = np.minimum(nth_birthday_ymd(c, b, CERT_YEARS), expiry)  # never past the card
        rows = self._append(serials, residents, ACTIVE)
        self.issued[rows], self.expiry[rows] = issued, expiry
        self.user_from[rows], self.user_until[rows] = cert_from, cert_until
        signs = age_ymd(b, c) >= SIGNING_MIN_AGE
        self.sign_from[rows] = np.where(signs, cert_from, NO_DAY)
        self.sign_until[rows] = np.where(signs, self.user_until[rows], NO_DAY)
        self.card_row[residents] = rows
        order = np.argsort(serials, kind="stable")
        self._base_serial, self._base_row = serials[order], rows[order]
        self._next_serial = int(serials.max(initial=0)) + 1_000_000_000

    def _append(self, serials: np.ndarray, residents: np.ndarray, status: int) -> np.ndarray:
        """Add card rows (growing the columns) and return their row numbers."""
        k = serials.size
        need = self._n + k
        if need > self.serial.size:
            cap = max(need, int(self.serial.size * 1.5) + 16)
            for name in _CARD_COLUMNS:
                col = getattr(self, name)
                grown = np.zeros(cap, dtype=col.dtype)
                grown[: self._n] = col[: self._n]
                setattr(self, name, grown)
            tries = np.zeros((cap, 3), dtype=np.int8)
            tries[: self._n] = self.tries[: self._n]
            self.tries = tries
        rows = np.arange(self._n, need, dtype=np.int64)
        self.serial[rows], self.resident[rows], self.status[rows] = serials, residents, status
        self.tries[rows] = MAX_TRIES
        self._n = need
        return rows

    # -- lookup -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    @property
    def population(self) -> int:
        """How many residents the registry knows (card holders or not)."""
        return self.birth.size

    def row_of(self, serial: int) -> int:
        """The registry row of card `serial`, or UnknownCard."""
        s = int(serial)
        row = self._row_cache.get(s)
        if row is not None:
            return row
        row = self._find_row(s)
        if len(self._row_cache) >= 1 << 20:
            self._row_cache.clear()
        self._row_cache[s] = row
        return row

    def _find_row(self, s: int) -> int:
        i = int(np.searchsorted(self._base_serial, s))
        if i < self._base_serial.size and self._base_serial[i] == s:
            return int(self._base_row[i])
        row = self._extra.get(s)
        if row is None:
            raise UnknownCard(f"no card with serial number {s} is registered in {self.city_ja}")
        return row

    def rows_of(self, serials: np.ndarray) -> np.ndarray:
        """Registry rows of many serials (-1 where unknown), vectorised."""
        s = np.asarray(serials, dtype=np.int64)
        rows = np.full(s.size, -1, dtype=np.int64)
        base = self._base_serial
        if base.size:
            order = np.argsort(s, kind="stable") if s.size > 4096 else None  # sorted probes stay in cache
            probe = s if order is None else s[order]
            i = np.minimum(np.searchsorted(base, probe), base.size - 1)
            found = np.where(base[i] == probe, self._base_row[i], -1)
            if order is None:
                rows = found
            else:
                rows[order] = found
        for j in np.flatnonzero(rows < 0) if self._extra else ():
            rows[j] = self._extra.get(int(s[j]), -1)
        return rows

    def rows_of_ints(self, serials: list[int]) -> list[int]:
        """`rows_of` of int serials as a list: remembered rows (`remember_rows`) from memory, the rest looked up
        in one vectorised pass (a probe of the whole serial column misses the CPU cache; a remembered row does not)."""
        get = self._row_cache.get
        rows = [get(s, -1) for s in serials]
        miss = [j for j, r in enumerate(rows) if r < 0]
        if miss:
            for j, r in zip(miss, self.rows_of(np.array([serials[j] for j in miss], dtype=np.int64)).tolist(),
                            strict=True):
                rows[j] = r
        return rows

    def remember_rows(self, serials: np.ndarray) -> np.ndarray:
        """Look up many serials' rows in one vectorised pass and keep them for `row_of` (unknown ones
        are left out: `row_of` still refuses them one by one); returns `rows_of(serials)`."""
        s, back = np.unique(np.asarray(serials, dtype=np.int64), return_inverse=True)
        rows = self.rows_of(s)
        known = rows >= 0
        if len(self._row_cache) + int(known.sum()) >= 1 << 20:
            self._row_cache.clear()
        self._row_cache.update(zip(s[known].tolist(), rows[known].tolist(), strict=True))
        return rows[back.reshape(-1)]

    def card(self, serial: int):
        """A thin view of card `serial` (its chip apps and counters live in this registry)."""
        return Card(self, self.row_of(serial), int(serial))

    def holder_of(self, serial: int) -> int:
        """The resident a card was issued to, whatever its status (readers map serials with it)."""
        return int(self.resident[self.row_of(serial)])

    def serial_of_resident(self, resident_id: int) -> int | None:
        """The serial of a resident's newest card, or None."""
        row = int(self.card_row[int(resident_id)])
        return None if row < 0 else int(self.serial[row])

    def check_usable(self, row: int, now: float, where: str) -> None:
        """Raise (and record) why card row `row` cannot be used at `now`, if it cannot."""
        st, serial = int(self.status[row]), int(self.serial[row])
        err = None
        if st == APPLIED:
            err = CardNotIssued(f"card {serial} was applied for and can be collected from "
                                f"{when(self.ready_at.get(row, now))}; it is not in the holder's hands yet")
        elif st == SUSPENDED:
            err = CardSuspended(serial, self.since[row][0])
        elif st == RETIRED:
            err = CardRevoked(serial, *self.since[row])
        elif now >= self.expires_at(row):
            err = CardExpired(serial, self.expires_at(row))
        if err is not None:
            raise refuse(self.events, err, serial, where, now)

    def resident_of(self, serial: int, now: float) -> int:
        """The holder of a usable card at `now`; unknown, suspended, revoked or expired cards raise."""
        try:
            row = self.row_of(serial)
        except UnknownCard as err:
            raise refuse(self.events, err, int(serial), "registry", now) from None
        self.check_usable(row, now, "registry")
        return int(self.resident[row])

    def residents_of(self, serials: np.ndarray, now: float) -> np.ndarray:
        """Holders of many cards at `now`, -1 where a card is unknown or unusable (no events)."""
        rows = self.rows_of(serials)
        ok = rows >= 0
        r = np.where(ok, rows, 0)
        ok &= (self.status[r] == ACTIVE) & (self.expiry[r] >= day_of(now))
        return np.where(ok, self.resident[r], -1)

    def expires_at(self, row: int) -> float:
        """The instant card row `row` stops being valid (the end of its last valid day, JST)."""
        return float(day_start(int(self.expiry[row]) + 1))

    def status_name(self, row: int, now: float) -> str:
        """The card's status at `now`: applied, active, suspended, retired or expired."""
        st = int(self.status[row])
        if st == ACTIVE and now >= self.expires_at(row):
            return "expired"
        return STATUS_NAMES[st]

    # -- face data and PINs -------------------------------------------------------------------

    def face_of_resident(self, resident_id: int) -> FaceData:
        """The 4 basic items of a resident as the card face shows them now."""
        rid = int(resident_id)
        h, sex = int(self.household[rid]), int(self.sex[rid])
        return FaceData(face_items.synthetic_name(h, rid, sex, self.name_version.get(rid, 0)),
                        face_items.synthetic_address(self.city_ja, int(self.ward[rid]), h,
                                                     self.address_version.get(rid, 0)),
                        date_of_day(int(self.birth[rid])), sex)

    def pins(self, serial: int) -> Pins:
        """The PINs the holder of `serial` set (a scenario uses this to model typing them)."""
        row = self.row_of(serial)
        return Pins(*(self.pin_of(row, app) for app in range(3)))

    def pin_of(self, row: int, app: int) -> str:
        """The PIN of app index `app` on card row `row` (a counter reset overrides the derived one)."""
        if self.pin_override:
            pin = self.pin_override.get((row, app))
            if pin is not None:
                return pin
        key = (row, app)
        pin = self._pin_cache.get(key)
        if pin is None:
            if len(self._pin_cache) >= 1 << 18:
                self._pin_cache.clear()
            pin = self._pin_cache[key] = derive_pin(self.pin_secret, int(self.serial[row]), app)
        return pin

    def pins_of(self, rows: list[int], app: int) -> list[str]:
        """`pin_of` of many rows (each row's serial read in one pass; the derivation is kept per process)."""
        pins = [derive_pin(self.pin_secret, s, app) for s in self.serial[np.asarray(rows, dtype=np.int64)].tolist()]
        if self.pin_override:
            pins = [self.pin_override.get((r, app), pin) for r, pin in zip(rows, pins, strict=True)]
        return pins

    # -- free-area ordinances -----------------------------------------------------------------

    def enact_ordinance(self, app: str) -> None:
        """Record that the city enacted the ordinance that allows free-area app `app` (Art. 18)."""
        if app not in BY_NAME:
            raise ValidationError(f"unknown free-area app {app!r}; catalogue: {', '.join(BY_NAME)}")
        self.ordinances.add(app)

    def summary(self, now: float) -> dict[str, int]:
        """Card counts by status at `now`."""
        st = self.status[: self._n]
        expired = (st == ACTIVE) & (self.expiry[: self._n] < day_of(now))
        out = {name: int((st == i).sum()) for i, name in enumerate(STATUS_NAMES)}
        out["active"] -= int(expired.sum())
        out["expired"] += int(expired.sum())
        return out
