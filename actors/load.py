"""The open-loop load tester (負荷試験): a scenario's requests at a set rate, bounded in count and time.

Requests start on a fixed schedule (`rate` per second, Poisson gaps) whether or not earlier
ones have answered (open loop), so a slow service shows up as latency, not as a politely
slower client. Latency is measured from each request's scheduled start, so queueing inside
the tester counts too (no coordinated omission). A request that gets a 5xx or no answer is
retried with the same key (`retries`), as a reader or kiosk would; the report counts
attempts, answers by status, and the throughput of answered requests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import numpy as np

from actors.workloads import Op
from twin.errors import ValidationError

MAX_DURATION_S = 3_600.0
MAX_RATE = 100_000.0
MAX_REQUESTS = 1_000_000


@dataclass(frozen=True)
class LoadSettings:
    """How hard and how long: rate (requests/s), duration (s), and the bounds."""

    rate: float
    duration: float
    max_requests: int = 0  # 0: rate x duration
    max_in_flight: int = 256  # requests waiting for an answer at once; beyond it a start is skipped
    retries: int = 3
    timeout: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.rate <= MAX_RATE:
            raise ValidationError(f"rate must be in (0, {MAX_RATE:g}] requests/s, got {self.rate!r}")
        if not 0 < self.duration <= MAX_DURATION_S:
            raise ValidationError(f"duration must be in (0, {MAX_DURATION_S:g}] s, got {self.duration!r}")
        if not 0 <= self.max_requests <= MAX_REQUESTS:
            raise ValidationError(f"max_requests must be 0..{MAX_REQUESTS}, got {self.max_requests!r}")
        if not 1 <= self.max_in_flight <= 10_000 or not 0 <= self.retries <= 20 or not self.timeout > 0:
            raise ValidationError("max_in_flight must be 1..10000, retries 0..20 and timeout > 0")

    @property
    def budget(self) -> int:
        """How many requests will be started at most."""
        planned = int(np.ceil(self.rate * self.duration))
        return min(planned, self.max_requests or MAX_REQUESTS)


def check_target(url: str, allow_remote: bool = False) -> str:
    """The base URL if it is http(s) on this machine, or remote with `allow_remote`."""
    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValidationError(f"target must be an http(s) URL, got {url!r}")
    if not allow_remote and not is_loopback(u.hostname):
        raise ValidationError(f"target {u.hostname} is not this machine; load-testing another host needs "
                              "--allow-remote (and the owner's permission)")
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    """Whether every address `host` resolves to is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)


@dataclass
class Outcome:
    """What became of one logical request."""

    kind: str
    key: str
    count: int
    scheduled: float
    latency: float = float("nan")
    status: int = 0  # final HTTP status; 0: no answer
    attempts: int = 0
    answer: dict[str, Any] | None = None


@dataclass(frozen=True)
class LoadReport:
    """Throughput, latency percentiles and errors of one run."""

    scenario: str
    target: str
    rate: float
    duration_s: float
    started: int
    skipped: int  # starts skipped because max_in_flight requests were already waiting
    answered: int
    ok: int  # 2xx
    ops: int  # domain operations in 2xx answers (taps in batches)
    throughput: float  # answered requests per second of the run
    ops_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    statuses: dict[str, int]
    retries: int
    outcomes: list[Outcome] = field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (without the per-request outcomes)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "outcomes"}

    def to_text(self) -> str:
        """The report as a table."""
        rows = [("scenario", self.scenario), ("target", self.target),
                ("offered rate", f"{self.rate:g} /s for {self.duration_s:g} s"),
                ("requests", f"{self.started:,} started, {self.answered:,} answered, {self.skipped:,} skipped"),
                ("throughput", f"{self.throughput:,.1f} requests/s ({self.ops_per_s:,.1f} operations/s)"),
                ("latency", f"p50 {self.p50_ms:,.1f} ms  p95 {self.p95_ms:,.1f} ms  p99 {self.p99_ms:,.1f} ms"),
                ("answers", "  ".join(f"{k}: {v:,}" for k, v in sorted(self.statuses.items()))),
                ("retries", f"{self.retries:,}")]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


