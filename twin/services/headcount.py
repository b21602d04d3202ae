"""Head counts to the disaster HQ (災害対策本部): each shelter reports, the HQ keeps the latest.

A report carries the desk count (everyone the desk let in, by card, offline reader or paper)
and the identified count (residents the shelter system can name). The HQ's view ages
between reports; `accuracy` measures it against a truth the scenario supplies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from twin.errors import NotFound, ValidationError
from twin.events import EventLog
from twin.services.card_serials import finite_time
from twin.services.safety_events import HeadcountReported
from twin.services.shelter_history import last_at_or_before

if TYPE_CHECKING:
    from twin.services.shelters import ShelterNetwork


@dataclass(frozen=True, slots=True)
class ShelterReport:
    """One shelter's head count as counted at `counted_at` (facility id)."""

    shelter_id: int
    count: int
    identified: int
    capacity: int
    counted_at: float


@dataclass(frozen=True, slots=True)
class HeadcountAccuracy:
    """The HQ's view against the truth at one instant."""

    at: float
    reported_total: int
    true_total: int
    abs_error: int  # sum over shelters of |reported - true|
    relative_error: float  # abs_error / true_total (0 when both are 0)
    mean_age_s: float  # mean age of the reports held (inf if none)
    max_age_s: float
    unreported: int  # shelters the HQ has never heard from


def shelter_reports(net: ShelterNetwork, now: float, shelter_ids: Iterable[int] | None = None) -> list[ShelterReport]:
    """The head counts the named shelters (default: all) would send now."""
    t = finite_time(now)
    idx = range(net.shelter_count) if shelter_ids is None else [net.shelter_index(f) for f in shelter_ids]
    return [ShelterReport(int(net.facility_ids[s]), net.occ[s], net.reg[s] - net.anon[s], net.cap[s], t) for s in idx]


class DisasterHQ:
    """The disaster HQ's latest head count per shelter, with when it was counted and received."""

    def __init__(self, shelter_ids: Iterable[int], events: EventLog | None = None) -> None:
        self.shelter_ids = np.asarray(list(shelter_ids), dtype=np.int64)
        self._pos = {int(f): i for i, f in enumerate(self.shelter_ids)}
        n = self.shelter_ids.size
        self.count = np.zeros(n, dtype=np.int64)
        self.identified = np.zeros(n, dtype=np.int64)
        self.counted_at = np.full(n, -np.inf)
        self.received_at = np.full(n, -np.inf)
        self.events = events if events is not None else EventLog()

    @classmethod
    def for_network(cls, net: ShelterNetwork, events: EventLog | None = None) -> DisasterHQ:
        """An HQ that expects reports from every shelter of `net`."""
        return cls(net.facility_ids.tolist(), events if events is not None else net.events)

    def receive(self, reports: Iterable[ShelterReport], now: float) -> int:
        """Take reports in; one counted before the report already held is ignored. Returns how many were taken."""
        t = finite_time(now)
        taken = 0
        for r in reports:
            i = self._pos.get(r.shelter_id)
            if i is None:
                raise NotFound(f"shelter {r.shelter_id} does not report to this HQ")
            if r.counted_at > t:
                raise ValidationError(f"report from shelter {r.shelter_id} counted after it arrived ({r.counted_at} > {t})")
            if r.counted_at <= self.counted_at[i]:
                continue  # late delivery of an older count
            self.count[i], self.identified[i] = r.count, r.identified
            self.counted_at[i], self.received_at[i] = r.counted_at, t
            self.events.append(HeadcountReported(t, r.shelter_id, r.count, r.identified, r.counted_at))
            taken += 1
        return taken

    def receive_columns(self, shelter_ids: np.ndarray, counts: np.ndarray, identified: np.ndarray,
                        counted_at: np.ndarray, received_at: np.ndarray) -> np.ndarray:
        """`receive` of one report per row, in row order, each at its own `received_at`: the same
        state and HeadcountReported events. All rows are checked before any is taken (an unknown
        shelter, a count after its arrival or a time that is not finite changes nothing). Returns
        which rows were taken (an older count than the one held is not)."""
        fid = np.asarray(shelter_ids, dtype=np.int64)
        cols = [np.asarray(c, dtype=np.int64) for c in (counts, identified)]
        at = [np.asarray(c, dtype=np.float64) for c in (counted_at, received_at)]
        if len({fid.size, *(c.size for c in cols), *(a.size for a in at)}) != 1:
            raise ValidationError("report columns must have one length")
        for a in at:
            bad = ~np.isfinite(a)
            if bad.any():
                finite_time(float(a[bad][0]))  # raises naming the value
        known = np.isin(fid, self.shelter_ids)
        if not known.all():
            raise NotFound(f"shelter {int(fid[~known][0])} does not report to this HQ")
        late = at[0] > at[1]
        if late.any():
            i = int(np.flatnonzero(late)[0])
            raise ValidationError(f"report from shelter {int(fid[i])} counted after it arrived "
                                  f"({at[0][i]} > {at[1][i]})")
        pos = np.fromiter((self._pos[f] for f in fid.tolist()), np.int64, fid.size)
        taken = _newer_than_held(pos, at[0], self.counted_at)
        rows = np.flatnonzero(taken)
        last = rows[::-1][np.unique(pos[rows][::-1], return_index=True)[1]]  # last taken per shelter
        p = pos[last]
        self.count[p], self.identified[p] = cols[0][last], cols[1][last]
        self.counted_at[p], self.received_at[p] = at[0][last], at[1][last]
        self.events.extend_columns(HeadcountReported, at[1][rows], fid[rows], cols[0][rows], cols[1][rows],
                                   at[0][rows])
        return taken

    def view(self, now: float) -> pl.DataFrame:
        """shelter_id, count, identified, counted_at, age_s (inf if never reported)."""
        t = finite_time(now)
        return pl.DataFrame({"shelter_id": self.shelter_ids, "count": self.count, "identified": self.identified,
                             "counted_at": self.counted_at, "age_s": t - self.counted_at})

    def total(self) -> int:
        """The HQ's current estimate of people in shelters."""
        return int(self.count.sum())

    def accuracy(self, truth: Mapping[int, int], now: float) -> HeadcountAccuracy:
        """Compare the HQ's view with the true count per shelter (facility id -> people present)."""
        t = finite_time(now)
        true = np.zeros(self.shelter_ids.size, dtype=np.int64)
        for fid, n in truth.items():
            i = self._pos.get(int(fid))
            if i is None:
                raise NotFound(f"truth names shelter {fid}, which does not report to this HQ")
            true[i] = int(n)
        return accuracy_of(self.count, self.counted_at, true, t)


