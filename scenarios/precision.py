"""Replications until the answer is clear: rounds of Ray tasks until each KPI meets a precision.

A KPI meets precision R when, for every design, its 95 % interval's half-width is at most
R x max(|mean|, floor) (`scenarios.stats.relative_half_width`; the floor is declared with the
KPI so a mean near zero, e.g. lost payments, is judged against the smallest magnitude that
matters). By default the scenario's headline KPIs are driven; a round adds the replications the
current half-widths suggest (half-width shrinks as 1/sqrt(n)), at most doubling, never past the
cap. Rounds continue the same seed streams a single bigger sweep would use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from scenarios.params import ScenarioParams
from scenarios.registry import scenario as scenario_module
from scenarios.results import KPI
from scenarios.stats import MIN_REPS, mean_ci, relative_half_width
from scenarios.sweep import Progress, SweepResult, plan, run_plans
from twin.errors import ValidationError

Say = Callable[[str], None]


def check_target(precision: float, max_reps: int, first_reps: int) -> None:
    """Refuse a precision outside (0, 1), a cap below the first round, or a first round below 2."""
    if not (isinstance(precision, (int, float)) and 0 < precision < 1):
        raise ValidationError(f"--precision must be a relative half-width in (0, 1), e.g. 0.05; "
                              f"got {precision!r}")
    if not (isinstance(first_reps, int) and first_reps >= MIN_REPS):
        raise ValidationError(f"--precision needs a first round of at least {MIN_REPS} "
                              f"replications (--reps), got {first_reps!r}")
    if not (isinstance(max_reps, int) and max_reps >= first_reps):
        raise ValidationError(f"--max-reps must be at least the first round (--reps "
                              f"{first_reps}), got {max_reps!r}")


def selected(scenario: str, names: Sequence[str] | None = None) -> list[KPI]:
    """The KPIs to drive: `names` (checked against the scenario's) or its headline KPIs."""
    kpis = {k.name: k for k in scenario_module(scenario).KPIS}
    if not names:
        return [k for k in kpis.values() if k.headline]
    unknown = [n for n in names if n not in kpis]
    if unknown:
        raise ValidationError(f"unknown KPI(s) {', '.join(unknown)} for {scenario}; KPIs: "
                              f"{', '.join(kpis)}")
    return [kpis[n] for n in names]


def status(sweep: SweepResult, kpis: Sequence[KPI], target: float) -> list[dict]:
    """Per KPI: replications used, the worst design's relative half-width, and whether met."""
    rows = []
    for kpi in kpis:
        cis = [mean_ci(sweep.values(d, kpi.name), kpi.bounds) for d in range(len(sweep.designs))]
        rels = [relative_half_width(ci, kpi.floor) for ci in cis]
        worst = max(rels, key=lambda r: math.inf if math.isnan(r) else r)
        rows.append({"kpi": kpi.name, "label": kpi.title, "reps": sweep.reps,
                     "finite_reps": min(ci.n for ci in cis), "rel_half_width": worst,
                     "target": target, "met": bool(worst <= target)})
    return rows


def more_reps(rows: Sequence[dict], reps: int, cap: int) -> int:
    """How many replications the next round adds (0 when every KPI is met or the cap reached)."""
    if reps >= cap or all(r["met"] for r in rows):
        return 0
    wanted = reps
    for r in rows:
        if r["met"]:
            continue
        rel = r["rel_half_width"]
        grow = (rel / r["target"]) ** 2 if math.isfinite(rel) else 2.0
        wanted = max(wanted, math.ceil(reps * grow))
    return max(1, min(wanted - reps, reps, cap - reps))


def progress_line(scenario: str, rows: Sequence[dict]) -> str:
    """One stderr line: each KPI's current relative half-width against the target."""
    def one(r: dict) -> str:
        rel = r["rel_half_width"]
        shown = "no interval yet" if math.isnan(rel) else f"±{rel:.1%}"
        return f"{r['kpi']} {shown}{' ✓' if r['met'] else ''}"

    if not rows:
        return f"  {scenario}: no KPI selected"
    return (f"  {scenario} after {rows[0]['reps']} replications (target ±{_pct(rows[0]['target'])})"
            f": " + "; ".join(one(r) for r in rows))


def run_until_precise(specs: Sequence[tuple[str, Sequence[ScenarioParams]]], precision: float,
                      max_reps: int, first_reps: int, seed: int = 0, executor: str = "ray",
                      progress: Progress | None = None, common_random_numbers: bool = True,
                      kpis: Sequence[str] | None = None, say: Say | None = None
                      ) -> list[SweepResult]:
    """Rounds of replications of every scenario until its selected KPIs meet `precision`.

    `kpis` names the KPIs to drive (only with one scenario); by default each scenario's
    headline KPIs. Every round's tasks of all scenarios are submitted together.
    """
    check_target(precision, max_reps, first_reps)
    if kpis and len(specs) != 1:
        raise ValidationError("naming KPIs to drive needs exactly one scenario")
    chosen = {name: selected(name, kpis) for name, _ in specs}
    sweeps: dict[str, SweepResult] = {}
    todo = {name: first_reps for name, _ in specs}
    while todo:
        part = [(name, params) for name, params in specs if name in todo]
        plans = [plan(name, params, todo[name], seed, common_random_numbers,
                      sweeps[name].reps if name in sweeps else 0) for name, params in part]
        for new in run_plans(part, plans, seed, executor, progress, common_random_numbers):
            old = sweeps.get(new.scenario)
            sweeps[new.scenario] = old.extended(new) if old else new
        todo = {}
        for name, _ in part:
            rows = status(sweeps[name], chosen[name], precision)
            if say:
                say(progress_line(name, rows))
            add = more_reps(rows, sweeps[name].reps, max_reps)
            if add:
                todo[name] = add
    return [_with_precision(sweeps[name], status(sweeps[name], chosen[name], precision))
            for name, _ in specs]


def _with_precision(sweep: SweepResult, rows: list[dict]) -> SweepResult:
    """The sweep carrying its precision rows (for the reports)."""
    from dataclasses import replace

    return replace(sweep, precision=tuple(rows))


def _pct(x: float) -> str:
    """A target share as a percentage with as many digits as it was given."""
    return f"{x * 100:g}%"


def summary_lines(sweep: SweepResult) -> list[str]:
    """Sentences for a report: per driven KPI, replications used and whether the target was met."""
    if not sweep.precision:
        return []
    target = sweep.precision[0]["target"]
    lines = [f"Precision target: 95 % half-width ≤ {_pct(target)} of the mean (or of the KPI's "
             f"floor when the mean is near zero), for every design; replications in rounds up "
             f"to the cap."]
    for r in sweep.precision:
        rel = r["rel_half_width"]
        got = "no interval" if math.isnan(rel) else f"±{rel:.1%}"
        verdict = "met" if r["met"] else "NOT met (cap reached)"
        lines.append(f"- {r['label']}: {r['reps']} replications, {got}: {verdict}")
    return lines
