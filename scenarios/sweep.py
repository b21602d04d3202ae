"""Replications of a scenario over several designs, as Ray tasks (or one after another).

Seeds: replication r of every design gets the r-th child of `SeedSequence(seed)` — common
random numbers, so design differences are paired and their intervals tight. With
`common_random_numbers=False` every (design, replication) gets its own child and differences
use Welch's interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from scenarios.params import ScenarioParams
from scenarios.registry import scenario as scenario_module
from scenarios.results import KPI, ScenarioResult
from scenarios.stats import Interval, diff_ci, mean_ci, relative_half_width, verdict
from twin.errors import ValidationError

ROOT = Path(__file__).resolve().parent.parent
Progress = Callable[[int, int, str], None]
TABLE_SCHEMA = {"scenario": pl.Utf8, "kpi": pl.Utf8, "label": pl.Utf8, "unit": pl.Utf8,
                "kind": pl.Utf8, "design": pl.Utf8, "n": pl.Int64, "mean": pl.Float64,
                "ci_low": pl.Float64, "ci_high": pl.Float64, "half_width": pl.Float64,
                "rel_half_width": pl.Float64, "needs_reps": pl.Int64}
DIFF_SCHEMA = {"scenario": pl.Utf8, "kpi": pl.Utf8, "label": pl.Utf8, "unit": pl.Utf8,
               "design": pl.Utf8, "versus": pl.Utf8, "difference": pl.Float64,
               "ci_low": pl.Float64, "ci_high": pl.Float64, "n": pl.Int64,
               "needs_reps": pl.Int64, "verdict": pl.Utf8}
__all__ = ["SweepResult", "Task", "plan", "run_sweep", "run_sweeps", "start_ray", "verdict"]


@dataclass(frozen=True)
class Task:
    """One replication: the scenario, which design and replication, parameters and seed stream."""

    scenario: str
    design_index: int
    rep: int
    params: ScenarioParams
    seed: np.random.SeedSequence


def plan(scenario: str, params: Sequence[ScenarioParams], reps: int, seed: int,
         common_random_numbers: bool = True, start: int = 0) -> list[Task]:
    """The tasks of a sweep: every design's parameters times `reps` seed streams.

    Replication r's stream is child r of `SeedSequence(seed)` (with common random numbers) or
    child r * designs + d (independent streams), so a later round (`start` > 0) continues the
    same streams a single bigger sweep would use.
    """
    if not (isinstance(reps, int) and reps >= 1):
        raise ValidationError(f"reps must be a whole number >= 1, got {reps!r}")
    if not params:
        raise ValidationError("a sweep needs at least one design")
    scenario_module(scenario)
    if not (isinstance(start, int) and start >= 0):
        raise ValidationError(f"start must be a whole number >= 0, got {start!r}")
    k = len(params)

    def child(i: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(seed, spawn_key=(i,))  # = SeedSequence(seed).spawn(...)[i]

    return [Task(scenario, d, r, p, child(r if common_random_numbers else r * k + d))
            for d, p in enumerate(params) for r in range(start, start + reps)]


def run_task(task: Task) -> ScenarioResult:
    """Run one replication (in a Ray worker or here)."""
    return scenario_module(task.scenario).run(task.params, task.seed)


@dataclass(frozen=True)
class SweepResult:
    """Every replication's result and the KPI table over replications."""

    scenario: str
    designs: tuple[str, ...]
    reps: int
    seed: int
    paired: bool
    results: tuple[tuple[int, int, ScenarioResult], ...]  # (design index, rep, result)
    wall_seconds: float = field(default=0.0, compare=False)
    precision: tuple[dict[str, Any], ...] = field(default=(), compare=False)  # see precision.py
    nodes: tuple[str, ...] = field(default=(), compare=False)  # the Ray node of each result

    def extended(self, more: SweepResult) -> SweepResult:
        """This sweep with a later round's replications of the same designs added."""
        if (more.scenario, more.designs, more.seed, more.paired) != (
                self.scenario, self.designs, self.seed, self.paired):
            raise ValidationError("only a later round of the same sweep can extend it")
        return replace(self, reps=self.reps + more.reps, results=self.results + more.results,
                       wall_seconds=self.wall_seconds + more.wall_seconds,
                       nodes=self.nodes + more.nodes)

    def kpis(self) -> pl.DataFrame:
        """One row per (design, replication, KPI): the value."""
        rows = [
            {"scenario": self.scenario, "design": self.designs[d], "rep": r, "kpi": k,
             "value": float("nan") if v is None else float(v)}
            for d, r, res in self.results for k, v in res.kpis.items()
        ]
        return pl.DataFrame(rows, schema={"scenario": pl.Utf8, "design": pl.Utf8, "rep": pl.Int64,
                                          "kpi": pl.Utf8, "value": pl.Float64})

    def values(self, design: int, kpi: str) -> np.ndarray:
        """The KPI's values over the replications of one design, in replication order."""
        pairs = sorted((r, res.kpis[kpi]) for d, r, res in self.results if d == design)
        return np.array([np.nan if v is None else v for _, v in pairs], dtype=np.float64)

    def table(self) -> pl.DataFrame:
        """Per design and KPI: replications, mean and 95 % confidence interval."""
        mod = scenario_module(self.scenario)
        rows = []
        for kpi in mod.KPIS:
            for d, name in enumerate(self.designs):
                ci = _declared(kpi, self.scenario, mean_ci, self.values(d, kpi.name))
                rows.append({"scenario": self.scenario, "kpi": kpi.name, "label": kpi.title,
                             "unit": kpi.unit, "kind": kpi.kind, "design": name, "n": ci.n,
                             "mean": ci.mean, "ci_low": ci.low, "ci_high": ci.high,
                             "half_width": ci.half_width,
                             "rel_half_width": relative_half_width(ci, kpi.floor),
                             "needs_reps": ci.needs})
        return pl.DataFrame(rows, schema=TABLE_SCHEMA)

    def differences(self) -> pl.DataFrame:
        """Per KPI and design after the first: mean difference to the first design and its CI."""
        mod = scenario_module(self.scenario)
        rows = []
        for kpi in mod.KPIS:
            ref = self.values(0, kpi.name)
            for d in range(1, len(self.designs)):
                ci = _declared(kpi, self.scenario, diff_ci, ref, self.values(d, kpi.name),
                               self.paired)
                rows.append({"scenario": self.scenario, "kpi": kpi.name, "label": kpi.title,
                             "unit": kpi.unit, "design": self.designs[d],
                             "versus": self.designs[0], "difference": ci.mean,
                             "ci_low": ci.low, "ci_high": ci.high, "n": ci.n,
                             "needs_reps": ci.needs, "verdict": verdict(kpi.better, ci)})
        return pl.DataFrame(rows, schema=DIFF_SCHEMA)

    def frame(self, name: str) -> pl.DataFrame:
        """One named frame of every replication, stacked with design and rep columns."""
        parts = [res.frames[name].with_columns(design=pl.lit(self.designs[d]), rep=pl.lit(r))
                 for d, r, res in self.results if name in res.frames]
        return pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()


