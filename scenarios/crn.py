"""Common random numbers, measured: variance of paired differences against independent streams.

The same designs run twice: with common random numbers (replication r of every design uses seed
stream r) and with independent streams (every design and replication its own). For each KPI the
ratio var(paired differences) / var(independent differences) says how much the shared streams
sharpen a comparison (below 1: they help; the aim is at most 0.5 for the headline KPIs). It
works with whatever seeding the scenarios do inside a replication: it only runs both ways.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from scenarios.params import ScenarioParams
from scenarios.registry import scenario as scenario_module
from scenarios.sweep import Progress, SweepResult, plan, run_plans, run_sweeps

AIM = 0.5


def variance_ratios(paired: SweepResult, independent: SweepResult,
                    kpis: Sequence[str] | None = None) -> list[dict]:
    """Per KPI and design after the first: both variances of the difference and their ratio."""
    names = kpis or [k.name for k in scenario_module(paired.scenario).KPIS if k.headline]
    rows = []
    for kpi in names:
        for d in range(1, len(paired.designs)):
            dp = paired.values(d, kpi) - paired.values(0, kpi)
            di = independent.values(d, kpi) - independent.values(0, kpi)
            vp, vi = _var(dp), _var(di)
            rows.append({"scenario": paired.scenario, "kpi": kpi, "design": paired.designs[d],
                         "versus": paired.designs[0], "reps": int(min(np.isfinite(dp).sum(),
                                                                       np.isfinite(di).sum())),
                         "var_paired": vp, "var_independent": vi, "ratio": _quotient(vp, vi)})
    return rows


def _quotient(vp: float, vi: float) -> float:
    """vp / vi; NaN when undefined or when neither varies, infinity when only the paired does."""
    if math.isnan(vp) or math.isnan(vi) or vp == vi == 0:
        return math.nan
    return vp / vi if vi > 0 else math.inf
def _var(x: np.ndarray) -> float:
    """Sample variance of the finite values (NaN with fewer than two)."""
    x = x[np.isfinite(x)]
    return float(x.var(ddof=1)) if x.size >= 2 else math.nan


def measure(specs: Sequence[tuple[str, Sequence[ScenarioParams]]], reps: int, seed: int = 0,
            executor: str = "ray", progress: Progress | None = None,
            paired: Sequence[SweepResult] | None = None) -> list[dict]:
    """Run the specs with independent streams (and with common ones unless given); the ratios.

    With `paired` given (sweeps already run), each scenario's independent run uses as many
    replications as its paired one.
    """
    if paired is None:
        paired = run_sweeps(specs, reps, seed, executor, progress, True)
    plans = [plan(name, params, p.reps, seed, common_random_numbers=False)
             for (name, params), p in zip(specs, paired, strict=True)]
    independent = run_plans(specs, plans, seed, executor, progress, False)
    return [r for p, i in zip(paired, independent, strict=True) for r in variance_ratios(p, i)]


def summary(rows: Sequence[dict]) -> str:
    """One sentence for a report: the ratio per KPI, and how many meet the aim."""
    if not rows:
        return "Common random numbers: no KPI to measure."
    shown = [f"{r['kpi']} {_ratio(r['ratio'])}" for r in rows]
    finite = [r for r in rows if math.isfinite(r["ratio"])]
    met = sum(r["ratio"] <= AIM for r in finite)
    return (f"Common random numbers, measured over {rows[0]['reps']} replications per way: "
            "variance of paired differences / variance with independent streams: "
            + ", ".join(shown) + f" ({met} of {len(rows)} at or below the aim of {AIM}).")


def _ratio(x: float) -> str:
    """A ratio for a sentence ('n/a' when undefined)."""
    return f"{x:.2f}" if math.isfinite(x) else ("n/a" if math.isnan(x) else "∞")