def accuracy_of(count: np.ndarray, counted_at: np.ndarray, true: np.ndarray, now: float) -> HeadcountAccuracy:
    """An HQ view (count and when counted per shelter, -inf: never) against the true counts, at `now`."""
    t = finite_time(now)
    err = int(np.abs(count - true).sum())
    tot = int(true.sum())
    seen = np.isfinite(counted_at)
    ages = t - counted_at[seen]
    return HeadcountAccuracy(t, int(count.sum()), tot, err, err / tot if tot else float(err > 0),
                             float(ages.mean()) if ages.size else float("inf"),
                             float(ages.max()) if ages.size else float("inf"), int((~seen).sum()))


def views_at(shelters: np.ndarray, counts: np.ndarray, counted_at: np.ndarray, received_at: np.ndarray,
             taken: np.ndarray, n_shelters: int, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The HQ's view after taking these reports (shelter positions, one per row, rows in order), at
    each time: (count, counted_at) per time and shelter, from the reports received by then
    (-inf and 0 where none yet)."""
    rows = np.flatnonzero(taken)
    times = np.asarray(times, dtype=np.float64)
    if rows.size == 0:
        return np.zeros((times.size, n_shelters), dtype=np.int64), np.full((times.size, n_shelters), -np.inf)
    pos = np.asarray(shelters, dtype=np.int64)[rows]
    keys = np.repeat(np.arange(n_shelters), times.size)
    i = last_at_or_before(pos, np.asarray(received_at, dtype=np.float64)[rows], keys,
                          np.tile(times, n_shelters))
    hit = i >= 0
    j = rows[np.maximum(i, 0)]
    shape = (n_shelters, times.size)
    count = np.where(hit, np.asarray(counts, dtype=np.int64)[j], 0).reshape(shape).T.copy()
    when = np.where(hit, np.asarray(counted_at, dtype=np.float64)[j], -np.inf).reshape(shape).T.copy()
    return count, when


def _newer_than_held(pos: np.ndarray, counted_at: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Whether each row's count is newer than the shelter's held one and every earlier row's of it."""
    u, rank = np.unique(counted_at, return_inverse=True)
    width = np.int64(u.size + 1)
    order = np.argsort(pos, kind="stable")
    key = pos[order] * width + rank.reshape(-1)[order] + 1
    before = np.empty_like(key)
    before[:1] = -1
    np.maximum.accumulate(key[:-1], out=before[1:])  # earlier rows' newest key (other shelters' are smaller)
    newer = np.empty(pos.size, dtype=bool)
    newer[order] = key > before
    return newer & (counted_at > held[pos])
