"""Planned first visits served in runs: one service call and one loop for many visits.

Between two calendar calls the loop hands the model every planned finish (`Loop.feed_runs`).
`FirstRuns.serve` takes the longest run of card and paper visits from there that nothing can
interrupt (each due at its planned finish, before the calendar's next call and before any
departure a visit of the run schedules), checks their people in with one call
(`ShelterNetwork.check_in_run`, `twin/services/shelter_run.py`: it stops at the first outcome
the model must react to), finishes that visit's part with the per-part call, and keeps each
person's records as `_served`, `_served_one` and `_registered` keep them, with the same float
operations (the status, registration time and wait of those registered, which nothing reads
during the loop, are written after it in one pass: `FastDisasterModel.settle_runs`). A face
check or a moved finish takes the per-visit path (`_first_served`).
"""

from __future__ import annotations

import sys
from bisect import bisect_left
from typing import Any

import numpy as np

from scenarios.evacuation import CARD, FACE, PAPER
from twin.services.shelter_outcomes import FULL, NO_ROOM, REFUSED

TURNED = frozenset((REFUSED, FULL, NO_ROOM))  # outcomes that send a person on (paper, another shelter)
# the runs' usual rows are checked in by compiled code (`shelter_run_kernel`) once numba is loaded,
# or when a day plans this many first-visit rows: loading numba costs ~1 s per process and the
# compiled rows save ~1 us each (small runs, the tests' CLI processes, stay on the Python loop)
COMPILED_FROM = 300_000