def _declared(kpi: KPI, scenario: str, interval: Callable[..., Interval], *args: Any) -> Interval:
    """`interval(*args, kpi.bounds)`, naming the KPI when its values leave the declared range."""
    try:
        return interval(*args, kpi.bounds)
    except ValueError as exc:
        raise ValidationError(f"KPI {kpi.name} of {scenario}: {exc}; its kind ({kpi.kind}) or "
                              "range is declared wrong") from exc


def run_sweep(scenario: str, params: Sequence[ScenarioParams], reps: int, seed: int = 0,
              executor: str = "ray", progress: Progress | None = None,
              common_random_numbers: bool = True) -> SweepResult:
    """Run every replication of every design, on Ray (already initialised) or sequentially."""
    return run_sweeps([(scenario, params)], reps, seed, executor, progress,
                      common_random_numbers)[0]


def run_sweeps(specs: Sequence[tuple[str, Sequence[ScenarioParams]]], reps: int, seed: int = 0,
               executor: str = "ray", progress: Progress | None = None,
               common_random_numbers: bool = True, start: int = 0) -> list[SweepResult]:
    """Several scenarios' sweeps at once (all tasks submitted together, so no core idles).

    `start` > 0 runs replications start .. start + reps - 1 (a later round of the same sweep).
    """
    if executor not in ("ray", "local"):
        raise ValidationError(f"executor must be 'ray' or 'local', got {executor!r}")
    plans = [plan(name, params, reps, seed, common_random_numbers, start)
             for name, params in specs]
    return run_plans(specs, plans, seed, executor, progress, common_random_numbers)


