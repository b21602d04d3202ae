"""The disaster check-in on the fast engine: the SimPy model's rules, without SimPy processes.

`FastDisasterModel` is `DisasterModel` (same state, same calls into the twin's shelter, face-check
and family services, same random draws in the same order) with its engine hooks replaced. The
arrivals are known before the run, so they are planned: every member's arrival time and shelter
are set up front, and every group's first desk visits are seated desk by desk in one pass
(`first_visits`, `desk_plan`), their finishes fed to `Loop` in time order. What happens during
the run (a redirected group reaching another shelter, a refused card holder sent to the paper
desk) joins its desk late, re-seating the planned visits it delays; other delayed calls go on
the loop's calendar. Every simulated time is computed with the same floating-point operations as
SimPy computes it, and calls at one instant run in SimPy's order, with one exception: a planned
finish and another call at the very same float time (SimPy runs the one scheduled first; the
loop runs the calendar's call first). Desk times and walks are continuous draws, so such a tie
has probability zero, and the two engines decide the same outcomes
(tests/fast/test_disaster_engines.py).
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np

from scenarios.disaster_calls import NOT_YET, REGISTERED
from scenarios.disaster_sim import MAX_REDIRECTS, DisasterModel
from scenarios.evacuation import CARD, PAPER
from scenarios.fast.desk_plan import PlannedDesk
from scenarios.fast.first_runs import FirstRuns, note_moved
from scenarios.fast.first_visits import FirstVisits, arrival_clock
from scenarios.fast.loop import Loop
from scenarios.streams import Streams
from twin.identity import Identity
from twin.services.shelter_outcomes import FULL, NO_ROOM, REFUSED
from twin.sorted_search import stable_order


class FastDisasterModel(DisasterModel):
    """DisasterModel with desks, delays and look-ups on the fast engine's loop."""

    def __init__(self, loop: Loop, p: Any, ev: Any, safety: Any, face_desk: Any,
                 streams: Streams, t0: float, load: Any = None) -> None:
        self.loop = loop
        self.asks: list[tuple[float, int, int, Identity]] = []  # (when, household, asker, identity)
        self.moves: list[tuple[float, list[int], int]] = []  # (when, people, shelter or -1)
        self.first_moves = (np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64))  # planned: (when, who, where)
        self.stale = 0  # planned finishes a late joiner moved (their old calls skip)
        self.run_rows: tuple = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0), [], [], [])  # `settle_runs`
        self.skips: list[int] = []  # their positions in the feed, sorted (`first_runs.note_moved`)
        super().__init__(loop, p, ev, safety, face_desk, streams, t0, load)
        self._traced = self._look_up_people()

    def _point(self, servers: int, name: str) -> PlannedDesk:
        """A desk whose first visits are seated before the run (`desk_plan`)."""
        return PlannedDesk(servers, name)

    def _later(self, delay: float, fn: Any, *args: Any) -> None:
        """Call fn(*args) after `delay` (at now + delay, as SimPy's timeout)."""
        self.loop.at(self.loop.now + delay, fn, *args)

    def _start_lookup(self, h: int, asker: int, ident: Identity) -> None:
        """Note the household's first look-up (now); the look-ups are answered after the loop
        (`disaster_reads.family_lookups`: they decide nothing the loop reads)."""
        self.asks.append((self.loop.now, h, asker, ident))

    def _moved(self, members: list[int], s: int) -> None:
        """Note where people of apart households physically are from now (the look-ups' truth)."""
        if self._traced[members[0]]:
            self.moves.append((self.loop.now, members, s))

    def _look_up_people(self) -> list[bool]:
        """Per person, whether their moves matter to look-ups (a member of an apart household, when
        families look up).

        An arrival group is one household (one group per household together, one per person
        apart), so any part of it is all in or all out; checked here, all kept if it were not."""
        ev = self.ev
        if not self.p.family_lookup:
            return self.looks_up
        sizes = np.diff(ev.group_start)
        if not np.array_equal(ev.member_household, np.repeat(ev.group_household, sizes)):
            return [True] * ev.people
        return self.looks_up

    # ---- arrivals, desks and redirects as callbacks -------------------------------------------
    def schedule_arrivals(self) -> None:
        """Plan every group within the horizon at SimPy's arrival times: what their arrivals set
        (when and where each member arrived, `arrived` and `here`: nothing the loop reads changes
        them before the arrival; the counts the sampler reads over time, `present` and
        `n_arrived`, are the loop's other moves plus these: `complete_samples`), and their first
        desk visits, seated per desk before the run (`desk_plan`) with their finishes on the loop."""
        times = arrival_clock(self.ev.group_arrival_s, self.p.horizon_h * 3600.0)
        starts = self.ev.group_start
        sizes = np.diff(starts[:times.size + 1])
        arrived = np.repeat(times, sizes)
        shelter = np.repeat(self.ev.group_shelter[:times.size], sizes)
        np.frombuffer(self.arrived, dtype=np.float64)[:arrived.size] = arrived  # (in place)
        self.here[:arrived.size] = shelter.tolist()
        self.first_arrivals = (arrived, shelter)
        self.groups_arrived = times.size
        self._plan_first_visits(times, sizes)

    def _plan_first_visits(self, times: np.ndarray, sizes: np.ndarray) -> None:
        """Seat every group's first desk visits (`first_visits`, `desk_plan`) and put their
        finishes on the loop (`_first_served`), in joining order. `sizes`: each group's members."""
        arrived, shelter = self.first_arrivals  # the look-ups' truth: apart households' arrivals
        traced = np.repeat(np.asarray(self._traced, dtype=bool)[self.ev.group_start[:times.size]], sizes)
        self.first_moves = (arrived[traced], np.flatnonzero(traced), shelter[traced])
        desks = self.desks()
        parts = FirstVisits(self, times.size, desks)
        finish = parts.plan(desks, times)
        self._finish = finish.tolist()
        self._parts, self._arrival = parts, times  # a part's visit, when asked (`_visit`)
        order = stable_order(finish)  # equal finishes: in joining order
        self._fed = order.tolist()
        runs = FirstRuns(self, order, finish, parts, times)  # (held by the loop only: no cycle)
        self._fed_at = runs.times
        self.loop.feed_runs(runs.times, runs.serve)

    def desks(self) -> list[PlannedDesk]:
        """Every desk: paper, readers, face checks."""
        return [*self.paper, *self.readers, *self.face.values()]

    def _first_served(self, p: int) -> None:
        """Planned first visit p is done, if it is due now (a late joiner only delays a visit: a
        call at a finish it had before is skipped)."""
        if self._finish[p] != self.loop.now:
            self.stale += 1
            return
        g, how, s, t, total, a, size, members = self._visit(p)
        if size == 1:  # one person: the desk time is theirs (`desk_times`, as planned)
            self._served_one(g, a, s, how, 0, t, total)
            return
        if members is None:  # consecutive members (`FirstVisits.members`)
            members = list(range(a, a + size))
        self._served(g, members, s, how, 0, t, total, self.desk_times(members, how, s))

    def _visit(self, p: int) -> tuple[int, int, int, float, float, int, int, list[int] | None]:
        """Planned part p: group, method, shelter, arrival, desk time, first member, size, and its
        members if they are not consecutive (`FirstVisits.members`)."""
        parts = self._parts
        g = int(parts.group[p])
        return (g, parts.method[p], parts.shelter[p], float(self._arrival[g]), float(parts.total[p]),
                parts.head[p], parts.size[p], parts.members.get(p))

    def _queue(self, g: int, members: list[int], s: int, method: int, hop: int) -> None:
        """Join the desk now (after a redirect, or sent to paper); the service's decisions come at
        the finish. Planned visits whose finish this moves are put on the loop again."""
        d = self.desk_times(members, method, s)
        total = sum(d)
        loop = self.loop
        now = loop.now
        desk = self.desk_of[method][s]
        end, moved = desk.join(now, total)
        if len(members) == 1:
            loop.at(end, self._served_one, g, members[0], s, method, hop, now, total)
        else:
            loop.at(end, self._served, g, members, s, method, hop, now, total, d)
        for j in moved:
            p = desk.part[j]
            note_moved(self.skips, self._fed_at, self._fed, p, self._finish[p])
            self._finish[p] = desk.finished[j]
            loop.at(desk.finished[j], self._first_served, p)

    def settle_runs(self) -> None:
        """Write the status, registration time and wait of everyone the runs registered (`first_runs`:
        nothing reads them during the loop; a departure since is kept)."""
        member, wait, done, firsts, ends, turned = self.run_rows
        mark = np.zeros(member.size + 1, np.int64)
        np.add.at(mark, np.asarray(firsts, np.int64), 1)
        np.add.at(mark, np.asarray(ends, np.int64), -1)
        rows = np.cumsum(mark[:-1]) > 0
        rows[np.asarray(turned, np.int64)] = False
        who = member[rows]
        np.frombuffer(self.registered, dtype=np.float64)[who] = done[rows]  # (in place)
        np.frombuffer(self.waited, dtype=np.float64)[who] = wait[rows]
        status = self.status
        for x in who.tolist():
            if status[x] == NOT_YET:  # (LEFT since: kept)
                status[x] = REGISTERED

    def desk_visits(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Every desk's visits (`PlannedDesk.visits`) as two columns, desk after desk (`desks`): when
        each joined and finished; and where each desk's begin (and the last one's end)."""
        visits = [d.visits() for d in self.desks()]
        bounds = np.cumsum([0, *(len(j) for j, _ in visits)]).tolist()
        joined, finished = (np.fromiter(chain.from_iterable(c), np.float64, bounds[-1])
                            for c in zip(*visits, strict=True)) if visits else (np.zeros(0), np.zeros(0))
        return joined, finished, bounds

    def complete_samples(self, samples: list[tuple], visits: tuple[np.ndarray, np.ndarray, list[int]]
                         ) -> list[tuple]:
        """The samples with the first arrivals before each one's time added to its arrived and
        present counts (a sample at an arrival's instant runs first, as the loop runs them) and
        the groups at desks (joined before, not finished before; `visits`: `desk_visits()`); the
        model's counts with every arrival."""
        arrived, shelter = self.first_arrivals
        joined, finished = np.sort(visits[0]), np.sort(visits[1])
        n_s, done, present = len(self.present), 0, np.zeros(len(self.present), dtype=np.int64)
        out = []
        for at, _arrived, moved, known, desk, _waiting, registered in samples:
            upto = int(np.searchsorted(arrived, at, side="left"))
            present += np.bincount(shelter[done:upto], minlength=n_s)
            done = upto
            waiting = int(np.searchsorted(joined, at, side="left") - np.searchsorted(finished, at, side="left"))
            out.append((at, upto, (present + moved).tolist(), known, desk, waiting, registered))
        self.present = (np.bincount(shelter, minlength=n_s) + np.asarray(self.present, dtype=np.int64)).tolist()
        self.n_arrived = int(arrived.size)
        return out

    def _served_one(self, g: int, m: int, s: int, method: int, hop: int, queued: float,
                    total: float) -> None:
        """`_served` for a part of one person (most parts), without the per-part lists."""
        now = self.loop.now
        start = now - total
        w = self.waited[m]
        self.waited[m] = (0.0 if w != w else w) + start - queued  # as `desk_done` adds it
        at = self.t0 + now
        if method == CARD:
            readers = self.reader_ids[s]
            out, target = self.net.tap_code(readers[m % len(readers)], self.serial[m], at)
            if out != REFUSED:  # the card identified them (Identity made when asked)
                self.card_tapped[m] = at
        elif method == PAPER:
            out, target = self.net.paper_code(s, self.resident[m], at, self.paper_rng)
        else:
            (out,), target = self._check_in_part([m], s, method, at)
        if out != REFUSED and out != FULL and out != NO_ROOM:
            self._registered(m, method, start + total)
            return
        self._turned_away(g, [m], [out], s, method, hop, target)

    def _served(self, g: int, members: list[int], s: int, method: int, hop: int,
                queued: float, total: float, d: list[float]) -> None:
        """The desk finished the group: record waits, check in, redirect or fall back to paper."""
        done = self.desk_done(members, d, self.loop.now - total, queued)
        outs, target = self._check_in_part(members, s, method, self.t0 + self.loop.now)
        for m, out, t in zip(members, outs, done, strict=True):
            if out != REFUSED and out != FULL and out != NO_ROOM:
                self._registered(m, method, t)
        self._turned_away(g, members, outs, s, method, hop, target)

    def _turned_away(self, g: int, members: list[int], outs: list[int], s: int, method: int, hop: int,
                     target: int) -> None:
        """Members the desk refused go to the paper desk; those it found no room for walk to the
        redirect (or leave without a place)."""
        paper = [m for m, out in zip(members, outs, strict=True) if out == REFUSED]
        full = [m for m, out in zip(members, outs, strict=True) if out == FULL or out == NO_ROOM]
        loop = self.loop
        now = loop.now
        if paper:
            loop.at(now, self._queue, g, paper, s, PAPER, 0)
        if not full:
            return
        if target < 0:
            self._no_room(full)
            return
        self.present[s] -= len(full)
        for m in full:
            self.here[m] = -1
            self.redirects[m] += 1
        self._moved(full, -1)
        km = float(np.hypot(*(self.xy[target] - self.xy[s])))
        loop.at(now + km / self.p.walk_speed_kmh * 3600.0, self._walked, g, full, target, method, hop)

    def _check_in_part(self, members: list[int], s: int, method: int, now: float
                       ) -> tuple[list[int], int]:
        """The service checks a group's part in at one desk: outcome codes and the first redirect."""
        if method == CARD:
            readers = self.reader_ids[s]
            k = len(readers)
            serial = self.serial
            outs, target = self.net.tap_part([readers[m % k] for m in members],
                                             [serial[m] for m in members], now)
            tapped = self.card_tapped
            for m, out in zip(members, outs, strict=True):
                if out != REFUSED:  # the card identified them (Identity made when asked)
                    tapped[m] = now
            return outs, target
        if method == PAPER:
            resident = self.resident
            return self.net.paper_part(s, [resident[m] for m in members], now, self.paper_rng)
        outs, target, fid = [], -1, self.fids[s]
        for m in members:  # face checks: a few thousand a run, one at a time
            res = self._one(m, s, fid, method, now)
            if res is None:
                outs.append(REFUSED)
                continue
            outs.append(int(res.outcome))
            if res.redirect_to is not None and target < 0:
                target = self.net.shelter_index(res.redirect_to)
        return outs, target

    def _walked(self, g: int, members: list[int], s: int, method: int, hop: int) -> None:
        """Redirected people reach the next shelter and queue again (at most MAX_REDIRECTS)."""
        self._arrive(members, s)
        if hop < MAX_REDIRECTS:
            self._queue(g, members, s, method, hop + 1)

    def close_desks(self, until: float, visits: tuple[np.ndarray, np.ndarray, list[int]]) -> None:
        """Each desk notes the span of its services finished by the horizon (SimPy records a
        service at its finish); `visits`: `desk_visits()`."""
        joined, finished, bounds = visits
        for desk, a, b in zip(self.desks(), bounds[:-1], bounds[1:], strict=True):
            desk.close(until, (joined[a:b], finished[a:b]))
