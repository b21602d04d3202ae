"""Administrative points (行政ポイント): lots with an expiry, redeemed oldest-expiry first (FIFO).

The ledger posts the money side (`points:<resident>` accounts); this module keeps the lots
that say which points expire when, and which lot each redemption or expiry drew on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from twin.clock import to_jst
from twin.store import Tx

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS point_lots (
        lot_id ID PRIMARY KEY, resident_id BIGINT NOT NULL, posting_id BIGINT NOT NULL,
        activity TEXT NOT NULL, points BIGINT NOT NULL, remaining BIGINT NOT NULL,
        granted_at REAL NOT NULL, expires_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS point_lots_resident ON point_lots (resident_id)",
    """CREATE TABLE IF NOT EXISTS point_uses (
        posting_id BIGINT NOT NULL, lot_id BIGINT NOT NULL, points BIGINT NOT NULL)""",
)


@dataclass(slots=True)
class Lot:
    """Points granted together, with one expiry; `remaining` falls as they are used or lapse."""

    lot_id: int
    resident_id: int
    posting_id: int
    activity: str
    points: int
    remaining: int
    granted_at: float
    expires_at: float


class LotBook:
    """The lots one batch touches: loaded once, changed in memory, written back in the batch."""

    def __init__(self, tx: Tx, resident_ids: Iterable[int]) -> None:
        self._by_resident: dict[int, list[Lot]] = {}
        self._changed: dict[int, Lot] = {}
        self._new: list[Lot] = []
        self._new_ids: set[int] = set()
        self._uses: list[tuple[int, int, int]] = []
        wanted = sorted(set(resident_ids))
        rows = tx.query_in("SELECT lot_id, resident_id, posting_id, activity, points, remaining, "
                           "granted_at, expires_at FROM point_lots WHERE remaining > 0 AND "
                           "resident_id IN ({in})", wanted) if wanted else []
        for r in rows:
            self._by_resident.setdefault(r[1], []).append(Lot(*r))
        self._next_id = int(tx.scalar("SELECT COALESCE(MAX(lot_id), 0) FROM point_lots")) + 1

    def add(self, resident_id: int, posting_id: int, activity: str, points: int, now: float,
            expires_at: float) -> Lot:
        """A new lot from a grant."""
        lot = Lot(self._next_id, resident_id, posting_id, activity, points, points, now, expires_at)
        self._next_id += 1
        self._new.append(lot)
        self._new_ids.add(lot.lot_id)
        self._by_resident.setdefault(resident_id, []).append(lot)
        return lot

    def usable(self, resident_id: int, now: float) -> int:
        """Points the resident can still redeem at `now`."""
        return sum(x.remaining for x in self._by_resident.get(resident_id, ()) if x.expires_at > now)

    def lapsed(self, resident_id: int, now: float) -> int:
        """Points the resident still holds on paper but that have expired by `now`."""
        return sum(x.remaining for x in self._by_resident.get(resident_id, ()) if x.expires_at <= now)

    def take(self, resident_id: int, wanted: int, now: float, posting_id: int) -> None:
        """Use `wanted` unexpired points, soonest expiry first (the caller checked `usable`)."""
        live = [x for x in self._by_resident.get(resident_id, ()) if x.expires_at > now and x.remaining]
        for lot in sorted(live, key=lambda x: (x.expires_at, x.lot_id)):
            n = min(lot.remaining, wanted)
            self._use(lot, n, posting_id)
            wanted -= n
            if not wanted:
                return
        raise AssertionError("take() called with more points than usable")

    def lot(self, resident_id: int, lot_id: int) -> Lot | None:
        """One of the resident's loaded lots with points left, or None."""
        return next((x for x in self._by_resident.get(resident_id, ()) if x.lot_id == lot_id), None)

    def lapse(self, lot: Lot, posting_id: int) -> None:
        """Expire what is left of a lot."""
        self._use(lot, lot.remaining, posting_id)

    def _use(self, lot: Lot, n: int, posting_id: int) -> None:
        lot.remaining -= n
        self._uses.append((posting_id, lot.lot_id, n))
        if lot.lot_id not in self._new_ids:
            self._changed[lot.lot_id] = lot

    def write(self, tx: Tx) -> None:
        """Store new lots, changed remainders and which lot each use drew on."""
        tx.executemany("INSERT INTO point_lots (lot_id, resident_id, posting_id, activity, points, "
                       "remaining, granted_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [(x.lot_id, x.resident_id, x.posting_id, x.activity, x.points, x.remaining,
                         x.granted_at, x.expires_at) for x in self._new])
        tx.executemany("UPDATE point_lots SET remaining = ? WHERE lot_id = ?",
                       [(x.remaining, x.lot_id) for x in self._changed.values()])
        tx.executemany("INSERT INTO point_uses (posting_id, lot_id, points) VALUES (?, ?, ?)", self._uses)


def expiry_text(expires_at: float) -> str:
    """An expiry as a JST date-time for messages."""
    return to_jst(expires_at).strftime("%Y-%m-%d %H:%M JST")


def lots_of(tx: Tx, resident_id: int) -> list[Lot]:
    """Every lot of a resident, soonest expiry first."""
    rows = tx.query("SELECT lot_id, resident_id, posting_id, activity, points, remaining, granted_at, "
                    "expires_at FROM point_lots WHERE resident_id = ? ORDER BY expires_at, lot_id",
                    (resident_id,))
    return [Lot(*r) for r in rows]


def lapsing(tx: Tx, now: float, limit: int) -> list[Lot]:
    """Lots past their expiry at `now` that still hold points (for the expiry sweep)."""
    rows = tx.query("SELECT lot_id, resident_id, posting_id, activity, points, remaining, granted_at, "
                    "expires_at FROM point_lots WHERE remaining > 0 AND expires_at <= ? "
                    "ORDER BY expires_at, lot_id LIMIT ?", (now, limit))
    return [Lot(*r) for r in rows]
