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
        err = int(np.abs(self.count - true).sum())
        tot = int(true.sum())
        seen = np.isfinite(self.counted_at)
        ages = t - self.counted_at[seen]
        return HeadcountAccuracy(t, self.total(), tot, err, err / tot if tot else float(err > 0),
                                 float(ages.mean()) if ages.size else float("inf"),
                                 float(ages.max()) if ages.size else float("inf"), int((~seen).sum()))
