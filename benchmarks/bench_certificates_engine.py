"""The certificate peak per visit, by engine and key mode, next to bare SimPy M/M/c per customer.

Every figure is measured in this run: bare SimPy M/M/4 (simpy.Resource, one process per
customer) as the baseline, then the certificate scenario (kiosk and counter visits through the
twin's real reader, kiosks, counters and ledger) on SimPy with P-256 cards (the default before
key modes), on SimPy with HMAC cards, and on the fast engine with HMAC cards; rsa2048 (the real
card's keys) on a smaller slice; then the default design's whole peak at the default study's scale (1.0)
with the fast engine and HMAC cards. Each configuration runs once to warm the per-process card
authority (keys derived on first use), then is timed: the best of 3 runs (bare SimPy too; one
with --quick), since the shared machine's load only ever adds time. Per visit = CPU seconds of the run over
the visits simulated at kiosks and counters, next to bare SimPy's CPU seconds per customer (CPU
time: on the shared machine wall time swings with the load). The payment scenario (SimPy only)
is measured per request the same way. The machine's load average is printed at the start and the
end: the certificate run's CPU per visit grows when other processes stream memory (its columns and
tables leave the shared cache: ~+50 % next to a numpy copy loop), bare SimPy's hardly (its working
set is small); processes that only compute hardly move either.
"""

from __future__ import annotations

import os
import time

from benchmarks.bench_engine import SERVERS, bare_simpy, customers

CONFIGS = (("simpy", "p256"), ("simpy", "hmac"), ("fast", "hmac"), ("simpy", "rsa2048"), ("fast", "rsa2048"))


def certificate_visit_us(engine: str, key_mode: str, share: float | None, days: int | None, best_of: int = 1,
                         scale: float = 0.02) -> tuple[float, int]:
    """Microseconds per simulated visit of the certificate peak (the best of `best_of` timed runs,
    after a warm one), and how many visits. `share` and `days` None: the design's own (its whole peak)."""
    from scenarios import certificates
    from scenarios.runner import make_params

    over = {"scale": scale, "city_seed": 1, "engine": engine, "key_mode": key_mode}
    if share is not None:
        over |= {"days": days, "demand_share": share}
    p = make_params("certificates", "full", overrides=over)
    certificates.run(p, 1)  # warm: the authority derives the cards' keys once per process
    wall = float("inf")
    for _ in range(best_of):  # the best run: the shared machine's load only ever adds time
        t = time.process_time()
        r = certificates.run(p, 1)
        wall = min(wall, time.process_time() - t)
    v = r.frames["visits"]
    n = int(v["planned_channel"].is_in(["kiosk", "counter"]).sum())
    return wall / max(n, 1) * 1e6, n


def where_the_time_goes(share: float, days: int) -> dict[str, float]:
    """Shares of a fast-engine HMAC run's own time (cProfile) by part: engine, services, cards."""
    import cProfile
    import pstats

    from scenarios import certificates
    from scenarios.runner import make_params

    p = make_params("certificates", "full", overrides={
        "scale": 0.02, "city_seed": 1, "days": days, "demand_share": share})
    certificates.run(p, 1)
    prof = cProfile.Profile()
    prof.enable()
    certificates.run(p, 1)
    prof.disable()
    parts: dict[str, float] = {}
    for (path, _line, name), (_cc, _nc, own, _cum, _callers) in pstats.Stats(prof).stats.items():
        part = _part(path, name)
        parts[part] = parts.get(part, 0.0) + own
    total = sum(parts.values())
    return {k: v / total for k, v in sorted(parts.items(), key=lambda kv: -kv[1])}


def time_split(share: float, days: int) -> tuple[dict[str, float], int]:
    """CPU microseconds per visit of a fast + hmac run by part (each part's own time, parts nested in
    it taken out): the batched twin calls, the visits on the per-visit path, the SQLite writes (a run holds its
    own book back until it is read: then none), the rest."""
    from scenarios import certificates, certificates_sim
    from scenarios.fast import certificates_deferred
    from scenarios.runner import make_params
    from twin.services import certificate_batch

    p = make_params("certificates", "full", overrides={
        "scale": 0.02, "city_seed": 1, "days": days, "demand_share": share})
    own: dict[str, float] = {}
    stack: list[float] = []  # CPU time spent in nested parts, per open part

    def timed(owner: object, name: str, label: str) -> tuple[object, str, object]:
        real = getattr(owner, name)

        def part(*args: object, **kwargs: object) -> object:
            t = time.process_time()
            stack.append(0.0)
            try:
                return real(*args, **kwargs)
            finally:
                spent = time.process_time() - t
                own[label] = own.get(label, 0.0) + spent - stack.pop()
                if stack:
                    stack[-1] += spent
        setattr(owner, name, part)
        return owner, name, real

    certificates.run(p, 1)
    undo = [timed(certificates_deferred, "request_many", "batched issuance"),
            timed(certificates_deferred.DeferredServices, "finish", "queue glue"),
            timed(certificate_batch.PendingIssues, "flush", "SQLite writes"),
            timed(certificates_sim.CertificateModel, "_kiosk_service", "kiosk visits on the per-visit path"),
            timed(certificates, "visits_frame", "frames and KPIs"), timed(certificates, "kpis_of", "frames and KPIs")]
    from twin import reader_batch
    undo.append(timed(reader_batch, "authenticate_many", "batched authentication"))
    try:
        t = time.process_time()
        r = certificates.run(p, 1)
        total = time.process_time() - t
    finally:
        for owner, name, real in undo:
            setattr(owner, name, real)
    n = int(r.frames["visits"]["planned_channel"].is_in(["kiosk", "counter"]).sum())
    own["engine, model, set-up and the rest"] = total - sum(own.values())
    return {k: v / max(n, 1) * 1e6 for k, v in own.items()}, n


