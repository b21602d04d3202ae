"""Which assumptions drive the answer: Morris screening, then Sobol indices for the few that matter.

The factors are the scenario's screened assumptions (`calibration/ranges.py`), each varied over
its declared [low, high]; a factor the design sets itself is left at the design's value. Every
design point runs with the SAME seed stream (common random numbers), so an effect is the
assumption's, not noise. With two designs, the output of a point is the difference of each KPI
(second design minus first, both at that point and seed): which assumptions move the answer
to "which design is better". Samplers and estimators are SALib's; the runs are
`scenarios.sensitivity_runs` points (the sweep's tasks, on Ray or one after another).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, get_type_hints

import numpy as np
import polars as pl

from calibration.ranges import (
    CALIBRATION,
    AssumptionRange,
    calibration_value,
    not_screened,
    screened,
)
from scenarios.params import ScenarioParams
from scenarios.registry import scenario as scenario_module
from scenarios.sensitivity_runs import points, run_points
from twin.errors import ValidationError

LEVELS = 4  # Morris grid levels: a step moves a factor by 2/3 of its range (SALib scales the
# elementary effect to the whole range: KPI change per low-to-high)
CONF = 0.95
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class Factor:
    """One varied assumption: the parameter, its range, whether it is a whole number, and why."""

    name: str
    low: float
    high: float
    integer: bool
    base: float
    reason: str


@dataclass(frozen=True)
class SensitivityResult:
    """A finished analysis: the factors, Morris and Sobol tables, every run, and notes."""

    scenario: str
    designs: tuple[str, ...]
    city: str
    scale: float
    seed: int
    trajectories: int
    samples: int
    factors: tuple[Factor, ...]
    morris: pl.DataFrame
    sobol: pl.DataFrame
    runs: pl.DataFrame
    notes: tuple[str, ...] = ()
    wall_seconds: float = field(default=0.0, compare=False)

    @property
    def difference(self) -> bool:
        """Whether the outputs are differences between two designs."""
        return len(self.designs) == 2

    def ranking(self, kpi: str) -> pl.DataFrame:
        """The Morris rows of one KPI, largest effect first."""
        return self.morris.filter(pl.col("kpi") == kpi).sort("rank")

    def top(self, n: int = 3, kpis: Sequence[str] | None = None) -> list[str]:
        """The n factors with the largest effect over `kpis` (mean of mu* / the KPI's largest)."""
        return overall_ranking(self.morris, kpis)[:n]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as None)."""
        return {"scenario": self.scenario, "designs": list(self.designs), "city": self.city,
                "scale": self.scale, "seed": self.seed, "trajectories": self.trajectories,
                "samples": self.samples, "difference": self.difference,
                "runs": self.runs.height,
                "factors": [{f.name: _json(getattr(x, f.name)) for f in fields(Factor)}
                            for x in self.factors],
                "morris": _rows(self.morris), "sobol": _rows(self.sobol),
                "notes": list(self.notes), "wall_seconds": round(self.wall_seconds, 2)}


def _json(v: Any) -> Any:
    """A value as JSON-safe (NaN becomes None)."""
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _rows(df: pl.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows with NaN as None."""
    return [{k: _json(v) for k, v in r.items()} for r in df.to_dicts()]


def factors_for(base: ScenarioParams, design_keys: Sequence[str] = (),
                only: Sequence[str] | None = None) -> tuple[list[Factor], list[str]]:
    """The scenario's screened assumptions as factors, and notes on those left out (and why)."""
    scen = type(base).scenario
    rows = screened(scen)
    known = {r.parameter for r in rows}
    if only:
        unknown = sorted(set(only) - known)
        if unknown:
            raise ValidationError(f"not screened assumptions of {scen}: {unknown}; "
                                  f"screened: {', '.join(sorted(known))}")
    hints = get_type_hints(type(base))
    out, notes = [], []
    for r in rows:
        if only and r.parameter not in only:
            continue
        if r.parameter in design_keys:
            notes.append(f"{r.parameter}: set by the design ({getattr(base, r.parameter)}), "
                         "not varied")
            continue
        out.append(_factor(r, base, hints.get(r.parameter) is int))
    notes += [f"{r.label}: {r.reason}" for r in not_screened(scen)]
    if not out:
        raise ValidationError(f"no assumption of {scen} left to vary")
    return out, notes


