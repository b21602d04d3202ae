"""The dashboard's heavy work, cached: scenario replications, reviews, cities and plots.

Every replication is cached by (city, design, scenario, seed, reps, rep) plus the population
scale and the scenario overrides, so a second look at the same comparison runs nothing. A
replication uses exactly the seed stream `scenarios.sweep.plan` gives it, and replication r
of every design shares stream r, so the assembled sweep equals `run_sweep` over all designs
at once (paired differences, common random numbers). The missing replications run on the
page's worker processes (`dashboards.pool`, every core) and `stream` hands over each
scenario's sweep as soon as its replications are in.
"""

from __future__ import annotations

import json
import threading
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

import polars as pl
import streamlit as st

from dashboards import plots, tables
from dashboards import pool as workers
from dashboards.pool import Replication
from dashboards.schedule import CostKey, Item, Scheduler
from dashboards.spec import RunSpec, build_params
from scenarios.cities import city_for
from scenarios.precision import check_target, more_reps, selected, status
from scenarios.registry import scenario as scenario_module
from scenarios.sweep import SweepResult, Task, plan
from twin.design import design_from_dict
from twin.errors import TwinError
from twin.policy import Review, review

Progress = Callable[[int, int, str], None]
MAX_CACHED_REPLICATIONS = 400
COMPUTED: Counter[str] = Counter()  # replications actually run for this process, by scenario
WORKER_CPU: Counter[str] = Counter()  # CPU seconds the worker processes spent, by scenario
__all__ = ["COMPUTED", "WORKER_CPU", "Replication", "WorkerLost", "comparison_table",
           "headline_table", "pool", "ready", "replication", "run_all", "stream", "sweep"]


class WorkerLost(TwinError):
    """A worker process died during a run (e.g. out of memory); the pool is started afresh."""

    code = "worker_lost"


class _NotCached(Exception):
    """Raised by `_not_cached` so a look-up in the cache runs nothing."""


def _not_cached() -> Replication:
    """`_make` for a look-up only: a replication not in the cache is not run here."""
    raise _NotCached


@st.cache_resource(show_spinner=False)
def pool() -> ProcessPoolExecutor:
    """The page's worker processes, one per core, started (and warmed) once per server."""
    return workers.start(workers.worker_count())


@st.cache_resource(max_entries=MAX_CACHED_REPLICATIONS, show_spinner=False)
def replication(*, city: str, design_toml: str, scenario: str, seed: int, reps: int, rep: int,
                scale: float, overrides_json: str,
                _make: Callable[[], Replication]) -> Replication:
    """Replication `rep` of `reps` of one scenario on one design: cached, else made by `_make`.

    A resource cache: a look returns the frozen result itself, not an unpickled copy (60
    full-scale replications are ~270 MB pickled). `_make` is not part of the key.
    """
    made = _make()
    COMPUTED[scenario] += 1
    return made


def _task(key: Mapping[str, Any]) -> Task:
    """The planned task of a replication key (the stream run_sweep gives replication `rep`)."""
    params = build_params(city=key["city"], design_toml=key["design_toml"],
                          scenario=key["scenario"], scale=key["scale"],
                          overrides_json=key["overrides_json"])
    return plan(key["scenario"], [params], key["reps"], key["seed"])[key["rep"]]


def _keys(spec: RunSpec, scenario: str, n: int) -> list[tuple[int, int, dict[str, Any]]]:
    """(design index, replication, cache key) of every replication of one scenario."""
    # replications past the spec's own keep one cache key whatever the round
    return [(d, r, {"city": spec.city, "design_toml": choice.toml, "scenario": scenario,
                    "seed": spec.seed, "reps": max(spec.reps, r + 1), "rep": r,
                    "scale": spec.scale, "overrides_json": spec.overrides_json(scenario)})
            for d, choice in enumerate(spec.designs) for r in range(n)]


_SECONDS: dict[CostKey, float] = {}  # seconds per replication seen, for the scheduler
_INFLIGHT: dict[str, Future] = {}  # replications on the workers, by key (a rerun picks them up)
_LOCK = threading.Lock()


def _submit(key: dict[str, Any]) -> Future:
    """The worker's future for a replication: one already running for this key, or a new one."""
    k = json.dumps(key, sort_keys=True)
    with _LOCK:
        fut = _INFLIGHT.get(k)
        if fut is None or fut.cancelled() or (fut.done() and fut.exception() is not None):
            fut = _INFLIGHT[k] = pool().submit(workers.timed_replication, _task(key))
        return fut


def _forget(key: dict[str, Any], fut: Future) -> None:
    """Drop a finished or cancelled future from the in-flight table."""
    with _LOCK:
        k = json.dumps(key, sort_keys=True)
        if _INFLIGHT.get(k) is fut:
            del _INFLIGHT[k]


