"""Card serial numbers (製造番号) resolved to residents: the protocol shelters and child watch use.

Safety confirmation keys a person by the serial printed on the card, never by the My Number.
`SerialResolver` is what the services depend on; the card registry
(`twin.card.CardRegistry.resident_of`) satisfies it, and `SerialIndex` is a columnar stand-in
built from a city's `card_serial` column, with revocation, for tests and fast scenarios. Both
refuse with the trust core's errors (`UnknownCard`, `CardRevoked`, … with their codes).
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np
import polars as pl

from twin.errors import TwinError, ValidationError
from twin.sorted_search import search_sorted
from twin.trust_errors import CardRevoked, UnknownCard  # the card registry's own refusals


@runtime_checkable
class SerialResolver(Protocol):
    """Anything that turns a card serial into a resident id or refuses with a TwinError."""

    def resident_of(self, serial: int, now: float) -> int:
        """The resident holding the card `serial` at `now`; unknown/revoked cards raise."""
        ...


class SerialIndex:
    """Serial → resident for a whole city as sorted numpy columns, with revocation times."""

    __slots__ = ("_serials", "_residents", "_revoked_at", "_revoked", "_seen")

    def __init__(self, serials: np.ndarray, residents: np.ndarray) -> None:
        serials = np.asarray(serials, dtype=np.int64)
        residents = np.asarray(residents, dtype=np.int64)
        if serials.shape != residents.shape:
            raise ValidationError(f"{serials.size} serials but {residents.size} residents")
        order = np.argsort(serials, kind="stable")
        self._serials = serials[order]
        if self._serials.size > 1 and bool((np.diff(self._serials) == 0).any()):
            raise ValidationError("card serials must be unique")
        self._residents = residents[order]
        self._revoked_at = np.full(serials.size, np.inf)  # for the vectorised path
        self._revoked: dict[int, float] = {}  # serial -> revoked at, for the one-at-a-time path (few)
        self._seen: dict[int, int] = {}  # serial -> resident, for serials asked before

    @classmethod
    def from_residents(cls, residents: pl.DataFrame) -> SerialIndex:
        """The index of every card holder in a residents frame (card_serial, resident_id)."""
        held = residents.filter(pl.col("card_serial").is_not_null())
        return cls(held["card_serial"].to_numpy(), held["resident_id"].to_numpy())

    def copy(self) -> SerialIndex:
        """An independent index of the same cards (revocations copied); the sorted columns, which
        never change, are shared rather than sorted again."""
        out = object.__new__(SerialIndex)
        out._serials, out._residents, out._seen = self._serials, self._residents, {}
        out._revoked_at, out._revoked = self._revoked_at.copy(), dict(self._revoked)
        return out

    def prepare(self, serials) -> np.ndarray:
        """Look many serials up now in one vectorised pass, so that `resident_of` finds each one's row
        and holder at once later (unknown serials are left out: they are refused when tapped); their
        holders as `holders_of` answers them."""
        s = np.asarray(serials, dtype=np.int64)  # repeats just look the same serial up again
        if not s.size or not self._serials.size:
            return np.full(s.size, -1, dtype=np.int64)
        pos = np.minimum(search_sorted(self._serials, s), self._serials.size - 1)
        hit = self._serials[pos] == s
        held = self._residents[pos]
        self._seen.update(zip(s[hit].tolist(), held[hit].tolist(), strict=True))
        return np.where(hit, held, -1).astype(np.int64)

    def __len__(self) -> int:
        return int(self._serials.size)

    def _position(self, serial: int) -> int:
        """The row of `serial`, or -1."""
        i = int(np.searchsorted(self._serials, serial))
        return i if i < self._serials.size and int(self._serials[i]) == serial else -1

    def resident_of(self, serial: int, now: float) -> int:
        """The resident holding card `serial` at `now`; unknown or revoked cards are refused."""
        rid = self._seen.get(serial)  # the columns never change: a serial's holder is fixed
        if rid is None:  # (an int-valued serial of another type finds the same entry)
            serial = int(serial)
            rid = self._seen.get(serial)
            if rid is None:
                serials = self._serials
                i = int(serials.searchsorted(serial))
                if i >= serials.size or int(serials[i]) != serial:
                    raise UnknownCard(f"card serial {serial} was never issued by this city (a forged or foreign "
                                      "card); nothing was recorded")
                rid = self._seen[serial] = int(self._residents[i])
        if self._revoked:
            revoked = self._revoked.get(serial)
            if revoked is not None and now >= revoked:
                raise CardRevoked(int(serial), revoked, "revoked in the serial index")
        return rid

    def holders(self) -> dict[int, int] | None:
        """The holders of the serials asked or prepared so far (serial -> resident, read-only), for a
        caller resolving many cards between two revocations; None while any card is revoked (then
        `resident_of` must decide)."""
        return None if self._revoked else self._seen

    def revoked_any(self) -> bool:
        """Whether any card is revoked (else every serial's holder is `holders_of`'s answer)."""
        return bool(self._revoked)

    def holders_of(self, serials) -> np.ndarray:
        """The holder of each card serial as issued (-1: never issued), revocations aside: what
        `resident_of` answers while `revoked_any()` is False."""
        s = np.asarray(serials, dtype=np.int64)
        n = self._serials.size
        if n == 0 or s.size == 0:
            return np.full(s.size, -1, dtype=np.int64)
        pos = np.minimum(search_sorted(self._serials, s), n - 1)
        return np.where(self._serials[pos] == s, self._residents[pos], -1).astype(np.int64)

    def resolve_many(self, serials: np.ndarray, now) -> tuple[np.ndarray, np.ndarray]:
        """Residents for many serials at once (-1 where refused) and each refusal's reason code ('' if none);
        `now` is one time or one per serial."""
        serials = np.asarray(serials, dtype=np.int64)
        n = self._serials.size
        if n == 0:
            return np.full(serials.size, -1, np.int64), np.full(serials.size, UnknownCard.code, object)
        pos = np.minimum(search_sorted(self._serials, serials), n - 1)
        found = self._serials[pos] == serials
        revoked = found & (now >= self._revoked_at[pos])
        rids = np.where(found & ~revoked, self._residents[pos], -1).astype(np.int64)
        reasons = np.where(~found, UnknownCard.code, np.where(revoked, CardRevoked.code, ""))
        return rids, reasons.astype(object)

    def revoke(self, serial: int, now: float) -> None:
        """Revoke card `serial` from `now` on (unknown serials are an error)."""
        i = self._position(int(serial))
        if i < 0:
            raise UnknownCard(f"cannot revoke card serial {serial}: never issued")
        self._revoked_at[i] = min(self._revoked_at[i], now)
        self._revoked[int(serial)] = float(self._revoked_at[i])

    def revoked_since(self, serial: int) -> float | None:
        """When card `serial` was revoked in this index, or None if it is usable (unknown serials are an error)."""
        i = self._position(int(serial))
        if i < 0:
            raise UnknownCard(f"card serial {serial} was never issued by this city")
        return self._revoked.get(int(serial))

    def to_revoke(self, serials: list[int], now: float) -> list[int]:
        """Of `serials`, those a revocation from `now` would change: known here and not revoked by `now`."""
        out = []
        for serial in (int(s) for s in serials):
            i = self._position(serial)
            if i >= 0 and self._revoked.get(serial, np.inf) > now:
                out.append(serial)
        return out

    def serial_of(self, resident_id: int) -> int | None:
        """The card serial a resident holds, or None (for scenarios building taps)."""
        hit = np.flatnonzero(self._residents == resident_id)
        return int(self._serials[hit[0]]) if hit.size else None


def resolve_batch(resolver: SerialResolver, serials: np.ndarray, now) -> tuple[np.ndarray, np.ndarray]:
    """Resolve many serials (at one time or one time each) through any resolver; returns resident ids
    (-1 where refused) and reason codes ('' where resolved).

    Uses `resolve_many(serials, now)` if the resolver has it; else the card registry's vectorised
    `residents_of(serials, now)` (asked at the batch's first and last time, so a card that expires
    inside the batch is settled one by one), with `resident_of` giving each refusal its reason;
    else `resident_of` one by one.
    """
    serials = np.atleast_1d(np.asarray(serials, dtype=np.int64))
    many = getattr(resolver, "resolve_many", None)
    if many is not None:
        return many(serials, now)
    times = np.broadcast_to(np.asarray(now, dtype=np.float64), serials.shape)
    rids = np.full(serials.size, -1, dtype=np.int64)
    reasons = np.full(serials.size, "", dtype=object)
    one_by_one = np.arange(serials.size)
    vector = getattr(resolver, "residents_of", None)
    if vector is not None and serials.size:
        first = np.asarray(vector(serials, float(times.min())), dtype=np.int64)
        last = np.asarray(vector(serials, float(times.max())), dtype=np.int64)
        settled = (first == last) & (first >= 0)
        rids[settled] = first[settled]
        one_by_one = np.flatnonzero(~settled)
    for i in one_by_one.tolist():
        try:
            rids[i] = resolver.resident_of(int(serials[i]), float(times[i]))
        except TwinError as e:
            reasons[i] = e.code
    return rids, reasons


def finite_time(now: float, what: str = "now") -> float:
    """`now` as a float, refusing NaN and infinities (time is POSIX seconds)."""
    t = float(now)
    if not math.isfinite(t):
        raise ValidationError(f"{what} must be finite POSIX seconds, got {now!r}")
    return t


def id_or_minus_one(value: object) -> int:
    """An id as an int for a log entry, or -1 when the caller passed something that is not one."""
    return int(value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else -1
