"""Per-replication set-up at full scale: cold (built from the city) against warm (the per-process templates).

The default study runs many replications of one city in one process. What a run builds from the
whole residents frame (the card registry of every holder, the eligible requesters per ward, the
households sorted for family look-ups) is built once per process and copied per replication
(`scenarios.templates`). Measured in this run, on Kumamoto at scale 1.0 (0.1 with --quick) with
the default study's settings: the set-up of a replication with the templates cleared first
(as the first replication of a process) and with them warm, and whole runs the same two ways;
CPU seconds, the best of 3 (the shared machine's load only ever adds time).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from scenarios.defaults import STUDY_OVERRIDES


def _cold() -> None:
    """Forget the per-process templates (the next run builds them, as the first in a process does)."""
    from scenarios import templates

    templates.clear()


def certificates_setup(p, seed: int) -> Callable[[], None]:
    """A function doing the certificate run's set-up from the city (visits drawn, services built)."""
    from scenarios import certificates as c
    from scenarios.certificates_params import start_day
    from scenarios.results import as_seed_sequence
    from scenarios.streams import Streams
    from twin.clock import jst

    def setup() -> None:
        streams = Streams(as_seed_sequence(seed))
        d = start_day(p.start_date)
        city = c.with_ownership(c.city_for(p.city, p.city_seed, p.scale), p.card_ownership,
                                streams["ownership"])
        xy, _, _ = c.kiosk_sites(p, city)
        c.make_visits(streams, p, city, xy, c.holder_probability(p, city))
        c.build_services(p, city, jst(d.year, d.month, d.day))
    return setup


def disaster_setup(p, seed: int) -> Callable[[], None]:
    """A function building the disaster run's services from the city (shelters, family, HQ, face desk)."""
    from scenarios import disaster as dm
    from scenarios.params import parse_jst

    city, _ = dm.scaled_city(p, dm.city_for(p.city, p.city_seed, p.scale))
    return lambda: dm.build_services(p, city, parse_jst(p.quake_jst))


def best_cpu(fn: Callable[[], object], before: Callable[[], None], times: int) -> float:
    """The least CPU seconds of `times` calls of fn, each after `before()` (not timed)."""
    best = float("inf")
    for _ in range(times):
        before()
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def measure(scenario: str, design: str, scale: float, times: int) -> dict[str, float]:
    """Set-up and whole-run CPU milliseconds, cold and warm, for one scenario and design."""
    from scenarios.registry import scenario as scenario_module
    from scenarios.runner import make_params

    p = make_params(scenario, design, scale=scale, overrides=STUDY_OVERRIDES[scenario])
    mod = scenario_module(scenario)
    mod.run(p, 1)  # the city built, the authority's keys derived: what every process keeps anyway
    setup = {"certificates": certificates_setup, "disaster": disaster_setup}[scenario](p, 1)
    warm = lambda: None  # noqa: E731
    out = {"setup_cold": best_cpu(setup, _cold, times), "setup_warm": best_cpu(setup, warm, times)}
    out["run_cold"] = best_cpu(lambda: mod.run(p, 1), _cold, times)
    out["run_warm"] = best_cpu(lambda: mod.run(p, 1), warm, times)
    return {k: v * 1000.0 for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    """Print cold and warm set-up per replication, and the runs' totals, with their ratios."""
    ap = argparse.ArgumentParser(prog="bench_setup")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    scale, times = (0.1, 1) if args.quick else (1.0, 3)
    print(f"Kumamoto at scale {scale}, the default study's settings; CPU ms, best of {times}")
    print(f"{'scenario':14s}{'design':10s}{'set-up cold':>12s}{'warm':>8s}{'cold/warm':>10s}"
          f"{'run cold':>10s}{'warm':>8s}{'cold/warm':>10s}")
    for scenario in ("certificates", "disaster"):
        for design in ("baseline", "full"):
            m = measure(scenario, design, scale, times)
            print(f"{scenario:14s}{design:10s}{m['setup_cold']:12.1f}{m['setup_warm']:8.1f}"
                  f"{m['setup_cold'] / max(m['setup_warm'], 1e-9):10.2f}{m['run_cold']:10.1f}"
                  f"{m['run_warm']:8.1f}{m['run_cold'] / max(m['run_warm'], 1e-9):10.2f}", flush=True)
    print("payments: no per-city template (its set-up is a fresh ledger file and the run's payers)")
    return 0