def _factor(r: AssumptionRange, base: ScenarioParams, integer: bool) -> Factor:
    """A range row as a factor, with the base run's value (a fitted figure's: the committed fit)."""
    if r.parameter.startswith(CALIBRATION):
        from calibration.params import fitted

        value = calibration_value(fitted(), r.parameter.removeprefix(CALIBRATION))
        return Factor(r.parameter, r.low, r.high, False, value, r.reason)
    return Factor(r.parameter, r.low, r.high, integer, float(getattr(base, r.parameter)), r.reason)


def problem(factors: Sequence[Factor]) -> dict[str, Any]:
    """SALib's problem definition."""
    return {"num_vars": len(factors), "names": [f.name for f in factors],
            "bounds": [[f.low, f.high] for f in factors]}


def point_params(base: ScenarioParams, factors: Sequence[Factor], x: np.ndarray
                 ) -> tuple[ScenarioParams, tuple[tuple[str, float], ...]]:
    """One design point: the parameters (whole numbers rounded) and the fitted figures moved."""
    changes = {f.name: int(round(v)) if f.integer else float(v)
               for f, v in zip(factors, x, strict=True) if not f.name.startswith(CALIBRATION)}
    fitted = tuple((f.name.removeprefix(CALIBRATION), float(v))
                   for f, v in zip(factors, x, strict=True) if f.name.startswith(CALIBRATION))
    return base.replace(**changes), fitted


def evaluate(bases: Sequence[ScenarioParams], factors: Sequence[Factor], X: np.ndarray,
             seed: int, executor: str, progress: Progress | None) -> tuple[np.ndarray, list[str]]:
    """Run every point (for each base design) with one seed stream; outputs and KPI names.

    With one base the outputs are its KPIs; with two, the second's KPIs minus the first's.
    """
    scen = type(bases[0]).scenario
    kpis = [k.name for k in scenario_module(scen).KPIS]
    made = [point_params(b, factors, x) for b in bases for x in X]
    results = run_points(points([p for p, _ in made], [c for _, c in made], seed), executor,
                         progress)
    Y = np.array([[np.nan if r.kpis.get(k) is None else float(r.kpis[k]) for k in kpis]
                  for r in results])
    if len(bases) == 2:
        n = len(X)
        Y = Y[n:] - Y[:n]
    return Y, kpis


def overall_ranking(morris: pl.DataFrame, kpis: Sequence[str] | None = None) -> list[str]:
    """Factors by their mean normalised mu* over the KPIs (each KPI's largest mu* = 1)."""
    df = morris if not kpis else morris.filter(pl.col("kpi").is_in(list(kpis)))
    df = df.filter(pl.col("mu_star").is_not_nan())
    peak = df.group_by("kpi").agg(pl.col("mu_star").max().alias("peak")).filter(pl.col("peak") > 0)
    score = (df.join(peak, on="kpi").with_columns(s=pl.col("mu_star") / pl.col("peak"))
             .group_by("parameter").agg(pl.col("s").mean()).sort(["s", "parameter"],
                                                                  descending=[True, False]))
    return score["parameter"].to_list()


