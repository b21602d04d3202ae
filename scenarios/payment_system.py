"""The payment system in virtual time: clients that retry, a lossy network, a group-committing
ledger writer that can be killed, all around the twin's real, durable `Ledger`.

A client sends a request, waits for the reply up to a timeout, and retries with the same
idempotency key (exponential back-off) until it is answered or gives up. The network delays
every message and drops some (at random, and all of them during a drop window). The writer
collects requests and commits them in one transaction every interval (group commit), then
replies. A writer killed before its commit loses the open transaction (rolled back by the
store); one killed after its commit loses only the replies. A restarted writer reopens the
ledger from its SQLite file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from twin.errors import TwinError
from twin.services.payments import Ledger


class WriterKilled(Exception):
    """Raised inside the writer's open transaction to emulate the process dying before commit."""


@dataclass(slots=True)
class Outcome:
    """What one logical request came to, as its client saw it."""

    key: str
    op: str
    channel: str
    amount: int
    electronic: bool  # paid without cash (wallet or card); False for non-fee requests
    sent: float  # virtual seconds of the first attempt
    answered: float = -1.0  # virtual seconds of the reply that ended it (-1: gave up)
    attempts: int = 0
    result: str = "gave_up"  # posted, replayed, refused, gave_up


class Network:
    """Delays and drops messages: lognormal latency, random loss, and drop windows."""

    def __init__(self, env: simpy.Environment, rng: np.random.Generator, latency_s: float,
                 jitter_sigma: float, loss: float, drops: list[tuple[float, float]]) -> None:
        self.env, self.rng = env, rng
        self.mu = float(np.log(latency_s)) if latency_s > 0 else None
        self.sigma, self.loss, self.drops = jitter_sigma, loss, drops
        self.sent = self.lost = 0

    def _down(self, t: float) -> bool:
        """Whether the network is in a drop window at virtual time t."""
        return any(a <= t < b for a, b in self.drops)

    def send(self, deliver: Callable[[], None]) -> None:
        """Deliver a message after its latency, unless it is lost."""
        self.sent += 1
        if self.rng.random() < self.loss or self._down(self.env.now):
            self.lost += 1
            return
        delay = 0.0 if self.mu is None else float(self.rng.lognormal(self.mu, self.sigma))
        if self._down(self.env.now + delay):
            self.lost += 1
            return
        self.env.timeout(delay).callbacks.append(lambda _ev: deliver())


class LedgerWriter:
    """The process in front of the ledger: inbox, group commit every interval, replies, faults."""

    def __init__(self, env: simpy.Environment, open_ledger: Callable[[], Ledger], t0: float,
                 p: Any, network: Network) -> None:
        self.env, self.open_ledger, self.t0, self.p, self.net = env, open_ledger, t0, p, network
        self.ledger = open_ledger()
        self.inbox: list[tuple[Any, simpy.Event]] = []
        self.up = True
        self.kills: list[tuple[float, str]] = sorted(
            [(t, "before_commit") for t in p.writer_kill_before_commit_at_s]
            + [(t, "after_commit") for t in p.writer_kill_after_commit_at_s])
        self.commits = self.killed = self.rolled_back = self.replies_lost_in_kill = 0
        self.busy_s = 0.0
        self.down_periods: list[tuple[float, float]] = []

    def receive(self, request: Any, reply: simpy.Event) -> None:
        """A request reached the writer (refused at the door while it is down)."""
        if self.up:
            self.inbox.append((request, reply))

    def run(self, stop: simpy.Event) -> Any:
        """Commit the inbox every interval until `stop`."""
        env, p = self.env, self.p
        while not stop.triggered:
            yield env.timeout(p.commit_interval_ms / 1000.0)
            if not self.up or not self.inbox:
                continue
            batch, self.inbox = self.inbox[: p.max_batch], self.inbox[p.max_batch:]
            work = (p.commit_base_ms + p.commit_per_request_ms * len(batch)) / 1000.0
            yield env.timeout(work)
            self.busy_s += work
            mode = self._due_kill()
            if mode == "before_commit":
                self._die_before_commit(batch)
            else:
                self._commit(batch, reply=mode is None)
            if mode is not None:
                yield from self._restart()

    def _due_kill(self) -> str | None:
        """The kind of kill due now, if any (each scheduled kill fires once)."""
        if self.kills and self.kills[0][0] <= self.env.now:
            return self.kills.pop(0)[1]
        return None

    def _die_before_commit(self, batch: list) -> None:
        """Post the batch inside a transaction and die before it commits (the store rolls back)."""
        try:
            with self.ledger.transaction() as tx:
                self.ledger.post_in(tx, [r for r, _ in batch], self.t0 + self.env.now)
                raise WriterKilled("writer process killed before commit")
        except WriterKilled:
            self.rolled_back += len(batch)

    def _commit(self, batch: list, reply: bool) -> None:
        """Commit the batch; reply to each client unless the writer dies right after the commit."""
        results = self.ledger.post_many([r for r, _ in batch], self.t0 + self.env.now)
        self.commits += 1
        if not reply:
            self.replies_lost_in_kill += len(batch)
            return
        for (_, ev), res in zip(batch, results, strict=True):
            self.net.send(lambda ev=ev, res=res: ev.succeed(res) if not ev.triggered else None)

    def _restart(self) -> Any:
        """Be down for the restart time (inbox lost), then reopen the ledger from its file."""
        self.killed += 1
        self.up, self.inbox = False, []
        self.ledger.store.close()
        start = self.env.now
        yield self.env.timeout(self.p.writer_restart_s)
        self.ledger = self.open_ledger()
        self.up = True
        self.down_periods.append((start, self.env.now))


def client(env: simpy.Environment, net: Network, writer: LedgerWriter, rng: np.random.Generator,
           request: Any, out: Outcome, p: Any) -> Any:
    """Send until answered, retrying with the same key after a timeout and a back-off."""
    out.sent = env.now
    for attempt in range(p.max_attempts):
        out.attempts = attempt + 1
        reply = env.event()
        net.send(lambda reply=reply: writer.receive(request, reply))
        got = yield reply | env.timeout(p.client_timeout_s)
        if reply in got:
            res = got[reply]
            out.answered = env.now
            out.result = ("refused" if isinstance(res, TwinError)
                          else "replayed" if res.replayed else "posted")
            return
        yield env.timeout(p.retry_backoff_s * 2**attempt * (0.5 + rng.random()))