async def _send(client: Any, op: Op, out: Outcome, s: LoadSettings) -> None:
    """Send with retries on 5xx / no answer, the same key each time."""
    for attempt in range(s.retries + 1):
        out.attempts = attempt + 1
        try:
            r = await client.request(op.method, op.path, json=op.body, headers=op.headers)
            out.status = r.status_code
            if r.status_code < 500:
                try:
                    out.answer = r.json()
                except ValueError:
                    out.answer = None
                return
        except Exception:  # httpx errors: connection refused, reset, timeout
            out.status = 0
        if attempt < s.retries:
            await asyncio.sleep(min(0.05 * 2**attempt, 2.0))


async def _run(target: str, ops: Iterator[Op], s: LoadSettings, progress: Callable[[int], None] | None
               ) -> tuple[list[Outcome], int, float]:
    import httpx

    rng = np.random.default_rng(s.seed)
    n = s.budget
    starts = np.cumsum(rng.exponential(1.0 / s.rate, n))
    starts = starts[starts < s.duration]
    outcomes: list[Outcome] = []
    tasks: set[asyncio.Task] = set()
    skipped = 0
    limits = httpx.Limits(max_connections=s.max_in_flight, max_keepalive_connections=s.max_in_flight)
    async with httpx.AsyncClient(base_url=target, timeout=s.timeout, limits=limits) as client:
        t0 = time.perf_counter()
        for i, at in enumerate(starts.tolist()):
            delay = t0 + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(tasks) >= s.max_in_flight:
                skipped += 1
                continue
            op = next(ops)
            task = asyncio.create_task(_chain(client, op, t0 + at, s, outcomes))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if progress is not None and i % 1000 == 0:
                progress(i)
        if tasks:
            await asyncio.wait(tasks)
        elapsed = time.perf_counter() - t0
    return outcomes, skipped, elapsed


async def _chain(client: Any, op: Op | None, scheduled: float, s: LoadSettings, outcomes: list[Outcome]) -> None:
    """One op and its follow-ups (e.g. the certificate after the kiosk authentication)."""
    while op is not None:
        out = Outcome(op.kind, op.key, op.count, scheduled)
        outcomes.append(out)
        await _send(client, op, out, s)
        out.latency = time.perf_counter() - scheduled
        follow = op.then
        op = follow(out.answer or {}) if follow is not None and 200 <= out.status < 300 else None
        scheduled = time.perf_counter()


def run_load(target: str, scenario: str, ops: Iterator[Op], s: LoadSettings,
             progress: Callable[[int], None] | None = None) -> LoadReport:
    """Run the load and summarise it."""
    outcomes, skipped, elapsed = asyncio.run(_run(target, ops, s, progress))
    return summarise(target, scenario, s, outcomes, skipped, elapsed)


def summarise(target: str, scenario: str, s: LoadSettings, outcomes: list[Outcome], skipped: int,
              elapsed: float) -> LoadReport:
    """The report of a finished run."""
    answered = [o for o in outcomes if o.status]
    ok = [o for o in answered if 200 <= o.status < 300]
    lat = np.array([o.latency for o in answered], dtype=float) * 1000.0
    pct = (lambda q: float(np.percentile(lat, q))) if lat.size else (lambda q: float("nan"))
    statuses = Counter(str(o.status) if o.status else "no_answer" for o in outcomes)
    span = max(elapsed, 1e-9)
    return LoadReport(scenario, target, s.rate, s.duration, len(outcomes), skipped, len(answered), len(ok),
                      sum(o.count for o in ok), len(answered) / span, sum(o.count for o in ok) / span,
                      pct(50), pct(95), pct(99), dict(statuses), sum(o.attempts - 1 for o in outcomes), outcomes)
