"""The dashboard's heavy work, cached: scenario replications, reviews, cities and plots.

Every replication is cached by (city, design, scenario, seed, reps, rep) plus the population
scale and the scenario overrides, so a second look at the same comparison runs nothing. A
replication uses exactly the seed stream `scenarios.sweep.plan` gives it, and replication r
of every design shares stream r, so the assembled sweep equals `run_sweep` over all designs
at once (paired differences, common random numbers).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import polars as pl
import streamlit as st

from dashboards import plots
from dashboards.spec import RunSpec, build_params
from scenarios.cities import city_for
from scenarios.precision import check_target, more_reps, selected, status
from scenarios.registry import scenario as scenario_module
from scenarios.results import ScenarioResult
from scenarios.sweep import SweepResult, plan
from twin.design import design_from_dict
from twin.policy import Review, review

Progress = Callable[[int, int, str], None]
MAX_CACHED_REPLICATIONS = 400
COMPUTED: Counter[str] = Counter()  # replications actually run in this process, by scenario


@dataclass(frozen=True)
class Replication:
    """One replication's result in a form the cache can pickle (ScenarioResult holds proxies)."""

    scenario: str
    params: dict[str, Any]
    seed: dict[str, Any]
    kpis: dict[str, float]
    frames: dict[str, pl.DataFrame]
    notes: tuple[str, ...]

    @classmethod
    def of(cls, r: ScenarioResult) -> Replication:
        """The plain copy of a ScenarioResult."""
        return cls(r.scenario, dict(r.params), dict(r.seed), dict(r.kpis), dict(r.frames),
                   tuple(r.notes))

    def result(self) -> ScenarioResult:
        """The ScenarioResult again."""
        return ScenarioResult(self.scenario, self.params, self.seed, self.kpis, self.frames,
                              self.notes)


@st.cache_data(max_entries=MAX_CACHED_REPLICATIONS, show_spinner=False)
def replication(*, city: str, design_toml: str, scenario: str, seed: int, reps: int, rep: int,
                scale: float, overrides_json: str) -> Replication:
    """Run replication `rep` of `reps` of one scenario on one design (cached)."""
    params = build_params(city=city, design_toml=design_toml, scenario=scenario, scale=scale,
                          overrides_json=overrides_json)
    task = plan(scenario, [params], reps, seed)[rep]  # the stream run_sweep gives replication rep
    result = scenario_module(scenario).run(task.params, task.seed)
    COMPUTED[scenario] += 1
    return Replication.of(result)


def sweep(spec: RunSpec, scenario: str, progress: Progress | None = None,
          done: int = 0, total: int = 0, reps: int | None = None) -> SweepResult:
    """Every design's replications of one scenario (the spec's, or `reps`), as one paired sweep."""
    n = reps or spec.reps
    results = []
    for d, choice in enumerate(spec.designs):
        for r in range(n):
            # replications past the spec's own keep one cache key whatever the round
            rep = replication(city=spec.city, design_toml=choice.toml, scenario=scenario,
                              seed=spec.seed, reps=max(spec.reps, r + 1), rep=r, scale=spec.scale,
                              overrides_json=spec.overrides_json(scenario))
            results.append((d, r, rep.result()))
            done += 1
            if progress:
                progress(done, total, f"{scenario}: {choice.name}, replication {r + 1}/{n}")
    return SweepResult(scenario, spec.names, n, spec.seed, True, tuple(results))


def run_all(spec: RunSpec, progress: Progress | None = None, precision: float = 0.0,
            max_reps: int = 50) -> dict[str, SweepResult]:
    """The sweeps of every scenario of the spec, reporting progress per replication.

    With `precision` > 0, replications are added in rounds until each scenario's headline KPIs
    meet it (`scenarios.precision`) or `max_reps` is reached; each sweep carries its rows.
    """
    if precision:
        return {s: _precise(spec, s, progress, precision, max_reps) for s in spec.scenarios}
    total = len(spec.scenarios) * len(spec.designs) * spec.reps
    out = {}
    for i, scenario in enumerate(spec.scenarios):
        done = i * len(spec.designs) * spec.reps
        out[scenario] = sweep(spec, scenario, progress, done, total)
    return out


def _precise(spec: RunSpec, scenario: str, progress: Progress | None, precision: float,
             max_reps: int) -> SweepResult:
    """One scenario's sweep grown in rounds until its headline KPIs meet `precision`."""
    from scenarios.stats import MIN_REPS

    kpis = selected(scenario)
    n = max(spec.reps, MIN_REPS)
    check_target(precision, max(max_reps, n), n)
    while True:
        result = sweep(spec, scenario, progress, 0, len(spec.designs) * n, reps=n)
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
