"""The certificate peak's service calls decided in batches on the fast engine (speculation + exact check).

Most visits' service outcome cannot change anyone's timing: a counter visit is settled whether
its certificate is issued or refused, and a kiosk visit whose card, PIN, hours, network and paper
all hold is settled too, also after a mistyped PIN or two when the card has tries to spare. The fast model lets such a visit leave at once, as "settled", and queues
its card authentication and request; the queue is decided by the twin's columnar calls
(`Reader.authenticate_many`, `certificate_requests.request_many`) in arrival order, before any
visit the model hands to the per-visit path (three PIN typos, a fault or paper-out draw, a card that
may be locked, expired or revoked, hours about to close), and at the end of the run. A queued visitor's
mistyped PINs are drawn from the shared PIN stream when they reach the reader, as on the per-visit
path, and each try is its own authentication row, in order. Both columnar calls
decide each row exactly as the per-visit calls in the same order would (same challenges, PIN
counters, refusals, events, document numbers and postings), so the outcome of every queued visit is
the reference's. The exact check: a queued kiosk visit must come back refused for each mistyped PIN,
then authenticated, and issued or refused as not eligible; if one does not (the speculation missed), `SpeculationMiss` names it and
the run is made again with that visit on the per-visit path (`scenarios.certificates.simulate`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scenarios.certificate_demand import COUNTER, KIOSK
from scenarios.certificates_params import CERT_TYPES
from scenarios.certificates_sim import ISSUED, PIN_TRIES, REFUSED, CertificateModel
from scenarios.streams import Draws
from twin.card import mistype
from twin.card.rules import ACTIVE, day_start
from twin.identity import Assurance, Identity
from twin.services.certificate_requests import request_many
from twin.services.certificate_rules import CERTIFICATE_TYPES, NotEligible
from twin.trust_errors import WrongPin

_HIGH = Assurance.HIGH
QUEUE_LIMIT = 2048  # queued visits decided at most this many at a time (bounded memory)
Queued = tuple[int, int, int, float, int, tuple[str, ...]]  # channel, visit, site, instant, try or window, PINs typed


class SpeculationMiss(RuntimeError):
    """Queued kiosk visits the twin did not settle: the run must be made again with them decided one by one."""

    def __init__(self, visits: set[int]) -> None:
        super().__init__(f"{len(visits)} queued kiosk visit(s) were not settled: {sorted(visits)[:5]}")
        self.visits = visits


class DeferredServices(CertificateModel):
    """`CertificateModel` whose settled visits' service calls wait in a queue for the twin's columnar calls."""

    immediate: frozenset[int] = frozenset()  # visits that always take the per-visit path

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue: list[Queued] = []
        self._asked: set[int] = set()  # visits that made a request on the per-visit path (their key is used)
        reg, p = self.registry, self.p
        rows = self.card_rows
        r = np.maximum(rows, 0)
        usable = (rows >= 0) & (reg.status[r] == ACTIVE)
        self._row = rows.tolist()
        # each card's first and last usable instant, as arrays read (`item`) by the kiosk visits only
        self._from = np.where(usable, day_start(reg.user_from[r].astype(np.int64)), np.inf)
        last_day = np.minimum(reg.user_until[r], reg.expiry[r]).astype(np.int64)
        self._until = np.where(usable, day_start(last_day + 1) - 1.0, -np.inf)
        offered = set(p.kiosk_certificate_types)  # per type, then gathered by each visit's type code
        self._family = np.array([CERTIFICATE_TYPES[c].family_register for c in CERT_TYPES])[self.v.cert].tolist()
        self._offered = np.array([c in offered for c in CERT_TYPES])[self.v.cert].tolist()
        self._p_net, self._p_paper = p.kiosk_p_network_down, p.kiosk_p_paper_out
        # what a visit's first kiosk try reads of its own draws, as columns: the type offered, no network or paper
        # fault; and (every try) how many PINs the visitor mistypes before the right one (all three: none right)
        first = self.faults[:, 0, :]
        self._ok0 = (np.array(self._offered, dtype=bool) & (first[:, 0] >= self._p_net)
                     & (first[:, 1] >= self._p_paper)).tolist()
        right = ~self.typo_rows
        self._wrong = np.where(right.any(axis=1), right.argmax(axis=1), PIN_TRIES).tolist()
        # the PIN each kiosk visitor knows, read once for the kiosk visits (others ask the registry if they get there)
        kiosk = np.flatnonzero((self.v.channel == KIOSK) & (rows >= 0))
        self._pin: list[str | None] = [None] * rows.size
        for j, pin in zip(kiosk.tolist(), reg.pins_of(rows[kiosk].tolist(), 0), strict=True):
            self._pin[j] = pin

    def _routine(self, i: int, k: int, now: float, wrong: int) -> bool:
        """The speculation: kiosk visit `i`, typing `wrong` mistyped PINs first, will be settled
        (authenticated, then issued or not eligible)."""
        t = self.tries[i] - 1
        if t:
            f = self.faults_of(i, t)
            fine = f[0] >= self._p_net and f[1] >= self._p_paper and self._offered[i]
        else:
            fine = self._ok0[i]
        return (fine and i not in self.immediate and i not in self._asked and self._from.item(i) <= now < self._until.item(i)
                and not self.kiosks[k].paper_out and self.registry.tries.item(self._row[i], 0) > wrong
                and not self.reader.ca.revoked_count and self.windows["kiosk"].is_open(now)
                and (not self._family[i] or self.windows["kiosk_family_register"].is_open(now)))

    def _kiosk_service(self, i: int, k: int) -> bool:
        now, wrong = self.t_start + self.env.now, self._wrong[i]  # (`now()`); mistyped PINs before the right one
        if wrong < PIN_TRIES and self._routine(i, k, now, wrong):
            pin = self._pin[i]
            if pin is None or self.registry.pin_override:  # not read at the start, or a PIN was reset since
                pin = self.registry.pin_of(self._row[i], 0)
            if wrong:  # the mistyped PINs, drawn as they reach the reader
                pins = (*[mistype(pin, self.pin_rng) for _ in range(wrong)], pin)
            else:
                pins = (pin,)
            self._later(KIOSK, i, k, now, self.tries[i] - 1, pins)
            return True
        self.finish()
        self._asked.add(i)  # a voided print keeps the key: asking again elsewhere is a conflict
        return super()._kiosk_service(i, k)

    def _counter_service(self, i: int, w: int, window: int) -> str:
        self._later(COUNTER, i, w, self.t_start + self.env.now, window, ())  # issued or refused, the visit is done
        return "done"

    def _later(self, channel: int, i: int, site: int, now: float, extra: int, pins: tuple[str, ...]) -> None:
        self.done_at[i] = self.env.now
        self._queue.append((channel, i, site, now, extra, pins))
        if len(self._queue) >= QUEUE_LIMIT:
            self.finish()

    def finish(self) -> None:
        """Decide every queued visit with the twin's columnar calls, in arrival order."""
        queue, self._queue = self._queue, []
        if not queue:
            return
        tries = [(self.serial[q[1]], pin, q[3]) for q in queue for pin in q[5]]  # counter visits type none
        answers = iter(self.reader.authenticate_many(*map(list, zip(*tries, strict=True)), self.challenges)
                       if tries else ())
        missed: set[int] = set()
        offices, who, draws, windows = [], [], [], []
        kiosks, counters, resident, faults_of = self.kiosks, self.counters, self.resident, self.faults_of
        for channel, i, site, now, extra, pins in queue:
            if channel == KIOSK:
                if len(pins) == 1:  # the right PIN first (most visitors)
                    ident, fine = next(answers), True
                else:  # each mistyped PIN refused, then the right one
                    *refused, ident = [next(answers) for _ in pins]
                    fine = all(type(r) is WrongPin for r in refused)
                if not fine or type(ident) is not Identity:
                    missed.add(i)
                offices.append(kiosks[site])
                draws.append(Draws(faults_of(i, extra)))
                windows.append(-1)
            else:
                ident = Identity(resident[i], "counter_photo_id", _HIGH, now)
                offices.append(counters[site])
                draws.append(None)
                windows.append(extra)
            who.append(ident)
        if missed:
            raise SpeculationMiss(missed)
        docs = request_many(offices, who, [self.cert[q[1]] for q in queue], [q[3] for q in queue],
                            request_keys=[f"v{q[1]}" for q in queue], copies=[self.copies[q[1]] for q in queue],
                            draws=draws, windows=windows, documents=False)
        self._settle(queue, docs)

    def _settle(self, queue: list[Queued], docs: list[Any]) -> None:
        """Record each queued visit's outcome from its answer, an issued document's fee or a refusal (the kiosk's
        must be issued or not eligible)."""
        missed = set()
        outcome, final, fee = self.outcome, self.final, self.fee
        for q, doc in zip(queue, docs, strict=True):
            i = q[1]
            if not isinstance(doc, Exception):
                outcome[i], final[i], fee[i] = ISSUED, q[0], int(doc)  # the issued document's fee
            elif q[0] == COUNTER or isinstance(doc, NotEligible):
                outcome[i] = REFUSED
                self.counts["refusals"] += 1
            else:
                missed.add(i)
        if missed:
            raise SpeculationMiss(missed)