def _part(path: str, name: str) -> str:
    """Which part of a visit a profiled function belongs to."""
    if "certificates_deferred" in path:
        return "scenario model"
    if "scenarios/fast" in path or "simpy" in path:
        return "engine"
    if "sqlite3" in name or any(x in path for x in ("ledger", "twin/store", "services/payments")):
        return "ledger and store"
    if any(x in path for x in ("twin/reader", "twin/verifier", "twin/card", "twin/pki", "twin/keys",
                               "twin/trust", "hmac")) or "hmac" in name:
        return "cards and authentication"
    if "twin/" in path:
        return "other twin services"
    if "scenarios/" in path:
        return "scenario model"
    return "builtins and libraries"


def load_line(start: float, end: float) -> str:
    """The machine's 1-minute load averages at the benchmark's start and end, and what they do to its ratios."""
    return (f"   machine load (1-minute average): {start:.1f} at the start, {end:.1f} at the end; the certificate "
            "lines' CPU per visit grows when other processes stream memory (the run's columns and tables leave "
            "the shared cache), bare SimPy's hardly: compare ratios taken on a quiet machine")


def payment_request_us(duration_s: float) -> tuple[float, int, float]:
    """CPU microseconds per payment request (SimPy engine, real SQLite ledger), requests, simulated rate."""
    from scenarios import payments
    from scenarios.runner import make_params

    p = make_params("payments", "full", overrides={"scale": 0.02, "city_seed": 1, "duration_s": duration_s})
    t = time.process_time()
    r = payments.run(p, 1)
    wall = time.process_time() - t
    n = int(r.kpis["requests"])
    return wall / max(n, 1) * 1e6, n, r.kpis["throughput_per_s"]


def main(argv: list[str]) -> int:
    """Print per-visit costs and their ratio to bare SimPy M/M/c per customer."""
    quick = "--quick" in argv
    load = os.getloadavg()[0]
    n = 50_000 if quick else 200_000
    arrived, service = customers(n)
    best = float("inf")
    for _ in range(1 if quick else 3):
        t = time.process_time()
        bare_simpy(arrived, service, SERVERS)
        best = min(best, time.process_time() - t)
    base = best / n * 1e6
    print(f"   bare SimPy M/M/{SERVERS} (simpy.Resource), {n:,} customers: {base:8.2f} us/customer (CPU, best run)")
    share, days = (0.05, 1) if quick else (0.2, 2)
    for engine, key_mode in CONFIGS:
        rsa = key_mode == "rsa2048"
        us, visits = certificate_visit_us(engine, key_mode, share / 10 if rsa else share, 1 if rsa else days,
                                          best_of=1 if quick else 3)
        print(f"   certificates, engine {engine:5s} key mode {key_mode:7s}: {us:8.1f} us/visit (CPU) "
              f"({visits:,} visits)   {us / base:6.1f}x bare SimPy (target <= 3x)")
    us, visits = certificate_visit_us("fast", "hmac", None, None, best_of=1 if quick else 3, scale=1.0)
    print(f"   certificates, the default design at the default study's scale (1.0), fast + hmac: {us:8.1f} us/visit "
          f"(CPU) ({visits:,} visits)   {us / base:6.1f}x bare SimPy (target <= 3x)")
    us_hi, n_hi = certificate_visit_us("fast", "hmac", share, days, best_of=3)
    us_lo, n_lo = certificate_visit_us("fast", "hmac", share / 5, days, best_of=3)
    margin = (us_hi * n_hi - us_lo * n_lo) / max(n_hi - n_lo, 1)
    print(f"   fast + hmac at the margin ({n_lo:,} vs {n_hi:,} visits, best of 3 each): {margin:8.1f} us/visit "
          f"(CPU)   {margin / base:6.1f}x bare SimPy; fixed per run (set-up, KPIs, frames) "
          f"{(us_hi * n_hi - margin * n_hi) / 1e3:.1f} ms")
    split, n = time_split(share, days)
    print(f"   where a fast + hmac visit's time goes ({n:,} visits, CPU us/visit, timed in the run): "
          + ", ".join(f"{k} {v:.1f}" for k, v in split.items()))
    shares = where_the_time_goes(share, days)
    print("   where a fast + hmac visit's time goes (cProfile, own time): "
          + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))
    us, reqs, rate = payment_request_us(60.0 if quick else 300.0)
    print(f"   payments (SimPy, SQLite ledger): {us:8.1f} us/request (CPU) ({reqs:,} requests, "
          f"{rate:.1f} answered/s simulated)   {us / base:6.1f}x bare SimPy")
    print(load_line(load, os.getloadavg()[0]))
    return 0
