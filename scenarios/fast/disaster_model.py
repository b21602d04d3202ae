"""The disaster check-in on the fast engine: the SimPy model's rules, without SimPy processes.

`FastDisasterModel` is `DisasterModel` (same state, same calls into the twin's shelter, face-check
and family services, same random draws in the same order) with its three engine hooks replaced:
desks are `FastDesk`s (the kernel's online FIFO stage: a group's start and finish are known when
it joins the line), delayed calls go on `Loop`'s heap, and a group's path through desks,
redirects and paper fallbacks is a chain of callbacks instead of a SimPy process. Every
simulated time is computed with the same floating-point operations as SimPy computes it
(`now + delay`), and calls at one instant run in SimPy's order, so the two engines decide the
same outcomes (tests/fast/test_disaster_engines.py).
"""

from __future__ import annotations

import heapq
from bisect import insort
from collections.abc import Callable
from itertools import chain
from typing import Any

import numpy as np

from scenarios.disaster_sim import MAX_REDIRECTS, DisasterModel
from scenarios.evacuation import CARD, PAPER
from scenarios.fast.kernel import FifoSeats
from scenarios.streams import Streams
from twin.identity import Identity
from twin.services.shelter_outcomes import FULL, NO_ROOM, REFUSED


class Loop:
    """A minimal event loop: calls at times, in time order, equal times first scheduled first.

    Times wait in a calendar of buckets (`width` seconds of simulated time each): a later bucket
    is an unsorted list, sorted once when the loop reaches it; a time for the current bucket is
    put in place (bisect, a C-level insert into a short list). A run of ~1M calls with ~100k
    departures pending spends far less on this than on a binary heap of all pending times. The
    calls due at a time wait in a list in the order they were scheduled. A call made for the time
    being run goes to a new list for that time, run when the current one is done: the order SimPy
    gives (equal times, first scheduled first)."""

    __slots__ = ("now", "_due", "events", "finishes", "_pending", "_feed", "_inv", "_cur", "_pos",
                 "_bucket", "_later", "_buckets")

    def __init__(self, width: float = 60.0) -> None:
        if not width > 0:
            raise ValueError(f"a calendar bucket must be a positive time, got {width!r}")
        self.now = 0.0
        self._due: dict[float, list[tuple[Callable[..., None], tuple]]] = {}
        self.events = 0
        self.finishes: list[float] = []  # when each group that joined a desk since the last count leaves it
        self._pending = np.zeros(0)  # finishes counted before, not yet past
        self._feed: tuple[list[float], Callable[[int], None]] = ([], lambda i: None)
        self._inv = 1.0 / width
        self._cur: list[float] = []  # the current bucket's times, sorted; run up to _pos
        self._pos = 0
        self._bucket = 0
        self._later: dict[int, list[float]] = {}  # later buckets' times, unsorted
        self._buckets: list[int] = []  # heap of the later buckets' numbers

    def at(self, t: float, fn: Callable[..., None], *args: Any) -> None:
        """Call fn(*args) at time t."""
        due = self._due.get(t)
        if due is not None:
            due.append((fn, args))
            return
        self._due[t] = [(fn, args)]
        b = int(t * self._inv)
        if b <= self._bucket:
            insort(self._cur, t, self._pos)
            return
        later = self._later.get(b)
        if later is None:
            self._later[b] = [t]
            heapq.heappush(self._buckets, b)
        else:
            later.append(t)

    def feed(self, times: list[float], fn: Callable[[int], None]) -> None:
        """Call fn(i) at times[i] (ascending), beside the calendar: the many arrivals stay off it.

        At a time with both, the calendar's calls come first (as SimPy runs them)."""
        self._feed = (times, fn)

    def run(self, until: float) -> None:
        """Run every call before `until`, then stand at `until` (as SimPy's run(until))."""
        due, later, buckets, pop = self._due, self._later, self._buckets, heapq.heappop
        times, call = self._feed
        i, n, inf = 0, len(times), float("inf")
        nxt = times[0] if n else inf
        cur, pos = self._cur, self._pos
        events = self.events
        while True:
            if pos < len(cur):
                t = cur[pos]
            elif buckets:
                b = pop(buckets)
                cur = self._cur = sorted(later.pop(b))
                pos = self._pos = 0
                self._bucket = b
                t = cur[0]
            else:
                t = inf
            if t <= nxt:
                if t >= until:
                    break
                pos += 1
                self._pos = pos
                calls = due.pop(t)
                self.now = t
                events += len(calls)
                for fn, args in calls:
                    fn(*args)
            else:
                if nxt >= until:
                    break
                self.now = nxt
                events += 1
                call(i)
                i += 1
                nxt = times[i] if i < n else inf
        self._pos = pos
        self.events = events
        self.now = until

    def close(self) -> None:
        """Drop the calls still due and the feed: they hold the model, which holds this loop, and
        such a cycle would wait for the cycle collector (1.5 s for a full-scale run's objects)."""
        self._cur.clear()
        self._later.clear()
        self._buckets.clear()
        self._due.clear()
        self._feed = ([], lambda i: None)

    def at_desks(self) -> int:
        """Groups waiting or in service now (finished before now have left).

        Desks append each group's finish to `finishes` as it joins (a list append, no heap);
        the count, asked a few hundred times a run, sorts them out in one numpy pass."""
        pending = np.concatenate([self._pending, np.array(self.finishes, dtype=np.float64)])
        self.finishes.clear()
        self._pending = pending[pending >= self.now]
        return int(self._pending.size)