def stream(spec: RunSpec, progress: Progress | None = None, *, reps: int | None = None,
           scenarios: Sequence[str] | None = None,
           parallel: bool = True) -> Iterator[tuple[str, SweepResult]]:
    """Each scenario's sweep as soon as all its replications are in (cached ones first).

    Missing replications run on the worker processes (`parallel`, the scenario with the least
    work left first: `dashboards.schedule`) or here, one after another in the spec's order;
    the sweeps are the same either way.
    """
    n = reps or spec.reps
    names = tuple(scenarios or spec.scenarios)
    keys = {s: _keys(spec, s, n) for s in names}
    total = sum(len(k) for k in keys.values())
    got: dict[str, dict[tuple[int, int], Replication]] = {s: {} for s in names}
    missing, done = [], 0
    for s in names:
        for d, r, key in keys[s]:
            try:
                got[s][d, r] = replication(**key, _make=_not_cached)
            except _NotCached:
                missing.append((s, d, r, key))
                continue
            done += 1
            if progress:
                progress(done, total, _label(spec, s, d, r, n))
    for s in names:
        if not any(m[0] == s for m in missing):
            yield s, _assembled(spec, s, n, got[s])
    runs = _parallel(missing) if parallel else _inline(missing)
    for s, d, r, key, made in runs:
        got[s][d, r] = replication(**key, _make=lambda made=made: made)
        done += 1
        if progress:
            progress(done, total, _label(spec, s, d, r, n))
        if len(got[s]) == len(keys[s]):
            yield s, _assembled(spec, s, n, got[s])


def _inline(missing: list[Item]) -> Iterator[tuple]:
    """Run the missing replications here, in order."""
    for s, d, r, key in missing:
        yield s, d, r, key, workers.run_replication(_task(key))


def _parallel(missing: list[Item]) -> Iterator[tuple]:
    """Run the missing replications on the workers, shortest remaining work first (one per
    worker at a time, so the order follows the costs measured meanwhile); yield each as it
    finishes."""
    plan = Scheduler(missing, _SECONDS)
    width = workers.worker_count()
    pending: dict[Future, Item] = {}
    try:
        while plan or pending:
            while plan and len(pending) < width:
                item = plan.next()
                pending[_submit(item[3])] = item
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in [f for f in pending if f in finished]:  # submission order among ties
                item = pending.pop(fut)
                _forget(item[3], fut)
                made, seconds, cpu = fut.result()
                WORKER_CPU[item[0]] += cpu
                plan.finished(item, seconds)
                yield (*item, made)
    except BrokenProcessPool as exc:
        pool.clear()  # the next run starts a fresh pool
        raise WorkerLost(f"a worker process stopped during the run ({exc}); press Run again "
                         "(fewer replications or a smaller scale if it happens again)") from None
    finally:  # a rerun of the page left this run: drop what has not started
        for fut, item in pending.items():
            if fut.cancel():
                _forget(item[3], fut)


def _label(spec: RunSpec, scenario: str, d: int, r: int, n: int) -> str:
    """A progress label: which replication of which design and scenario."""
    return f"{scenario}: {spec.designs[d].name}, replication {r + 1}/{n}"


def _assembled(spec: RunSpec, scenario: str, n: int,
               got: Mapping[tuple[int, int], Replication]) -> SweepResult:
    """One scenario's paired sweep, in run_sweep's order (design, then replication)."""
    results = tuple((d, r, got[d, r].result()) for d in range(len(spec.designs))
                    for r in range(n))
    return SweepResult(scenario, spec.names, n, spec.seed, True, results)


def sweep(spec: RunSpec, scenario: str, progress: Progress | None = None,
          reps: int | None = None, parallel: bool = True) -> SweepResult:
    """Every design's replications of one scenario (the spec's, or `reps`), as one paired sweep."""
    ((_, result),) = stream(spec, progress, reps=reps, scenarios=(scenario,), parallel=parallel)
    return result


def ready(spec: RunSpec, progress: Progress | None = None, precision: float = 0.0,
          max_reps: int = 50) -> Iterator[tuple[str, SweepResult]]:
    """Each scenario's sweep as it is ready: streamed, or grown round by round to `precision`."""
    if not precision:
        yield from stream(spec, progress)
        return
    for s in spec.scenarios:
        yield s, _precise(spec, s, progress, precision, max_reps)


def run_all(spec: RunSpec, progress: Progress | None = None, precision: float = 0.0,
            max_reps: int = 50, parallel: bool = True) -> dict[str, SweepResult]:
    """The sweeps of every scenario of the spec, reporting progress per replication.

    With `precision` > 0, replications are added in rounds until each scenario's headline KPIs
    meet it (`scenarios.precision`) or `max_reps` is reached; each sweep carries its rows.
    """
    if precision:
        got = dict(ready(spec, progress, precision, max_reps))
    else:
        got = dict(stream(spec, progress, parallel=parallel))
    return {s: got[s] for s in spec.scenarios}