def morris_table(factors: Sequence[Factor], X: np.ndarray, Y: np.ndarray, kpis: Sequence[str],
                 seed: int) -> tuple[pl.DataFrame, list[str]]:
    """Morris mu*, its 95 % interval (bootstrap, clipped at 0), mu and sigma per KPI and factor."""
    from SALib.analyze import morris as morris_analyze

    prob, rows, notes = problem(factors), [], []
    for j, kpi in enumerate(kpis):
        y = Y[:, j]
        if not np.all(np.isfinite(y)):
            notes.append(f"{kpi}: not ranked (no value in {int(np.sum(~np.isfinite(y)))} runs)")
            continue
        si = morris_analyze.analyze(prob, X, y, conf_level=CONF, num_levels=LEVELS, seed=seed)
        order = np.argsort(-np.asarray(si["mu_star"]), kind="stable")
        rank = np.empty(len(factors), dtype=int)
        rank[order] = np.arange(1, len(factors) + 1)
        for i, f in enumerate(factors):
            mu_star, conf = float(si["mu_star"][i]), float(si["mu_star_conf"][i])
            rows.append({"kpi": kpi, "parameter": f.name, "rank": int(rank[i]),
                         "mu_star": mu_star, "mu_star_low": max(0.0, mu_star - conf),
                         "mu_star_high": mu_star + conf, "low_clipped": mu_star - conf < 0,
                         "mu": float(si["mu"][i]), "sigma": float(si["sigma"][i])})
    schema = {"kpi": pl.Utf8, "parameter": pl.Utf8, "rank": pl.Int64, "mu_star": pl.Float64,
              "mu_star_low": pl.Float64, "mu_star_high": pl.Float64, "low_clipped": pl.Boolean,
              "mu": pl.Float64, "sigma": pl.Float64}
    return pl.DataFrame(rows, schema=schema), notes


SOBOL_SCHEMA = {"kpi": pl.Utf8, "parameter": pl.Utf8} | {
    f"{idx}{suffix}": pl.Boolean if suffix == "_clipped" else pl.Float64
    for idx in ("S1", "ST") for suffix in ("", "_low", "_high", "_clipped")}


def sobol_table(factors: Sequence[Factor], X: np.ndarray, Y: np.ndarray, kpis: Sequence[str],
                seed: int) -> tuple[pl.DataFrame, list[str]]:
    """First-order and total Sobol indices with 95 % intervals, clipped to [0, 1] and marked."""
    from SALib.analyze import sobol as sobol_analyze

    prob, rows, notes = problem(factors), [], []
    for j, kpi in enumerate(kpis):
        y = Y[:, j]
        if not np.all(np.isfinite(y)) or np.var(y) == 0:
            notes.append(f"{kpi}: no Sobol indices (" + ("missing values" if not np.all(
                np.isfinite(y)) else "the same value in every run") + ")")
            continue
        si = sobol_analyze.analyze(prob, y, calc_second_order=False, conf_level=CONF, seed=seed)
        for i, f in enumerate(factors):
            row: dict[str, Any] = {"kpi": kpi, "parameter": f.name}
            for idx in ("S1", "ST"):
                est, conf = float(si[idx][i]), float(si[f"{idx}_conf"][i])
                lo, hi = est - conf, est + conf
                row |= {idx: float(np.clip(est, 0, 1)), f"{idx}_low": float(np.clip(lo, 0, 1)),
                        f"{idx}_high": float(np.clip(hi, 0, 1)),
                        f"{idx}_clipped": bool(lo < 0 or hi > 1 or est < 0 or est > 1)}
            rows.append(row)
    return pl.DataFrame(rows, schema=SOBOL_SCHEMA), notes


def _runs_frame(stage: str, factors: Sequence[Factor], X: np.ndarray, Y: np.ndarray,
                kpis: Sequence[str]) -> pl.DataFrame:
    """Every design point of a stage: the factor values and the outputs, one row per point."""
    cols: dict[str, Any] = {"stage": [stage] * len(X), "point": list(range(len(X)))}
    cols |= {f"x_{f.name}": X[:, i].astype(float) for i, f in enumerate(factors)}
    cols |= {f"y_{k}": Y[:, j].astype(float) for j, k in enumerate(kpis)}
    return pl.DataFrame(cols)


def bases_for(scenario: str, designs: Sequence[str], city: str | None = None,
              scale: float | None = None, overrides: dict[str, Any] | None = None,
              engine: str | None = None, strict_engine: bool = True
              ) -> tuple[list[ScenarioParams], list[str]]:
    """Each design's parameters, and the keys held fixed (set by a design or by `overrides`)."""
    from scenarios import designs as design_files
    from scenarios.runner import make_params

    bases = [make_params(scenario, d, city, scale, overrides, engine=engine,
                         strict_engine=strict_engine) for d in designs]
    mod = scenario_module(scenario)
    design_over, param_over = design_files.split_overrides(dict(overrides or {}))
    fixed = set(param_over)
    for d in designs:
        fixed |= set(mod.Params.from_design(design_files.load(d, design_over))) - {"design"}
    if len(bases) == 2 and bases[0].design == bases[1].design:
        raise ValidationError(f"the two designs must differ, got {list(designs)}")
    return bases, sorted(fixed)


