"""Yokohama-scale disaster check-in (every check-in through the real shelter logic): wall time and
SimPy events per second, next to bare SimPy's event rate measured in the same run."""

from __future__ import annotations

import os
import time

import simpy

BARE_EVENTS = 1_000_000


def bare_simpy_rate(n: int = BARE_EVENTS) -> float:
    """Events per second of SimPy alone: processes that only wait on timeouts."""
    env = simpy.Environment()

    def ticker(k: int):
        for _ in range(k):
            yield env.timeout(1.0)

    for _ in range(100):
        env.process(ticker(n // 100))
    t = time.perf_counter()
    env.run()
    return n / (time.perf_counter() - t)


def main(argv: list[str]) -> int:
    """Run the full design's disaster for Yokohama (scale 1, or 0.1 with --quick)."""
    from scenarios.cities import city_for
    from scenarios.disaster import run
    from scenarios.runner import make_params

    scale = 0.1 if "--quick" in argv else 1.0
    t = time.perf_counter()
    city = city_for("yokohama", 0, scale)
    build = time.perf_counter() - t
    params = make_params("disaster", "full", city="yokohama", scale=scale)
    t, cpu = time.perf_counter(), time.process_time()
    result = run(params, 1)
    secs, cpu = time.perf_counter() - t, time.process_time() - cpu
    k = result.kpis
    events, evacuees = k["simulation_events"], k["evacuees"]
    bare = bare_simpy_rate()
    print(f"   yokohama x{scale}: {city.residents.height:,} residents (built in {build:.1f} s), "
          f"{evacuees:,.0f} evacuees checked in through the shelter service")
    print(f"   scenario: {secs:.1f} s wall ({cpu:.1f} s CPU; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs), {events:,.0f} SimPy events = "
          f"{events / secs:,.0f} events/s, {evacuees / secs:,.0f} evacuees/s   "
          "(target at scale 1: <= 60 s)")
    print(f"   bare SimPy: {bare:,.0f} events/s   ratio scenario/bare event rate: "
          f"{events / secs / bare:.2f}   (per event, the scenario costs {bare * secs / events:.1f}x "
          "bare SimPy: the rest is the real service logic and the agents' behaviour)")
    return 0
