"""The disaster's reads on the fast engine, answered after the loop from histories, as columns.

Three things the SimPy model does on its clock only read the state and feed nothing back into
what the loop decides: the HQ's head-count reports (they set the HQ's view and log
HeadcountReported), the HQ columns of the sampler's series (the HQ's view against the truth),
and the families' look-ups (they set `found_at` and log FamilyLookup). Nothing in the loop reads
the HQ's state, `found_at` or the look-up log (`lookups_started` is set at registration, in the
loop). So the fast engine keeps histories while it runs (the shelter system's counts and records
in `ShelterNetwork.history()`, the truth of who is physically where in `FastDisasterModel`'s
`first_moves` and `moves`, the sampler's live values, the look-ups started in
`FastDisasterModel.asks`) and answers the
reads afterwards through the twin's column calls: `DisasterHQ.receive_columns` and
`FamilyDirectory.locate_columns`.

Times are SimPy's: each report and each look-up is at `previous + step` from its start, as a
process's successive timeouts are. A read at time t sees every change at or before t: changes at
the very instant of a read are measure-zero (continuous draws) except a look-up started at a
registration, which SimPy runs after that step (the registration and the group's other check-ins
are seen), and the sampler, which stays on the loop's clock (its order with the hourly paper
entry is kept as it is). One difference in what is logged: the events come in after the loop's
own, per kind, so the event log's order differs; its contents and counts do not.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np

from scenarios.disaster_calls import LOOKUP_BACKOFF, LOOKUP_MAX_WAIT_S
from twin.services.headcount import accuracy_of, views_at
from twin.services.shelter_history import AsOfIndex, ShelterHistory


def report_times(phases: list[float], step: float, until: float) -> tuple[np.ndarray, np.ndarray]:
    """Every report before `until` as (shelter index, time), in time order: shelter s reports at
    0.0 + phase * step, then each time `previous + step`."""
    n = len(phases)
    k = int(until // step) + 2
    steps = np.full((n, k), step)
    steps[:, 0] = 0.0 + np.asarray(phases, dtype=np.float64) * step
    times = np.add.accumulate(steps, axis=1)  # sequential sums: SimPy's now + step, report by report
    s = np.repeat(np.arange(n), k)
    times = times.reshape(-1)
    keep = times < until
    s, times = s[keep], times[keep]
    order = np.lexsort((s, times))
    return s[order], times[order]


def hq_reports(m: Any, history: ShelterHistory, phases: list[float], until: float) -> dict[str, np.ndarray]:
    """Every shelter's reports to the HQ, counted from the history and received as columns.

    Returns the report columns (shelter index, loop time, count, counted_at) and which were taken."""
    step = m.p.hq_report_interval_min * 60.0
    s, at = report_times(phases, step, until)
    now = m.t0 + at
    count, identified = history.counts_at(s, now)
    taken = m.safety.hq.receive_columns(m.net.facility_ids[s], count, identified, now, now)
    return {"shelter": s, "at": at, "count": count, "counted_at": now, "taken": taken}


def series_rows(m: Any, samples: list[tuple], reports: dict[str, np.ndarray]) -> list[dict]:
    """The sampler's rows: its live values with the HQ's view at each sample's time."""
    if not samples:
        return []
    times = np.array([row[0] for row in samples], dtype=np.float64)
    count, when = views_at(reports["shelter"], reports["count"], reports["counted_at"], reports["at"],
                           reports["taken"], len(m.fids), times)
    rows = []
    for i, (at, arrived, present, known, desk, waiting, registered) in enumerate(samples):
        acc = accuracy_of(count[i], when[i], np.asarray(present, dtype=np.int64), m.t0 + at)
        rows.append({"hours": at / 3600.0, "arrived": arrived, "true_present": acc.true_total,
                     "hq_total": acc.reported_total, "hq_abs_error": acc.abs_error,
                     "hq_relative_error": acc.relative_error,
                     "hq_mean_age_min": acc.mean_age_s / 60.0, "unreported": acc.unreported,
                     "identified": known, "desk_count": desk, "waiting": waiting,
                     "registered_share": registered / arrived if arrived else 0.0})
    return rows