class FastDesk:
    """A desk on the kernel's FIFO seats, keeping `ServicePoint`'s records."""

    __slots__ = ("name", "servers", "stage", "records", "loop", "_finished")

    def __init__(self, servers: int, name: str, loop: Loop) -> None:
        self.name, self.servers, self.loop = name, servers, loop
        self.stage = FifoSeats(servers, name)
        self.records: list[tuple[int, float, float, float]] = []
        self._finished = loop.finishes.append

    def join(self, who: int, duration: float) -> float:
        """A customer joins the line now; returns when its service finishes."""
        now = self.loop.now
        start, end = self.stage.seat(now, duration)  # the loop's clock keeps arrival order
        self.records.append((who, now, start, end))
        self._finished(end)
        return end

    def close(self, until: float) -> None:
        """Keep the records of customers served by `until` (SimPy records them at the finish)."""
        if self.stage.last_finish() >= until:  # most desks are idle by then: nothing to drop
            self.records = [r for r in self.records if r[3] < until]


class FastDisasterModel(DisasterModel):
    """DisasterModel with desks, delays and look-ups on the fast engine's loop."""

    def __init__(self, loop: Loop, p: Any, ev: Any, safety: Any, face_desk: Any,
                 streams: Streams, t0: float, load: Any = None) -> None:
        self.loop = loop
        self.asks: list[tuple[float, int, int, Identity]] = []  # (when, household, asker, identity)
        self.moves: list[tuple[float, list[int], int]] = []  # (when, people, shelter or -1)
        super().__init__(loop, p, ev, safety, face_desk, streams, t0, load)
        self._traced = self._look_up_people()

    def _point(self, servers: int, name: str) -> FastDesk:
        """A desk on the kernel's FIFO seats."""
        return FastDesk(servers, name, self.loop)

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
        people = np.zeros(ev.people, dtype=bool)
        if not self.p.family_lookup:
            return people.tolist()
        if self.members_of:
            people[np.fromiter(chain.from_iterable(self.members_of.values()), np.int64)] = True
        sizes = np.diff(ev.group_start)
        if not np.array_equal(ev.member_household, np.repeat(ev.group_household, sizes)):
            people[:] = True
        return people.tolist()

    # ---- arrivals, desks and redirects as callbacks -------------------------------------------
    def schedule_arrivals(self) -> None:
        """Feed every group within the horizon to the loop, at SimPy's times, and note up front
        what their first arrivals set: when and where each member arrived (`arrived`, `here`:
        nothing the loop reads changes them before the arrival); the counts the sampler reads
        over time (`present`, `n_arrived`) are the loop's other moves plus these
        (`first_arrivals`), added to the samples after the loop."""
        now, horizon, times = 0.0, self.p.horizon_h * 3600.0, []
        for at in self.ev.group_arrival_s.tolist():
            if at > horizon:
                break
            now = now + (at - now)  # SimPy: timeout(at - now) from the previous arrival
            times.append(now)
        starts = self.ev.group_start
        self._starts = starts.tolist()
        # whether every member of a group uses one check-in method (the method is fixed per person)
        m = np.asarray(self.ev.member_method)
        first = starts[:-1]
        self._one_method = ((np.maximum.reduceat(m, first) == np.minimum.reduceat(m, first))
                            if m.size else np.ones(0, bool)).tolist()
        sizes = np.diff(starts[:len(times) + 1])
        arrived = np.repeat(np.asarray(times, dtype=np.float64), sizes)
        shelter = np.repeat(self.ev.group_shelter[:len(times)], sizes)
        self.arrived[:arrived.size] = arrived.tolist()
        self.here[:arrived.size] = shelter.tolist()
        self.first_arrivals = (arrived, shelter)
        self.loop.feed(times, self.arrive_group)

    def arrive_group(self, g: int) -> None:
        """A group reaches its shelter and splits by check-in method (its arrival was noted up
        front: `schedule_arrivals`)."""
        a, b = self._starts[g], self._starts[g + 1]
        s = self.group_shelter[g]
        members = [a] if b - a == 1 else list(range(a, b))
        if self._traced[a]:
            self.moves.append((self.loop.now, members, s))
        method = self.method
        if self._one_method[g]:
            self._queue(g, members, s, method[a], 0)
            return
        parts: dict[int, list[int]] = {}
        for m in members:
            parts.setdefault(method[m], []).append(m)
        first, *rest = parts.items()
        for how, part in rest:  # SimPy starts these as processes: they queue after this step
            self.loop.at(self.loop.now, self._queue, g, part, s, how, 0)
        self._queue(g, first[1], s, first[0], 0)

    def counts_with_arrivals(self, samples: list[tuple]) -> list[tuple]:
        """The samples with the first arrivals before each one's time added to its arrived and
        present counts (a sample at an arrival's instant runs first, as the loop runs them), and
        the model's counts with all of them."""
        arrived, shelter = self.first_arrivals
        n_s, done, present = len(self.present), 0, np.zeros(len(self.present), dtype=np.int64)
        out = []
        for at, _arrived, moved, *rest in samples:
            upto = int(np.searchsorted(arrived, at, side="left"))
            present += np.bincount(shelter[done:upto], minlength=n_s)
            done = upto
            out.append((at, upto, (present + moved).tolist(), *rest))
        total = np.bincount(shelter, minlength=n_s)
        self.present = (total + np.asarray(self.present, dtype=np.int64)).tolist()
        self.n_arrived = int(arrived.size)
        return out

    def _queue(self, g: int, members: list[int], s: int, method: int, hop: int) -> None:
        """Join the desk now; the service's decisions come at the finish."""
        d = self.desk_times(members, method, s)
        total = sum(d)
        loop = self.loop
        end = self.desk_of[method][s].join(g, total)
        loop.at(end, self._served, g, members, s, method, hop, loop.now, total, d)

    def _served(self, g: int, members: list[int], s: int, method: int, hop: int,
                queued: float, total: float, d: list[float]) -> None:
        """The desk finished the group: record waits, check in, redirect or fall back to paper."""
        loop = self.loop
        now = loop.now
        done = self.desk_done(members, d, now - total, queued)
        outs, target = self._check_in_part(members, s, method, self.t0 + now)
        if len(members) == 1 and (out := outs[0]) != REFUSED and out != FULL and out != NO_ROOM:
            self._registered(members[0], method, done[0])  # most parts: one person, let in
            return
        full, paper = [], []
        for m, out, t in zip(members, outs, done, strict=True):
            if out == REFUSED:
                paper.append(m)
            elif out == FULL or out == NO_ROOM:
                full.append(m)
            else:
                self._registered(m, method, t)
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
            if len(members) == 1:  # most parts: one person
                m = members[0]
                out, target = self.net.tap_code(readers[m % k], serial[m], now)
                if out != REFUSED:
                    self.card_tapped[m] = now
                return [out], target
            outs, target = self.net.tap_part([readers[m % k] for m in members],
                                             [serial[m] for m in members], now)
            tapped = self.card_tapped
            for m, out in zip(members, outs, strict=True):
                if out != REFUSED:  # the card identified them (Identity made when asked)
                    tapped[m] = now
            return outs, target
        if method == PAPER:
            resident = self.resident
            if len(members) == 1:
                out, target = self.net.paper_code(s, resident[members[0]], now, self.paper_rng)
                return [out], target
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

    def close_desks(self, until: float) -> None:
        """Drop the records of services unfinished at the horizon (SimPy never writes them)."""
        for desk in (*self.paper, *self.readers, *self.face.values()):
            desk.close(until)