def analyse(bases: Sequence[ScenarioParams], trajectories: int = 4, samples: int = 8,
            top: int = 3, seed: int = 0, only: Sequence[str] | None = None,
            executor: str = "ray", progress: Progress | None = None,
            design_keys: Sequence[str] = ()) -> SensitivityResult:
    """Morris screen of every screened assumption, then Sobol indices of the `top` factors.

    `samples` is Sobol's base sample (N x (top + 2) runs per design; 0 skips Sobol);
    `trajectories` Morris's r (r x (factors + 1) runs per design).
    """
    if not 1 <= len(bases) <= 2:
        raise ValidationError(f"one design, or two for their difference; got {len(bases)}")
    if trajectories < 2:
        raise ValidationError(f"trajectories must be >= 2 (Morris needs two elementary effects "
                              f"per factor for a spread), got {trajectories}")
    if samples < 0 or top < 1:
        raise ValidationError(f"samples must be >= 0 and top >= 1, got {samples} and {top}")
    from SALib.sample import morris as morris_sample

    t0 = time.perf_counter()
    factors, notes = factors_for(bases[0], design_keys, only)
    total = run_count(len(factors), trajectories, samples, top, len(bases))
    done = [0]

    def step(n: int, _total: int, label: str) -> None:
        """Progress over both stages."""
        if progress:
            progress(done[0] + n, total, label)

    Xm = morris_sample.sample(problem(factors), N=trajectories, num_levels=LEVELS, seed=seed)
    Ym, kpis = evaluate(bases, factors, Xm, seed, executor, step)
    done[0] = len(Xm) * len(bases)
    morris, more = morris_table(factors, Xm, Ym, kpis, seed)
    notes += more
    runs = [_runs_frame("morris", factors, Xm, Ym, kpis)]
    sobol = pl.DataFrame(schema=SOBOL_SCHEMA)
    chosen = [f for name in overall_ranking(morris)[:top] for f in factors if f.name == name]
    if samples and chosen:
        sobol, more, frame = _sobol_stage(bases, factors, chosen, samples, seed, executor, step)
        notes += more
        runs.append(frame)
    first = bases[0]
    return SensitivityResult(type(first).scenario, tuple(b.design for b in bases), first.city,
                             first.scale, seed, trajectories, samples, tuple(factors), morris,
                             sobol, pl.concat(runs), tuple(notes), time.perf_counter() - t0)


def _sobol_stage(bases: Sequence[ScenarioParams], factors: Sequence[Factor],
                 chosen: Sequence[Factor], samples: int, seed: int, executor: str,
                 progress: Progress) -> tuple[pl.DataFrame, list[str], pl.DataFrame]:
    """Sobol indices of the chosen factors (the others at the design's values), notes, runs."""
    from SALib.sample import sobol as sobol_sample

    notes = []
    n = 1 << max(1, int(np.ceil(np.log2(samples))))  # Sobol sequences want a power of 2
    if n != samples:
        notes.append(f"Sobol base sample rounded up to {n} (a power of 2)")
    Xs = sobol_sample.sample(problem(chosen), n, calc_second_order=False, seed=seed)
    full = np.array([[x[list(chosen).index(f)] if f in chosen else f.base for f in factors]
                     for x in Xs])
    Ys, kpis = evaluate(bases, factors, full, seed, executor, progress)
    sobol, more = sobol_table(chosen, Xs, Ys, kpis, seed)
    return sobol, notes + more, _runs_frame("sobol", factors, full, Ys, kpis)


def run_count(n_factors: int, trajectories: int, samples: int, top: int, designs: int = 1) -> int:
    """How many scenario runs an analysis takes."""
    n = 1 << max(1, int(np.ceil(np.log2(samples)))) if samples else 0
    return designs * (trajectories * (n_factors + 1) + n * (min(top, n_factors) + 2))