class Truth:
    """Who is physically at which shelter at any time, from the model's notes of moves: the planned
    first arrivals as columns (when, who, where), then the run's moves in the order made."""

    __slots__ = ("_index", "_where")

    def __init__(self, moves: list[tuple[float, list[int], int]],
                 first: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        at_each, who, self._where = first if first is not None else (np.zeros(0), np.zeros(0, np.int64),
                                                                      np.zeros(0, np.int64))
        if moves:
            at, people, where = zip(*moves, strict=True)
            sizes = np.fromiter(map(len, people), np.int64, len(people))
            who = np.r_[who, np.fromiter(chain.from_iterable(people), np.int64, int(sizes.sum()))]
            at_each = np.r_[at_each, np.repeat(np.asarray(at, dtype=np.float64), sizes)]
            self._where = np.r_[self._where, np.repeat(np.asarray(where, dtype=np.int64), sizes)]
        self._index = AsOfIndex(who, at_each)

    def at(self, people: np.ndarray, times: np.ndarray) -> np.ndarray:
        """The shelter index each person is at at each time (-1: none)."""
        i = self._index.find(people, times)
        return np.where(i >= 0, self._where[np.maximum(i, 0)], -1) if self._where.size else np.full(i.size, -1)


def family_lookups(m: Any, history: ShelterHistory, until: float) -> int:
    """Answer every household's look-ups, round by round; sets `found_at`; returns how many look-ups
    were made (one per asker and round, as the SimPy model's calls).

    Each asker asks at the registration instant t, then at t + w, then + 1.5 w ... (at most every
    LOOKUP_MAX_WAIT_S), each time only for the members neither on the asker's floor (the truth at
    that time) nor recorded by the shelter system (its records at that time), until none is
    missing or the horizon."""
    asks = m.asks
    if not asks:
        return 0
    truth = Truth(m.moves, m.first_moves)
    n = len(asks)
    when, household, who, idents = zip(*asks, strict=True)
    t = np.asarray(when, dtype=np.float64)
    asker = np.asarray(who, dtype=np.int64)
    household_of = np.asarray(household, dtype=np.int64)
    askers = m.safety.family.askers(idents)  # each asker checked once for every round
    wait = np.full(n, m.p.lookup_retry_min * 60.0)
    pi, px = _pairs(m, household_of)  # (look-up, member) pairs, the asker left out
    other = px != asker[pi]
    pi, px = pi[other], px[other]
    resident = np.asarray(m.ev.member_resident, dtype=np.int64)
    live = t < until
    calls = 0
    while live.any():
        calls += int(live.sum())
        keep = live[pi]
        pi, px = pi[keep], px[keep]
        order = np.argsort(t[pi], kind="stable")  # in time order (an asker's members stay in order)
        pi, px = pi[order], px[order]
        tp = t[pi]
        here = np.full(n, -1, dtype=np.int64)  # each live asker's floor, once per look-up
        here[live] = truth.at(asker[live], t[live])
        here = here[pi]
        ask = ~((here >= 0) & (truth.at(px, tp) == here))
        ai, ax = pi[ask], px[ask]
        got = m.safety.family.locate_columns(askers, ai, resident[ax], m.t0 + t[ai], history)
        if not got["allowed"].all():  # every asker is MEDIUM or above and asks only their own
            raise RuntimeError(f"a family look-up of the run was refused: {got['reason'][~got['allowed']][0]}")
        gone = got["shelter_id"] < 0
        missing = np.zeros(n, dtype=bool)
        missing[ai[gone]] = True
        done = live & ~missing
        m.found_at.update(zip(household_of[done].tolist(), t[done].tolist(), strict=True))
        live &= missing
        pi, px = ai[gone], ax[gone]
        t = np.where(live, t + wait, t)
        wait = np.where(live, np.minimum(wait * LOOKUP_BACKOFF, LOOKUP_MAX_WAIT_S), wait)
        live &= t < until
    return calls


def _pairs(m: Any, households: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(look-up, member) for every member of each look-up's household (`members_of`, as columns)."""
    keys, bounds, order = m.household_members
    pos = np.searchsorted(keys, households)
    if not (pos < keys.size).all() or not np.array_equal(keys[np.minimum(pos, keys.size - 1)], households):
        raise RuntimeError("a household looked up is not one whose members arrived apart")
    start, sizes = bounds[pos], bounds[pos + 1] - bounds[pos]
    pi = np.repeat(np.arange(households.size), sizes)
    return pi, order[np.repeat(start, sizes) + np.arange(pi.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)]
