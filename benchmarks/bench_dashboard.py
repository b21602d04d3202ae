"""The dashboard's default comparison: first scenario, whole comparison, cached look, beside bare `run_sweep`.

Runs the page's default request (the default study's settings, scenarios/defaults.py: whole
Kumamoto, baseline vs full, 10 replications, three scenarios) through `dashboards.compute` as
the page does: the replications on the page's worker processes, each scenario's sweep taken as
soon as its replications are in; then the same request again (the cached look); and the same
replications through `scenarios.sweep.run_sweep` one after another in this process (after one
warm-up replication per scenario). The worker pool is started and every worker warmed
(imports) before the timings, as the page does when it opens. Aims (issue 15): first result < 20 s, cached look
< 0.1 s.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from streamlit.logger import get_logger

# Outside a Streamlit server the caches live in memory, as in the page: no warning needed.
for _name in ("caching.cache_data_api", "caching.cache_resource_api",
              "scriptrunner_utils.script_run_context"):
    get_logger(f"streamlit.runtime.{_name}").setLevel(logging.ERROR)

from dashboards import compute  # noqa: E402
from dashboards import pool as workers  # noqa: E402
from dashboards.spec import (  # noqa: E402
    DEFAULT_DESIGNS,
    DEFAULT_REPS,
    DEFAULT_SCALE,
    QUICK_OVERRIDES,
    make_spec,
    shipped_choice,
)
from scenarios.registry import names  # noqa: E402
from scenarios.sweep import run_sweep  # noqa: E402

APP = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
FIRST_AIM_S = 20.0
CACHED_AIM_S = 0.1


def main(argv: list[str]) -> int:
    """Print the page's first result, whole comparison and cached look beside bare run_sweep."""
    reps = 2 if "--quick" in argv else DEFAULT_REPS
    spec = make_spec(city="kumamoto", designs=[shipped_choice(d) for d in DEFAULT_DESIGNS],
                     scenarios=names(), reps=reps, seed=0, scale=DEFAULT_SCALE,
                     overrides=QUICK_OVERRIDES)
    t = time.perf_counter()
    pool = compute.pool()  # as the page does when it opens
    workers.warmed(pool, workers.worker_count())
    opened = time.perf_counter() - t
    for s in spec.scenarios:  # warm-up here (imports, cities, calibration), outside the timings
        run_sweep(s, [spec.params(s, 0)], 1, 99, executor="local")
    t, cpu, before = time.perf_counter(), time.process_time(), dict(compute.WORKER_CPU)
    arrived = [(s, time.perf_counter() - t) for s, _ in compute.stream(spec)]
    whole = time.perf_counter() - t
    page_cpu = time.process_time() - cpu
    by_scenario = {s: compute.WORKER_CPU[s] - before.get(s, 0.0) for s in spec.scenarios}
    workers_cpu = sum(by_scenario.values())
    t = time.perf_counter()
    compute.run_all(spec)
    cached = time.perf_counter() - t
    t, cpu = time.perf_counter(), time.process_time()
    for s in spec.scenarios:
        run_sweep(s, [spec.params(s, i) for i in range(len(spec.designs))], reps, 0,
                  executor="local")
    bare, bare_cpu = time.perf_counter() - t, time.process_time() - cpu
    drawn = page_look(reps)
    n = len(spec.scenarios) * len(spec.designs) * reps
    first_name, first = arrived[0]
    print(f"   page default: {spec.label()}; {n} replications on "
          f"{workers.worker_count()} worker processes (started and warmed in {opened:.1f} s "
          "when the page opens, outside the timings)")
    print("   scenarios in at: " + ", ".join(f"{s} {dt:.1f} s" for s, dt in arrived))
    print(f"   first result ({first_name}) {first:.1f} s, whole comparison {whole:.1f} s, "
          f"cached look {cached * 1000:.0f} ms")
    print(f"   the whole page drawn again from the caches (AppTest rerun, every tab): "
          f"{drawn:.2f} s")
    print(f"   bare sequential run_sweep, same replications: {bare:.1f} s")
    print(f"   CPU: the page's workers {workers_cpu:.1f} s and its own process {page_cpu:.1f} s, "
          f"bare run_sweep {bare_cpu:.1f} s (wall above CPU / cores: other load on the machine)")
    print("   workers' CPU per replication: " + ", ".join(
        f"{s} {by_scenario[s] / (n / len(spec.scenarios)):.2f} s" for s in spec.scenarios))
    print(f"   ratios to bare: first result {first / bare:.2f}x, whole comparison "
          f"{whole / bare:.2f}x, cached look {cached / bare:.5f}x")
    print(f"   aims: first result < {FIRST_AIM_S:g} s: {_met(first < FIRST_AIM_S)}; cached look "
          f"< {CACHED_AIM_S:g} s: {_met(cached < CACHED_AIM_S)}")
    return 0


def page_look(reps: int) -> float:
    """Seconds for the page (AppTest) to draw the default comparison again, all from the caches."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=900)
    at.run()
    at.sidebar.number_input(key="reps").set_value(reps)
    at.sidebar.button(key="run").click().run()  # the runs are cached above; plots made here
    if at.exception or at.error:
        raise RuntimeError(f"the page failed: {[e.value for e in [*at.exception, *at.error]]}")
    t = time.perf_counter()
    at.run()
    return time.perf_counter() - t


def _met(ok: bool) -> str:
    return "met" if ok else "not met"