def _precise(spec: RunSpec, scenario: str, progress: Progress | None, precision: float,
             max_reps: int) -> SweepResult:
    """One scenario's sweep grown in rounds until its headline KPIs meet `precision`."""
    from scenarios.stats import MIN_REPS

    kpis = selected(scenario)
    n = max(spec.reps, MIN_REPS)
    check_target(precision, max(max_reps, n), n)
    while True:
        result = sweep(spec, scenario, progress, reps=n)
        rows = status(result, kpis, precision)
        add = more_reps(rows, n, max(max_reps, n))
        if not add:
            return replace(result, precision=tuple(rows))
        n += add


def _spec_key(spec: RunSpec) -> tuple:
    """What identifies a spec's results in the cache."""
    return (spec.city, tuple(d.toml for d in spec.designs), spec.scenarios, spec.reps, spec.seed,
            spec.scale, spec.overrides)


_SPEC_HASH = {RunSpec: _spec_key}


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=_SPEC_HASH)
def headline_table(*, spec: RunSpec, precision: float, _sweeps: Mapping[str, SweepResult],
                   _reviews: Sequence[Review]) -> pl.DataFrame:
    """The key-figures table of a run (cached by request: the sweeps follow from it)."""
    return tables.headline_frame(_sweeps, _reviews)


@st.cache_data(max_entries=96, show_spinner=False, hash_funcs=_SPEC_HASH)
def comparison_table(*, spec: RunSpec, scenario: str, precision: float,
                     _sweep: SweepResult) -> pl.DataFrame:
    """A scenario's KPI comparison table of a run (cached by request)."""
    return tables.comparison_frame(_sweep)


@st.cache_data(max_entries=64, show_spinner=False)
def review_of(*, design_toml: str, city: str) -> Review:
    """The review of a design for a city (cached)."""
    return review(design_from_dict(tomllib.loads(design_toml), "design"), city)


def reviews(spec: RunSpec) -> list[Review]:
    """The reviews of every design of the spec, in order."""
    return [review_of(design_toml=d.toml, city=spec.city) for d in spec.designs]


@st.cache_data(max_entries=16, show_spinner=False)
def facilities(*, city: str, seed: int, scale: float) -> pl.DataFrame:
    """The city's facilities (shelters, stores, kiosk sites, counters) with coordinates."""
    return city_for(city, seed, scale).facilities


@st.cache_data(max_entries=128, show_spinner=False, hash_funcs=_SPEC_HASH)
def scenario_plot(*, spec: RunSpec, scenario: str, index: int) -> bytes | None:
    """PNG of plot `index` of a scenario's PLOTS over the spec's designs (None: no data)."""
    plot = scenario_module(scenario).PLOTS[index]
    return plots.scenario_png(sweep(spec, scenario), plot)


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=_SPEC_HASH)
def cost_plot(*, spec: RunSpec) -> bytes:
    """PNG of the cost breakdown of every design of the spec."""
    sweeps = {s: sweep(spec, s) for s in spec.scenarios}
    return plots.cost_png(plots.cost_items(sweeps, reviews(spec)))


@st.cache_data(max_entries=32, show_spinner=False)
def map_plot(*, city: str, seed: int, scale: float, design_tomls: tuple[str, ...]) -> bytes:
    """PNG map of shelters, kiosks and counters as each design equips them."""
    designs = [design_from_dict(tomllib.loads(t), "design") for t in design_tomls]
    return plots.map_png(facilities(city=city, seed=seed, scale=scale), designs, city)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_SPEC_HASH)
def report_parts(*, spec: RunSpec) -> tuple[str, dict[str, bytes]]:
    """The council report's Markdown and its PNGs by file name (from the cached runs)."""
    from dashboards import export

    pngs = {}
    for s in spec.scenarios:
        for i in range(len(scenario_module(s).PLOTS)):
            png = scenario_plot(spec=spec, scenario=s, index=i)
            if png is not None:
                pngs[export.plot_name(s, i)] = png
    pngs[export.COSTS_PNG] = cost_plot(spec=spec)
    pngs[export.MAP_PNG] = map_plot(city=spec.city, seed=city_seed(spec), scale=spec.scale,
                                    design_tomls=tuple(d.toml for d in spec.designs))
    sweeps = {s: sweep(spec, s) for s in spec.scenarios}
    return export.report_markdown(spec, sweeps, reviews(spec), pngs), pngs


def city_seed(spec: RunSpec) -> int:
    """The synthetic city's seed the scenarios use (the parameter `city_seed`)."""
    return int(spec.params(spec.scenarios[0], 0).city_seed)


def kpi_docs(scenario: str) -> Mapping[str, Any]:
    """The scenario's KPI definitions by name."""
    return {k.name: k for k in scenario_module(scenario).KPIS}
