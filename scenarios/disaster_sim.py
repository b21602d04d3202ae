"""The disaster check-in model in virtual time, around the twin's real safety and face-check code.

Evacuee groups are SimPy processes: they reach their shelter, queue at the reader desk (card
holders), the paper desk (everyone else) or the ward's face-check desk (no ID at all), and
are checked in by `ShelterNetwork` (tap, paper form, or identity from `FaceCheckDesk`). A full
shelter redirects them to the nearest one with room (the service decides; they walk there).
Families who arrived apart look each other up through `FamilyDirectory`; shelters report
head counts to `DisasterHQ`; readers lose the network and sync later; staff transcribe paper
forms; evacuees leave over time. The truth (who is physically where) is kept here only to
measure the service against it. The calls into the services are in `disaster_calls`.
"""

from __future__ import annotations

from array import array
from itertools import chain
from typing import Any

import numpy as np
import simpy

from scenarios.disaster_calls import NO_PLACE, NOT_YET, ServiceCalls
from scenarios.evacuation import CARD, FACE, METHOD_NAMES, PAPER, Evacuation
from scenarios.queueing import ServicePoint
from scenarios.scaling import fractional_servers
from scenarios.streams import Streams
from twin.identity import Identity

MAX_REDIRECTS = 5


class DisasterModel(ServiceCalls):
    """One run: desks per shelter and ward, the safety service, and per-evacuee records."""

    def __init__(self, env: simpy.Environment, p: Any, ev: Evacuation, safety: Any,
                 face_desk: Any, streams: Streams, t0: float,
                 load: np.ndarray | None = None) -> None:
        self.env, self.p, self.ev, self.safety, self.face_desk = env, p, ev, safety, face_desk
        self.net, self.streams, self.t0 = safety.shelters, streams, t0
        self.fids = self.net.facility_ids.tolist()  # each shelter's facility id
        self.face_rng, self.paper_rng = streams["face_match"], streams["paper_form"]
        self.checkout_rng = streams["paper_checkout"]
        n_s, n = ev.shelters.height, ev.people
        self.load = np.ones(n_s) if load is None else np.asarray(load, dtype=np.float64)
        self.wards = ev.shelters["ward"].to_numpy()
        self.xy = ev.shelters.select("x_km", "y_km").to_numpy()
        # desks sized by each shelter's load factor (scenarios.scaling); stretch per desk
        self.stretch: dict[tuple[int, int], float] = {}
        self.paper = [self._scaled_point(PAPER, s, p.paper_staff_per_shelter * self.load[s])
                      for s in range(n_s)]
        self.readers = ([self._scaled_point(CARD, s, p.readers_per_shelter * self.load[s])
                         for s in range(n_s)] if p.readers_per_shelter else [])
        face_on = p.face_check_enabled and p.face_checkers_per_ward > 0
        self.face = ({int(w): self._scaled_point(FACE, int(w),
                                                 p.face_checkers_per_ward * min(p.scale, 1.0))
                      for w in np.unique(self.wards)} if face_on else {})
        # per method, each shelter's desk and stretch (FACE: its ward's), looked up per group
        ward_of = self.wards.tolist()
        self.desk_of = {CARD: list(self.readers), PAPER: list(self.paper),
                        FACE: [self.face.get(int(w)) for w in ward_of]}
        self.stretch_of = {m: [self.stretch.get((m, int(w) if m == FACE else s), 1.0)
                               for s, w in enumerate(ward_of)] for m in (CARD, PAPER, FACE)}
        prepare = getattr(self.net.resolver, "prepare", None)
        self.card_holders = None  # per person, their card's holder (a serial index's answer; -1: none)
        if prepare is not None:  # the cards of everyone who will tap one, looked up in one pass
            cards = np.flatnonzero(np.asarray(ev.member_method) == CARD)
            held = prepare(ev.member_serial[cards])
            if isinstance(held, np.ndarray) and held.shape == cards.shape:
                self.card_holders = np.full(n, -1, dtype=np.int64)
                self.card_holders[cards] = held
        if self.face:  # registered photos of everyone who will ask for a face check, in one pass
            face_desk.matcher.prepare(ev.member_resident[np.asarray(ev.member_method) == FACE])
        self.reader_ids: list[list[int]] = [[] for _ in range(n_s)]
        for rid, s in sorted(self.net.readers.items()):
            self.reader_ids[s].append(rid)
        self.duration_s = self._draw_durations(n)  # each person's desk time (array; `durations`: list)
        self.durations = self.duration_s.tolist()
        self.horizon_s = p.horizon_h * 3600.0
        decline = p.stay_decline_per_day
        self.stay = (streams["stay"].exponential(24.0 * 3600.0 / decline, n) if decline > 0
                     else np.full(n, np.inf))  # how long each stays once registered
        self.stay_s = self.stay.tolist()
        self.method = ev.member_method.tolist()
        self.group_shelter = ev.group_shelter.tolist()
        self.n_arrived = self.n_registered = 0
        self.resident = ev.member_resident.tolist()
        self.serial = ev.member_serial.tolist()
        self.household = ev.member_household.tolist()
        nan = float("nan")
        self.present = [0] * n_s  # truth: people physically at each shelter
        self.here = [-1] * n  # shelter a person is physically at (-1: not at any)
        # times as typed arrays (a C double each, set and read as floats): a list would keep every
        # time the run sets as its own float object, scattered in memory, slow to read back (`finish`)
        self.arrived, self.registered, self.waited = (array("d", [nan]) * n for _ in range(3))
        self.status, self.final_method, self.redirects = [NOT_YET] * n, [-1] * n, [0] * n
        self.identity: dict[int, Identity] = {}  # face checks' identities
        self.card_tapped: dict[int, float] = {}  # when each card holder's tap last identified them
        self.card_admitted: list[int] = []
        self.face_refused = 0
        self.lookups_started: set[int] = set()
        self.found_at: dict[int, float] = {}
        self.members_of = self._members_by_household()
        # per person: a member of an apart household who looks the others up once registered
        looks_up = np.zeros(n, dtype=bool)
        if p.family_lookup and self.members_of:
            looks_up[np.fromiter(chain.from_iterable(self.members_of.values()), np.int64)] = True
        self.looks_up = looks_up.tolist()

    def _scaled_point(self, method: int, key: int, servers: float) -> Any:
        """A desk with the capacity of `servers` (fractional: stretched service times)."""
        whole, stretch = fractional_servers(servers)
        self.stretch[(method, key)] = stretch
        return self._point(whole, f"{METHOD_NAMES[method]}{key}")

    def desk_done(self, members: list[int], d: list[float], start: float, queued: float) -> list[float]:
        """Add each member's wait (service of the group began at `start`) and return when each was done."""
        if len(members) == 1:  # most parts: one person (the same operations as the loop)
            m = members[0]
            w = self.waited[m]
            self.waited[m] = (0.0 if w != w else w) + start - queued
            return [start + d[0]]
        t, done = start, []
        for m, dm in zip(members, d, strict=True):
            w = self.waited[m]
            self.waited[m] = (0.0 if w != w else w) + t - queued
            t += dm
            done.append(t)
        return done

    def desk_times(self, members: list[int], method: int, s: int) -> list[float]:
        """Each member's time at the desk of `method` in shelter s (stretched as it is sized)."""
        k, durations = self.stretch_of[method][s], self.durations
        if len(members) == 1:
            return [durations[members[0]] * k]
        return [durations[m] * k for m in members]

    # ---- what the engine provides (the fast engine overrides these three) ----------------------
    def _point(self, servers: int, name: str) -> Any:
        """A desk of `servers` staff or readers with one FIFO line."""
        return ServicePoint(self.env, servers, name)

    def _later(self, delay: float, fn: Any, *args: Any) -> None:
        """Call fn(*args) after `delay` seconds of simulated time."""
        self.env.timeout(delay).callbacks.append(lambda _e: fn(*args))

    def _start_lookup(self, h: int, asker: int, ident: Identity) -> None:
        """Start household h's look-ups (first one after the current step)."""
        self.env.process(self.lookup(h, asker, ident))

    def _moved(self, members: list[int], s: int) -> None:
        """People's place changed now (s: a shelter index, -1: at none); the fast engine keeps a history."""

    def finish(self) -> None:
        """Turn the per-person lists and typed arrays into numpy arrays for the KPIs and frames."""
        for name, dtype in (("here", np.int64), ("arrived", np.float64), ("waited", np.float64),
                            ("registered", np.float64), ("status", np.int8),
                            ("final_method", np.int8), ("redirects", np.int16),
                            ("present", np.int64)):
            values = getattr(self, name)
            if isinstance(values, array):  # a typed array: copied as one buffer
                setattr(self, name, np.array(values, dtype=dtype))
                continue
            setattr(self, name, np.fromiter(values, dtype, len(values)))  # ~2x np.array on lists

    def _draw_durations(self, n: int) -> np.ndarray:
        """Each person's desk time for their method (lognormal around the calibrated means).

        Every person gets a draw from each channel's own stream, and keeps the one of their
        method: a design that changes someone's method leaves everyone else's times as they were.
        """
        p, sigma = self.p, self.p.checkin_sigma
        cols = [self.streams[f"service_{name}"].lognormal(np.log(mean) - sigma**2 / 2, sigma, n)
                for name, mean in (("card", p.card_tap_mean_s), ("paper", p.paper_form_mean_s),
                                   ("face", p.face_check_mean_s))]
        return np.choose(self.ev.member_method, cols)

    def _members_by_household(self) -> dict[int, list[int]]:
        """Member indices of each apart household (the ones that look each other up)."""
        hh = self.ev.member_household
        idx = np.flatnonzero(np.isin(hh, self.ev.apart_household))
        order = idx[np.argsort(hh[idx], kind="stable")]
        keys, starts = np.unique(hh[order], return_index=True)
        self.household_members = (keys, np.r_[starts, order.size], order)  # as columns: household h's
        # members are order[bounds[i]:bounds[i + 1]] where keys[i] == h
        people, bounds = order.tolist(), [*starts.tolist()[1:], order.size]
        return {k: people[a:b] for k, a, b in zip(keys.tolist(), starts.tolist(), bounds, strict=True)}

    # ---- arrivals and desks ------------------------------------------------------------------
    def source(self) -> Any:
        """Start each arrival group at its time."""
        env, ev = self.env, self.ev
        starts = ev.group_start.tolist()
        for g, at in enumerate(ev.group_arrival_s.tolist()):
            if at > self.p.horizon_h * 3600.0:
                return
            yield env.timeout(at - env.now)
            env.process(self.group(g, starts[g], starts[g + 1]))

    def group(self, g: int, a: int, b: int) -> Any:
        """A group reaches its shelter and splits by check-in method (desks run in parallel)."""
        s = self.group_shelter[g]
        members = list(range(a, b))
        self._arrive(members, s)
        method = self.method
        how = method[a]
        if all(method[m] == how for m in members):  # the common case: one desk for all
            yield from self.check_in(g, members, s, how)
            return
        parts: dict[int, list[int]] = {}
        for m in members:
            parts.setdefault(method[m], []).append(m)
        first, *rest = parts.items()
        for how, part in rest:
            self.env.process(self.check_in(g, part, s, how))
        yield from self.check_in(g, first[1], s, first[0])

    def _arrive(self, members: list[int], s: int) -> None:
        """People physically reach shelter s."""
        now, here, arrived = self.env.now, self.here, self.arrived
        for m in members:
            here[m] = s
            if arrived[m] != arrived[m]:  # NaN: first arrival
                arrived[m] = now
                self.n_arrived += 1
        self.present[s] += len(members)
        self._moved(members, s)

    def _desk(self, method: int, s: int) -> ServicePoint:
        """The desk a method queues at in shelter s."""
        return self.desk_of[method][s]

    def check_in(self, g: int, members: list[int], s: int, method: int) -> Any:
        """Queue at the desk, be served one after another, and be checked in by the service."""
        for _hop in range(MAX_REDIRECTS + 1):
            d = self.desk_times(members, method, s)
            total = sum(d)
            queued = self.env.now
            yield from self._desk(method, s).serve(g, total)
            done = self.desk_done(members, d, self.env.now - total, queued)
            full, target, paper = self._register(members, s, method, done)
            if paper:
                self.env.process(self.check_in(g, paper, s, PAPER))
            if not full:
                return
            if target < 0:
                self._no_room(full)
                return
            yield from self._walk(full, s, target)
            members, s = full, target

    def _walk(self, members: list[int], s: int, target: int) -> Any:
        """Redirected people leave shelter s and walk to the target shelter."""
        self.present[s] -= len(members)
        for m in members:
            self.here[m] = -1
            self.redirects[m] += 1
        self._moved(members, -1)
        km = float(np.hypot(*(self.xy[target] - self.xy[s])))
        yield self.env.timeout(km / self.p.walk_speed_kmh * 3600.0)
        self._arrive(members, target)

    def _no_room(self, members: list[int]) -> None:
        """Every shelter is full: these people leave without a place."""
        for m in members:
            if self.here[m] >= 0:
                self.present[self.here[m]] -= 1
            self.here[m] = -1
            self.status[m] = NO_PLACE
        self._moved(members, -1)
