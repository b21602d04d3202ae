"""Per-customer cost of the kiosk/counter scenario next to a bare SimPy M/M/c of the same size.

Three figures, all measured in this run: (1) a bare SimPy M/M/c (`simpy.Resource`, one process
per customer, one record each); (2) the scenarios' own queue machinery (`ServicePoint`) on the
same M/M/c; (3) the certificate-peak scenario, per simulated visit, split into the time spent
inside the real services (card reader, kiosks, counters, ledger) and the rest (SimPy, agents'
behaviour, demand drawing, frames).
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np
import simpy


def bare_mmc(n: int, servers: int = 4, arrival_rate: float = 0.5, service_mean: float = 6.4,
             seed: int = 1) -> float:
    """Seconds to run n customers through a plain simpy.Resource M/M/c."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1 / arrival_rate, n).tolist()
    service = rng.exponential(service_mean, n).tolist()
    env = simpy.Environment()
    res = simpy.Resource(env, servers)
    records = []

    def customer(i):
        t = env.now
        with res.request() as req:
            yield req
            start = env.now
            yield env.timeout(service[i])
        records.append((i, t, start, env.now))

    def source():
        for i, g in enumerate(gaps):
            yield env.timeout(g)
            env.process(customer(i))

    env.process(source())
    t = time.perf_counter()
    env.run()
    return time.perf_counter() - t


def machinery_mmc(n: int) -> float:
    """Seconds for the same M/M/c through the scenarios' ServicePoint (validate-queue's path)."""
    from scenarios.mmc import simulate_mmc

    t = time.perf_counter()
    simulate_mmc(0.5, 6.4, 4, n, 1)
    return time.perf_counter() - t


@contextmanager
def service_timer(totals: dict[str, float]):
    """Accumulate the time spent inside the real service calls the scenario makes."""
    from twin.card import CardRegistry
    from twin.reader import Reader
    from twin.services.certificates import CertificateService
    from twin.services.hours import Window
    from twin.services.kiosks import CounterOffice, Kiosk

    calls = ((Reader, "authenticate"), (Kiosk, "request"), (CounterOffice, "request"),
             (CardRegistry, "pins"), (CertificateService, "documents"), (Window, "is_open"),
             (Window, "next_opening"))
    originals = {(cls, name): getattr(cls, name) for cls, name in calls}

    def wrap(key, fn):
        def timed(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                totals[key] = totals.get(key, 0.0) + time.perf_counter() - t
        return timed

    for (cls, name), fn in originals.items():
        setattr(cls, name, wrap(f"{cls.__name__}.{name}", fn))
    build = CardRegistry.from_city.__func__
    CardRegistry.from_city = classmethod(lambda c, *a, **k: _timed(totals, "CardRegistry.from_city",
                                                                    build, c, *a, **k))
    try:
        yield totals
    finally:
        for (cls, name), fn in originals.items():
            setattr(cls, name, fn)
        CardRegistry.from_city = classmethod(build)


def _timed(totals: dict[str, float], key: str, fn, *a, **k):
    """Call fn and add its time to totals[key]."""
    t = time.perf_counter()
    try:
        return fn(*a, **k)
    finally:
        totals[key] = totals.get(key, 0.0) + time.perf_counter() - t


def _measure(params, seed: int) -> tuple[int, float, dict[str, float], object]:
    """Visits simulated, wall seconds, seconds inside each service, and the result."""
    from scenarios.certificates import run

    totals: dict[str, float] = {}
    with service_timer(totals):
        t = time.perf_counter()
        result = run(params, seed)
        secs = time.perf_counter() - t
    v = result.frames["visits"]
    return int(v["planned_channel"].is_in(["kiosk", "counter"]).sum()), secs, totals, result


def main(argv: list[str]) -> int:
    """Run the certificate scenario at two demand levels (the difference is the per-visit cost
    without the fixed set-up), then the two M/M/c runs of the same size."""
    from scenarios.runner import make_params

    days = 1 if "--quick" in argv else 3
    params = make_params("certificates", "full", overrides={"days": days})
    _measure(params.replace(days=1, demand_share=0.01), 0)  # warm imports and caches
    n_half, s_half, t_half, _ = _measure(params.replace(demand_share=0.5), 1)
    n, secs, totals, result = _measure(params, 1)
    bare, own = bare_mmc(n), machinery_mmc(n)
    inside = sum(totals.values())
    us = lambda s, k=n: s / k * 1e6  # noqa: E731
    marginal = (secs - s_half) / (n - n_half)
    marginal_own = (secs - inside - (s_half - sum(t_half.values()))) / (n - n_half)
    print(f"   certificate peak, kumamoto, {days} day(s) from {params.start_date}, {n:,} simulated "
          f"visits ({result.kpis['kiosk_certificates']:,.0f} kiosk and "
          f"{result.kpis['counter_certificates']:,.0f} counter certificates)")
    print(f"   bare SimPy M/M/c:          {us(bare):8.1f} us/customer")
    print(f"   ServicePoint M/M/c:        {us(own):8.1f} us/customer   ratio {own / bare:.2f}x "
          "(the scenarios' queue machinery; target <= 2x)")
    print(f"   scenario, all in:          {us(secs):8.1f} us/visit      ratio {secs / bare:.1f}x")
    print(f"     inside real services:    {us(inside):8.1f} us/visit")
    for k, x in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"       {k:<28}{us(x):8.1f} us/visit")
    print(f"     scenario's own work:     {us(secs - inside):8.1f} us/visit      ratio "
          f"{(secs - inside) / bare:.1f}x (SimPy, agents, demand, set-up, frames)")
    print(f"   marginal cost of one more visit (full vs half demand): {marginal * 1e6:.1f} us, of "
          f"which the scenario's own {marginal_own * 1e6:.1f} us = "
          f"{marginal_own / (bare / n):.1f}x bare SimPy")
    return 0