class FirstRuns:
    """The planned visits in the feed's order (by position) and their people (by row), as lists."""

    __slots__ = ("model", "times", "row0", "face", "dstop", "moved", "card", "at", "member", "wait", "due",
                 "spans", "cols", "compiled", "lists")

    def __init__(self, model: Any, order: np.ndarray, finish: np.ndarray, parts: Any,
                 arrived: np.ndarray) -> None:
        """`order`: the parts in order of finish; `finish`: each part's planned finish; `parts`:
        the `FirstVisits`; `arrived`: each group's arrival time."""
        self.model = model
        ev = model.ev
        how = np.asarray(parts.method, dtype=np.int64)[order]
        size = np.asarray(parts.size, dtype=np.int64)[order]
        t = finish[order]
        self.times = t.tolist()
        row0 = np.zeros(order.size + 1, np.int64)
        np.cumsum(size, out=row0[1:])
        self.row0 = row0.tolist()
        self.face = np.flatnonzero(how == FACE).tolist()  # positions of face checks
        self.moved: list[int] = model.skips  # positions whose part a late joiner moved (`note_moved`)
        # rows: each part's members in order, parts in the feed's order
        pos = np.repeat(np.arange(order.size), size)
        r = np.repeat(parts.start[order] - row0[:-1], size) + np.arange(int(row0[-1]))
        member, d = parts.people[r], parts.d[r]
        now = t[pos]
        first = row0[:-1][size > 0]
        wstart = np.empty(member.size)
        wstart[first] = (t - parts.total[order])[size > 0]  # as `now - total`
        later = np.flatnonzero(np.repeat(size > 1, size))  # rows of parts of several people
        later = later[r[later] != np.repeat(parts.start[order], size)[later]]  # but their first
        k = r[later] - np.repeat(parts.start[order], size)[later]  # each one's place in its part
        by_place = later[np.argsort(k, kind="stable")]
        bounds = np.searchsorted(np.sort(k), np.arange(1, int(size.max()) + 1 if size.size else 1))
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):  # as `desk_done`: t += d
            at_k = by_place[a:b]
            wstart[at_k] = wstart[at_k - 1] + d[at_k - 1]
        # a first visit's waits: `desk_done` adds (0.0 if w != w else w) + start - queued to a NaN w
        wait = (0.0 + wstart) - arrived[parts.group[order]][pos]
        self.wait = wait  # (read only for people turned away: few)
        # who the runs registered, when, and their waits: written after the loop (`settle_runs`);
        # each run's first and end row, and the rows of people it turned away
        model.run_rows = (member, wait, wstart + d, [], [], [])
        self.spans = model.run_rows[3:]
        card = how[pos] == CARD
        shelter = np.asarray(parts.shelter, dtype=np.int64)[order][pos]
        counts = np.array([len(x) for x in model.reader_ids], dtype=np.int64)
        flat = np.array([x for xs in model.reader_ids for x in xs] or [-1], dtype=np.int64)
        pick = (np.cumsum(counts) - counts)[shelter] + member % np.maximum(counts[shelter], 1)
        reader = np.where(counts[shelter] > 0, flat[np.minimum(pick, flat.size - 1)], -1)  # readers[m % k]
        where = np.where(card, reader, shelter).astype(np.int64)
        who = np.where(card, ev.member_serial[member], ev.member_resident[member]).astype(np.int64)
        at = model.t0 + now  # as `t0 + now`
        holders_of = getattr(model.net.resolver, "holders_of", None)  # (a serial index: its holders at once)
        self.compiled = compiled_for(member.size)
        holders = None
        if holders_of is not None and self.compiled:
            holders = np.full(who.size, -1, dtype=np.int64)
            held = model.card_holders  # (looked up with the model: a person without a card has -1)
            holders[card] = holders_of(who[card]) if held is None else held[member[card]]
        self.cols = (card, where, who, at, holders)  # (for the service's compiled rows and the per-part calls)
        self.card, self.at = card.tolist(), at.tolist()
        # (the Python loop's columns: lists, as it reads them)
        self.lists = None if self.compiled else (self.card, where.tolist(), who.tolist(), self.at)
        self.member = member.tolist()
        leave = now + model.stay[member]  # as `_registered`: at now + (leave - now), if before the horizon
        due = np.where(leave < model.horizon_s, now + (leave - now), np.nan)
        self.due = due.tolist()  # NaN: no departure within the horizon
        # per position: the first later position a departure of its people comes at or before
        soonest = np.minimum.reduceat(np.where(due == due, due, np.inf), row0[:-1]) if due.size else due
        self.dstop = np.maximum(np.arange(1, order.size + 1), np.searchsorted(t, soonest, "left")).tolist()

    def serve(self, i: int, bound: float) -> int:
        """Serve the fed visits from i on (see the module); the index of the first one not served."""
        m, times = self.model, self.times
        e = bisect_left(times, bound, i)
        moved = self.moved
        k = bisect_left(moved, i)
        if k < len(moved) and moved[k] < e:
            e = moved[k]
        face = self.face
        k = bisect_left(face, i)
        if k < len(face) and face[k] < e:
            e = face[k]
        if e > i:
            dstop = self.dstop
            while (s := min(dstop[i:e])) < e:  # a departure due before a later visit of the run
                e = s
        if e == i:  # a face check or a moved finish: the per-visit path
            m._first_served(m._fed[i])
            return i + 1
        row0 = self.row0
        a, b = row0[i], row0[e]
        card, where, who, at, holders = self.cols
        if self.lists is None:
            outs, target = m.net.check_in_run(card[a:b], where[a:b], who[a:b], at[a:b], m.paper_rng,
                                              None if holders is None else holders[a:b])
        else:
            outs, target = m.net.check_in_run(*(c[a:b] for c in self.lists), m.paper_rng, compiled=False)
        done = len(outs)
        if done == b - a and not (done and outs[-1] in (REFUSED, FULL, NO_ROOM)):
            self._keep(i, e, outs, -1)
            m.loop.now = times[e - 1]
            return e
        # the last part touched: finished with the per-part call, then the run ends after it
        last = a + done - 1 if done and outs[-1] in (REFUSED, FULL, NO_ROOM) else a + done
        p = bisect_left(row0, last + 1, i, e + 1) - 1
        m.loop.now = times[p]
        c, z = a + done, row0[p + 1]
        if c < z:  # the part's other people: the per-part call
            now, net = self.at[c], m.net
            if self.card[c]:
                more, also = net.tap_part(where[c:z].tolist(), who[c:z].tolist(), now)
            else:
                more, also = net.paper_part(where.item(c), who[c:z].tolist(), now, m.paper_rng)
            if not (done and outs[-1] == FULL):
                target = also
            outs = outs + more
        self._keep(i, p + 1, outs, target)
        return p + 1

    def _keep(self, i: int, e: int, outs: list[int], target: int) -> None:
        """Keep the records of the people of positions i to e - 1 (`outs`: their outcome codes; the
        last position's people may be turned away, to `target`)."""
        m = self.model
        loop, row0 = m.loop, self.row0
        member, wait, at, card, due = self.member, self.wait, self.at, self.card, self.due
        waited, tapped, method_of = m.waited, m.card_tapped, m.final_method
        admitted, looks_up, later, leave = m.card_admitted, m.looks_up, loop.at, m._leave
        household, started = m.household, m.lookups_started
        a, z = row0[i], row0[e]
        firsts, ends, turned = self.spans
        firsts.append(a)
        ends.append(z)
        admit, times = admitted.append, self.times
        b = row0[e - 1]
        last = outs[b - a:]
        turn = any(out in TURNED for out in last)  # (only the run's last part: the service stops there)
        y = b if turn else z
        for r, x, c, d, t in zip(range(a, y), member[a:y], card[a:y], due[a:y], at[a:y], strict=True):
            if c:
                tapped[x] = t
                method_of[x] = CARD
                admit(x)
                if d == d:  # a departure before the horizon
                    later(d, leave, x)
                # look-ups start with a medium identity: a card (a first visit's paper form gives none)
                if looks_up[x] and household[x] not in started:
                    loop.now = times[bisect_left(row0, r + 1, i, e + 1) - 1]
                    m._look_up(x)
            else:
                method_of[x] = PAPER
                if d == d:
                    later(d, leave, x)
        n_out = 0
        for r, out in zip(range(y, z), outs[y - a:], strict=True):  # the last part, if it turned some away
            x = member[r]
            if out in TURNED:
                waited[x] = wait[r]  # (they queue again: their wait adds up from here)
                turned.append(r)
                n_out += 1
                if out != REFUSED and card[r]:  # the card identified them
                    tapped[x] = at[r]
                continue
            if c := card[r]:
                tapped[x] = at[r]
                method_of[x] = CARD
                admit(x)
            else:
                method_of[x] = PAPER
            if (d := due[r]) == d:
                later(d, leave, x)
            if c and looks_up[x] and household[x] not in started:
                loop.now = times[e - 1]
                m._look_up(x)
        m.n_registered += z - a - n_out
        if turn:
            p = e - 1
            loop.now = self.times[p]
            g = int(m._parts.group[m._fed[p]])
            m._turned_away(g, member[b:z], last, m.group_shelter[g], CARD if card[b] else PAPER, 0, target)


def compiled_for(rows: int) -> bool:
    """Whether a day of `rows` planned first-visit rows checks its runs' usual rows in compiled
    (see `COMPILED_FROM`; the outcomes are the same either way)."""
    return "numba" in sys.modules or rows >= COMPILED_FROM


def note_moved(moved: list[int], times: list[float], fed: list[int], part: int, was: float) -> None:
    """A late joiner moves the finish of planned part `part` from `was`: its position in the feed
    (`times`, `fed`) joins the sorted `moved` (once, at the first move), so its fed call skips."""
    j = bisect_left(times, was)
    while j < len(times) and times[j] == was:
        if fed[j] == part:
            k = bisect_left(moved, j)
            if k == len(moved) or moved[k] != j:
                moved.insert(k, j)
            return
        j += 1
