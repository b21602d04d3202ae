"""The certificate peak in virtual time, around the twin's real kiosks, counters, reader and ledger.

Each visit is a SimPy process. A kiosk visitor waits for the kiosk to open (family registers
have their own hours), queues, authenticates with the card through the real JPKI `Reader`
(PIN typos, a lock after three), and asks the real `Kiosk`; a fault, a lock or a refusal of the
card sends them to the counter. A counter visitor waits for office hours, looks at the line
and may leave at once (card holders then try a kiosk), may give up in the line after their
patience, comes back another day, and is served by the real `CounterOffice` at a window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from scenarios.certificate_demand import COUNTER, KIOSK, Visits
from scenarios.certificates_params import CERT_TYPES
from scenarios.queueing import ServicePoint
from scenarios.streams import Draws, Streams
from twin.card import mistype
from twin.errors import TwinError
from twin.identity import Assurance, Identity
from twin.reader import ChallengeStream
from twin.services.certificate_rules import KioskFault, NotEligible, PaperOut
from twin.trust_errors import PinLocked, TrustError, WrongPin

ISSUED, REFUSED, GAVE_UP = "issued", "refused", "gave_up"
PIN_TRIES = 3
DAY_S = 86400.0


class CertificateModel:
    """Kiosk sites and ward counters as queues, the services, and one record per visit."""

    point_type: Any = ServicePoint  # the fast engine's model seats customers with FastPoint

    def __init__(self, env: simpy.Environment | Any, p: Any, v: Visits, services: Any,
                 kiosk_per_site: np.ndarray, kiosk_ward: np.ndarray,
                 streams: Streams, t_start: float) -> None:
        self.env, self.p, self.v, self.t_start = env, p, v, t_start
        self.pin_rng, self.challenges = streams["pins"], ChallengeStream(streams["challenges"])
        self.service, self.registry, self.reader = services
        has_card = v.serial >= 0  # every visiting card looked up in one pass; each visit's card row (-1: none)
        self.card_rows = np.full(v.serial.size, -1, dtype=np.int64)
        self.card_rows[has_card] = self.registry.remember_rows(v.serial[has_card])
        self.kiosk_points = [self.point_type(env, int(n), f"kiosk{k}")
                             for k, n in enumerate(kiosk_per_site)]
        self.kiosks = [self.service.kiosk(k, int(w), "store") for k, w in enumerate(kiosk_ward)]
        wards = sorted(set(v.ward.tolist()))
        self.counter_points = {w: self.point_type(env, p.counter_windows_per_ward, f"counter{w}")
                               for w in wards}
        self.counters = {w: self.service.counter(w) for w in wards}
        self.windows = self.service.params.windows()
        n = v.at.size
        self.at, self.kiosk, self.kiosk2 = v.at.tolist(), v.kiosk.tolist(), v.kiosk2.tolist()
        self.cert = np.array(CERT_TYPES, dtype=object)[v.cert].tolist()  # the names, gathered by code
        self.serial, self.ward, self.resident = v.serial.tolist(), v.ward.tolist(), v.resident.tolist()
        # the service times and patience as arrays, each read (`item`) by the visits that reach that stage only
        self.copies, self.patience = v.copies.tolist(), v.patience_s
        # per-visit draws as arrays or flat lists (not one object per visit: fewer objects for the collector)
        self.typo_rows = self.pin_rng.random((n, PIN_TRIES)) < p.pin_mistype_probability  # read per visit at a kiosk
        self.kiosk_s = self._durations(streams["service"], p.kiosk_service_mean_s, n)
        self.counter_s = self._durations(streams["service"], p.counter_service_mean_s, n)
        # each visit's own draws per try: kiosk network and paper faults, the hour it comes back
        # (the first try's fault draws as floats, read by every kiosk visit; the later tries' and the hours
        # of coming back, which few visits read, as arrays: fewer objects made and freed per run)
        faults = streams["kiosk_faults"].random((n, p.max_visits, 2))
        self.faults0, self.faults = faults[:, 0, :].ravel().tolist(), faults
        self.later = streams["returns"].uniform(0, 7200.0, (n, p.max_visits))
        self.outcome, self.final = [""] * n, [-1] * n
        self.waited, self.tries, self.done_at = [0.0] * n, [0] * n, [float("nan")] * n
        self.fee = [0] * n
        self.counts = {"pin_locks": 0, "kiosk_faults": 0, "kiosk_fallbacks": 0, "reneged": 0,
                       "balked": 0, "balked_to_kiosk": 0, "refusals": 0}

    def typos_of(self, i: int) -> list[bool]:
        """Whether visitor `i` mistypes each of their PIN tries."""
        return self.typo_rows[i].tolist()

    def faults_of(self, i: int, t: int) -> list[float]:
        """Visit `i`'s kiosk draws on its try `t` (from 0): the network, then the paper."""
        if t == 0:
            return self.faults0[2 * i:2 * i + 2]
        return self.faults[i, t].tolist()

    def _durations(self, rng: np.random.Generator, mean: float, n: int) -> np.ndarray:
        """Lognormal service times with this mean."""
        s = self.p.service_sigma
        return rng.lognormal(np.log(mean) - s * s / 2, s, n)

    def finish(self) -> None:
        """Settle anything the model left for after the event loop (nothing: every visit is decided at once)."""

    def now(self) -> float:
        """POSIX seconds now."""
        return self.t_start + self.env.now

    def start(self, indices: list[int]) -> None:
        """Have the visits `indices` (in time order) start at their times: the `source` process."""
        self.env.process(self.source(indices))

    def source(self, indices: list[int]) -> Any:
        """Start each visit at its time."""
        at, t0 = self.at, self.t_start
        for i in indices:
            yield self.env.timeout(max(at[i] - t0 - self.env.now, 0.0))
            self.env.process(self.visit(i))

    def visit(self, i: int) -> Any:
        """Go to the chosen channel; fall back, come back, or give up as people do (the process)."""
        return self.visits_from(i, int(self.v.channel[i]))

    def visits_from(self, i: int, channel: int) -> Any:
        """Visit `i`'s tries from here on, starting at `channel`."""
        while self.tries[i] < self.p.max_visits:
            self.tries[i] += 1
            if channel == KIOSK:
                done = yield from self.at_kiosk(i)
                if done:
                    return
                self.counts["kiosk_fallbacks"] += 1
                channel = COUNTER
                continue
            result = yield from self.at_counter(i)
            if result == "done":
                return
            if result == "to_kiosk":
                channel = KIOSK
                continue
            yield from self._come_back_tomorrow(i)
        self.outcome[i] = GAVE_UP

    def _come_back_tomorrow(self, i: int) -> Any:
        """Wait until the counters' next opening after today, plus up to two hours."""
        nxt = self.windows["counter"].next_opening(self.now() + DAY_S / 2)
        if nxt is None:
            nxt = self.now() + DAY_S
        yield self.env.timeout(nxt - self.now() + float(self.later[i, self.tries[i] - 1]))

    def _wait_until_open(self, window: Any, limit_s: float) -> Any:
        """Wait for `window` to open; False if it does not open within `limit_s`."""
        nxt = window.next_opening(self.now())
        if nxt is None or nxt - self.now() > limit_s:
            return False
        if nxt > self.now():
            yield self.env.timeout(nxt - self.now())
        return True

    # ---- kiosk -------------------------------------------------------------------------------
    def at_kiosk(self, i: int) -> Any:
        """Queue at the nearest kiosk, authenticate, request; True when the visit is settled."""
        k, cert = self.kiosk[i], self.cert[i]
        key = "kiosk_family_register" if cert.startswith("family_register") else "kiosk"
        if key == "kiosk_family_register" and not self.windows["kiosk"].is_open(self.now()):
            key = "kiosk"  # wait for the kiosk first, then for the family-register hours
        window = self.windows[key]  # open now (most visits): no waiting step at all
        opened = window.is_open(self.now()) or (yield from self._wait_until_open(window, 2 * DAY_S))
        k2 = self.kiosk2[i]
        if k >= 0 and k2 >= 0 and (self.kiosks[k].paper_out or self.kiosk_points[k].queue_length
                                   >= self.p.kiosk_line_tolerance):
            k = k2  # out of service or a line: walk on to the next kiosk
        if not opened or k < 0 or self.kiosks[k].paper_out:
            return False
        self.waited[i] += (yield from self.kiosk_points[k].serve(i, self.kiosk_s.item(i)))
        return self._kiosk_service(i, k)

    def _kiosk_service(self, i: int, k: int) -> bool:
        """Authenticate at kiosk `k` and ask it for the certificate; True when the visit is settled."""
        ident = self._authenticate(i)
        if ident is None:
            return False
        try:
            doc = self.kiosks[k].request(ident, self.cert[i], self.now(), Draws(self.faults_of(i, self.tries[i] - 1)),
                                         request_key=f"v{i}", copies=self.copies[i])
        except PaperOut:
            self.counts["kiosk_faults"] += 1
            self.env.timeout(self.p.paper_refill_h * 3600.0).callbacks.append(
                lambda _e, k=k: self.kiosks[k].refill())
            return False
        except KioskFault:
            self.counts["kiosk_faults"] += 1
            return False
        except NotEligible:
            return self._refused(i)
        except TwinError:
            return False
        return self._issued(i, KIOSK, doc.fee_yen)

    def _authenticate(self, i: int) -> Identity | None:
        """Card + PIN at the kiosk's reader; a typo costs a try, three lock the card."""
        serial = self.serial[i]
        pin = self.registry.pin_of(self.registry.row_of(serial), 0)  # the user-authentication PIN
        for wrong in self.typos_of(i):
            typed = mistype(pin, self.pin_rng) if wrong else pin
            try:
                return self.reader.authenticate(serial, typed, self.now(), self.challenges)
            except WrongPin:
                continue
            except PinLocked:
                break
            except TrustError:
                return None
        self.counts["pin_locks"] += 1
        return None

    # ---- counter -----------------------------------------------------------------------------
    def at_counter(self, i: int) -> Any:
        """Queue at the ward office (or leave), be served at a window; 'done', 'to_kiosk' or 'later'."""
        window = self.windows["counter"]
        opened = window.is_open(self.now()) or (yield from self._wait_until_open(window, 7 * DAY_S))
        if not opened:
            return "later"
        w = self.ward[i]
        point = self.counter_points[w]
        expected_min = point.queue_length * self.p.counter_service_mean_s / point.servers / 60.0
        if expected_min > self.p.balk_expected_wait_min:
            self.counts["balked"] += 1
            if self._kiosk_possible(i):
                self.counts["balked_to_kiosk"] += 1
                return "to_kiosk"
            return "later"
        wait = yield from point.serve_or_renege(i, self.counter_s.item(i), self.patience.item(i))
        if wait is None:
            self.counts["reneged"] += 1
            self.waited[i] += self.patience.item(i)
            return "later"
        self.waited[i] += wait
        return self._counter_service(i, w, i % point.servers)

    def _counter_service(self, i: int, w: int, window: int) -> str:
        """Be served at window `window` of ward `w`'s counter: 'done' (issued or refused)."""
        ident = Identity(self.resident[i], "counter_photo_id", Assurance.HIGH, self.now())
        try:
            doc = self.counters[w].request(ident, self.cert[i], self.now(), request_key=f"v{i}",
                                           window=window, copies=self.copies[i])
        except TwinError:
            return "done" if self._refused(i) else "later"
        self._issued(i, COUNTER, doc.fee_yen)
        return "done"

    def _kiosk_possible(self, i: int) -> bool:
        """Whether this visitor could use a kiosk instead (card, kiosk nearby, type offered)."""
        return (self.serial[i] >= 0 and self.kiosk[i] >= 0
                and self.cert[i] in self.p.kiosk_certificate_types)

    # ---- outcomes ----------------------------------------------------------------------------
    def _issued(self, i: int, channel: int, fee: int) -> bool:
        """Record an issued certificate."""
        self.outcome[i], self.final[i], self.fee[i] = ISSUED, channel, int(fee)
        self.done_at[i] = self.env.now
        return True

    def _refused(self, i: int) -> bool:
        """Record a refusal by the issuance server (not eligible)."""
        self.outcome[i] = REFUSED
        self.counts["refusals"] += 1
        self.done_at[i] = self.env.now
        return True
