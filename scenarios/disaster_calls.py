"""The disaster model's calls into the twin's services: check-ins, departures and look-ups.

`ServiceCalls` is the part of `DisasterModel` that asks `ShelterNetwork` (taps, paper forms,
identity check-ins, check-outs), `FaceCheckDesk` and `FamilyDirectory`, one person at a time as
the SimPy engine does, and keeps the per-person records those answers set. Both engines share
it (the fast engine checks a group's part in with one call first: `_check_in_part`).
"""

from __future__ import annotations

from typing import Any

from scenarios.evacuation import CARD, FACE
from twin.errors import TwinError
from twin.identity import Assurance, Identity
from twin.services.shelter_outcomes import FULL, NO_ROOM, REFUSED

LOOKUP_BACKOFF, LOOKUP_MAX_WAIT_S = 1.5, 6 * 3600.0  # families look up less often over time
NOT_YET, REGISTERED, NO_PLACE, LEFT = 0, 1, 2, 3


class ServiceCalls:
    """`DisasterModel`'s service calls (a mixin: the model holds the state and the engine hooks)."""

    def _register(self, members: list[int], s: int, method: int, done: list[float]
                  ) -> tuple[list[int], int, list[int]]:
        """Check each member in; returns (redirected members, target index, members sent to paper)."""
        now = self.t0 + self.env.now
        fid = self.fids[s]
        full, to_paper, target = [], [], -1
        for m, t in zip(members, done, strict=True):
            res = self._one(m, s, fid, method, now)
            if res is None:
                to_paper.append(m)
                continue
            if res.outcome == FULL or res.outcome == NO_ROOM:
                full.append(m)
                if res.redirect_to is not None and target < 0:
                    target = self.net.shelter_index(res.redirect_to)
                continue
            self._registered(m, method, t)
        return full, target, to_paper

    def _one(self, m: int, s: int, fid: int, method: int, now: float) -> Any:
        """One person's check-in through the service; None means 'go to the paper desk'."""
        rid = self.resident[m]
        try:
            if method == CARD:
                readers = self.reader_ids[s]
                res = self.net.tap(readers[m % len(readers)], self.serial[m], now)
                if res.outcome != REFUSED:  # the card identified them (Identity made when asked)
                    self.card_tapped[m] = now
                return res
            if method == FACE:
                ident = self.face_desk.attempt(rid, rid, "shelter_registration", now,
                                               self.face_rng)
                res = self.net.check_in_identity(ident, fid, now)
                self.identity[m] = ident
                return res
            return self.net.paper_form(fid, rid, now, self.paper_rng)
        except TwinError:
            if method == FACE:
                self.face_refused += 1
            return None

    def _registered(self, m: int, method: int, t: float) -> None:
        """Bookkeeping for a person the desk let in; schedules the departure and look-ups."""
        self.status[m] = REGISTERED
        self.n_registered += 1
        self.final_method[m] = method
        self.registered[m] = t
        if method == CARD:
            self.card_admitted.append(m)
        now = self.env.now
        leave = now + self.stay_s[m]
        if leave < self.horizon_s:
            self._later(leave - now, self._leave, m)
        if self.looks_up[m]:
            self._look_up(m)

    def _look_up(self, m: int) -> None:
        """Start the look-ups of registered person m's household, if m is the first of it the
        service identified well enough (a member of an apart household)."""
        if (h := self.household[m]) not in self.lookups_started:
            ident = self.identity_of(m)
            if ident is not None and ident.assurance >= Assurance.MEDIUM:
                self.lookups_started.add(h)
                self._start_lookup(h, m, ident)

    def identity_of(self, m: int) -> Identity | None:
        """How the service last identified person m (card tap or face check), if it did."""
        at = self.card_tapped.get(m)
        if at is not None:  # a person checks in by one method: a card holder has no face identity
            return Identity(self.resident[m], "card_serial", Assurance.MEDIUM, at, self.serial[m])
        return self.identity.get(m)

    def _leave(self, m: int) -> None:
        """A person leaves the shelter; the desk records it when it can."""
        s = self.here[m]
        if s < 0:
            return
        self.present[s] -= 1
        self.here[m] = -1
        self.status[m] = LEFT
        self._moved([m], -1)
        now = self.t0 + self.env.now
        method = self.final_method[m]
        try:
            if method == CARD:
                readers = self.reader_ids[s]
                self.net.check_out(readers[m % len(readers)], self.serial[m], now)
            elif m in self.identity or m in self.card_tapped:
                self.net.check_out_identity(self.identity_of(m), now)
            elif self.checkout_rng.random() < self.p.paper_checkout_share:
                rid = self.resident[m]
                self.net.check_out_identity(Identity(rid, "paper_form", Assurance.LOW, now), now)
        except TwinError:
            pass  # e.g. the reader is offline: the departure goes unrecorded, as at a real desk

    def lookup(self, h: int, asker: int, ident: Identity) -> Any:
        """Look up the other members until the system or the shelter floor shows them all.

        The asker tries again after `lookup_retry_min`, then less and less often (x1.5 each
        time, at most every 6 hours), as people do when the answer keeps being "not yet".
        """
        missing = [x for x in self.members_of[h] if x != asker]
        wait = self.p.lookup_retry_min * 60.0
        while True:
            missing = self._still_missing(asker, ident, missing)
            if not missing:
                self.found_at[h] = self.env.now
                return
            yield self.env.timeout(wait)
            wait = min(wait * LOOKUP_BACKOFF, LOOKUP_MAX_WAIT_S)

    def _still_missing(self, asker: int, ident: Identity, missing: list[int]) -> list[int]:
        """One look-up: the members neither on the asker's shelter floor nor in the system."""
        family, resident, where = self.safety.family, self.resident, self.here
        now, here = self.t0 + self.env.now, where[asker]
        # ask only for those not found yet (the asker remembers the others), in one batch
        ask = [x for x in missing if not (here >= 0 and where[x] == here)]
        if not ask:
            return ask
        away = family.unplaced(ident, [resident[x] for x in ask], now)
        return [x for x, gone in zip(ask, away, strict=True) if gone]