def run_plans(specs: Sequence[tuple[str, Sequence[ScenarioParams]]], plans: Sequence[list[Task]],
              seed: int, executor: str = "ray", progress: Progress | None = None,
              common_random_numbers: bool = True) -> list[SweepResult]:
    """Run every spec's planned tasks together (each plan may have its own replications)."""
    if executor not in ("ray", "local"):
        raise ValidationError(f"executor must be 'ray' or 'local', got {executor!r}")
    tasks = [t for p in plans for t in p]
    t0 = time.perf_counter()
    if executor == "ray":
        outs, where = _run_on_ray(tasks, progress)
    else:
        outs, where = [], ["local"] * len(tasks)
        for i, task in enumerate(tasks):
            outs.append(run_task(task))
            if progress:
                progress(i + 1, len(tasks), _label(task))
    wall = time.perf_counter() - t0
    sweeps, i = [], 0
    for (name, params), p in zip(specs, plans, strict=True):
        results = tuple((t.design_index, t.rep, r) for t, r in zip(p, outs[i:i + len(p)],
                                                                     strict=True))
        nodes = tuple(where[i:i + len(p)])
        i += len(p)
        reps = len({t.rep for t in p})
        sweeps.append(SweepResult(name, tuple(x.design for x in params), reps, seed,
                                  common_random_numbers, results, wall, nodes=nodes))
    return sweeps


def run_city_sweeps(scenario: str, params_by_city: dict[str, Sequence[ScenarioParams]], reps: int,
                    seed: int = 0, executor: str = "ray", progress: Progress | None = None,
                    common_random_numbers: bool = True) -> dict[str, SweepResult]:
    """One sweep per city, every city's tasks submitted together; each city's sweep by its name."""
    if not params_by_city:
        raise ValidationError("a sweep over cities needs at least one city")
    for city, params in params_by_city.items():
        if any(p.city != city for p in params):
            raise ValidationError(f"the designs listed under {city!r} must be for that city")
    sweeps = run_sweeps([(scenario, params) for params in params_by_city.values()], reps, seed,
                        executor, progress, common_random_numbers)
    return dict(zip(params_by_city, sweeps, strict=True))


def _label(task: Task) -> str:
    """A progress label for a task."""
    return f"{task.scenario} {task.params.city} {task.params.design} rep {task.rep + 1}"


def _run_placed(task: Task) -> tuple[ScenarioResult, str]:
    """Run one replication in a Ray worker; its result and the id of the node it ran on."""
    import ray

    return run_task(task), ray.get_runtime_context().get_node_id()


def _run_on_ray(tasks: list[Task], progress: Progress | None) -> tuple[list[Any], list[str]]:
    """Submit every task, report each completion, and fetch the results and nodes at the end.

    Tasks are spread over the cluster's nodes (one CPU each): replications are CPU-bound, and on
    one machine SPREAD is the same as the default.
    """
    import ray

    if not ray.is_initialized():
        raise ValidationError("Ray is not initialised; call scenarios.sweep.start_ray() first")
    remote = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(_run_placed)
    refs = [remote.remote(task) for task in tasks]
    labels = {ref: _label(task) for ref, task in zip(refs, tasks, strict=True)}
    pending, done = list(refs), 0
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        done += 1
        if progress:
            progress(done, len(tasks), labels[ready[0]])
    pairs = ray.get(refs)
    return [r for r, _ in pairs], [n for _, n in pairs]


def start_ray(address: str | None = None, num_cpus: int | None = None,
              upload_code: bool = False) -> bool:
    """Initialise Ray locally or on a cluster; True if this call started it (so stop it later)."""
    import ray

    if ray.is_initialized():
        return False
    env: dict[str, Any] = {"env_vars": {"PYTHONPATH": str(ROOT)}}
    if upload_code:
        env = {"working_dir": str(ROOT), "excludes": [".venv", ".git", "results", "*.parquet",
                                                       "*.sqlite*", "__pycache__", "notebooks"]}
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "configure_logging": False, "runtime_env": env}
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=num_cpus, **kwargs)
    return True
