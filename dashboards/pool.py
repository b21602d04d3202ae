"""The page's worker processes: a comparison's replications run on every core, beside the page.

One process pool per server (`dashboards.compute.pool` keeps it), started when the page first
opens and warmed with the scenario imports, so a first run waits only for its replications.
Each task is `scenarios.sweep.run_task` on the seed stream `scenarios.sweep.plan` gives it, so a
replication run here equals the same replication run in the page's process or by `run_sweep`.
No Streamlit here: the workers import only the twin and the scenarios.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import types
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import polars as pl

from scenarios.registry import names, scenario
from scenarios.results import ScenarioResult
from scenarios.sweep import Task, run_task
from twin.errors import ValidationError

WORKERS_ENV = "MYNA_DASHBOARD_WORKERS"  # worker processes (default: the cores this process may use)


@dataclass(frozen=True)
class Replication:
    """One replication's result in a form a cache and a pipe can pickle (ScenarioResult holds proxies)."""

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


def run_replication(task: Task) -> Replication:
    """Run one planned replication (in a worker or here) and return its plain copy."""
    return Replication.of(run_task(task))


def timed_replication(task: Task) -> tuple[Replication, float, float]:
    """Run one planned replication; its plain copy, the seconds it took and its CPU seconds."""
    t, cpu = time.perf_counter(), time.process_time()
    made = run_replication(task)
    return made, time.perf_counter() - t, time.process_time() - cpu


def warm() -> None:
    """Import every scenario (what a worker's first replication would otherwise wait for)."""
    for name in names():
        scenario(name)


def worker_count(environ: dict[str, str] | None = None) -> int:
    """How many worker processes: MYNA_DASHBOARD_WORKERS, else the cores this process may use."""
    raw = (os.environ if environ is None else environ).get(WORKERS_ENV, "").strip()
    if not raw:
        return max(1, len(os.sched_getaffinity(0)))
    if not (raw.isdigit() and 1 <= int(raw) <= 64):
        raise ValidationError(f"{WORKERS_ENV} must be a whole number from 1 to 64, got {raw!r}")
    return int(raw)


@contextmanager
def _bare_main() -> Iterator[None]:
    """While workers are spawned, an empty `__main__`: a spawned process would otherwise run the
    parent's main script again (the page, or a test's AppTest script) before its first task."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def start(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` fresh processes (spawned: the page's threads are not copied), each
    importing the scenarios (`warm`) as it starts, while the planner chooses."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=warm)
    with _bare_main():  # a task each, so every worker process starts now (none is idle before `warm` ends)
        for _ in range(workers):
            pool.submit(os.getpid)
    return pool


def warmed(pool: ProcessPoolExecutor, workers: int, timeout_s: float = 300.0) -> set[int]:
    """Wait until `workers` distinct worker processes have answered (each warms before its first
    task); their process ids."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while len(seen) < workers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(seen)} of {workers} worker processes answered "
                               f"within {timeout_s:g} s")
        seen |= {f.result() for f in [pool.submit(os.getpid) for _ in range(workers)]}
        time.sleep(0.05)
    return seen
