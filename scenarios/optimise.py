"""The cheapest design that meets the targets: a noise-aware search over design fields.

Optuna proposes points (TPE for one objective, NSGA-II for a Pareto front) in fixed-size
batches; each batch is evaluated at once (as Ray tasks through the scenarios' sweep), with the
same seed streams for every point (common random numbers). A point meets a target only when the
bad end of its KPI's 95 % interval does. The best feasible points are re-run with more
replications before one is named best.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import polars as pl

from scenarios.optimise_space import KpiRef, Objective, Target, Variable
from twin.errors import ValidationError

Say = Callable[[str], None]
MIN_REPS = 3  # replications per trial, at the least
Point = dict[str, float]


class Problem(Protocol):
    """Something whose points can be evaluated into KPI values over replications."""

    variables: tuple[Variable, ...]
    kpis: dict[str, KpiRef]

    def evaluate(self, points: Sequence[Point], reps: int, seed: int,
                 progress: Any = None) -> list[dict[str, np.ndarray]]: ...

    def design(self, point: Point) -> Any: ...

    def base_point(self) -> Point | None: ...


@dataclass(frozen=True, slots=True)
class Estimate:
    """A KPI's mean over replications with its 95 % interval (NaN ends when it has none)."""

    mean: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes None)."""
        return {"mean": _finite(self.mean), "low": _finite(self.low),
                "high": _finite(self.high), "n": self.n}


def estimate(kpi: KpiRef, values: np.ndarray) -> Estimate:
    """The KPI's 95 % interval over replications, of the kind its range calls for (never outside it)."""
    from scenarios.stats import mean_ci

    bounds = (-math.inf if kpi.lo is None else kpi.lo, math.inf if kpi.hi is None else kpi.hi)
    ci = mean_ci(values, bounds)
    return Estimate(ci.mean, ci.low, ci.high, ci.n)


@dataclass(frozen=True)
class Trial:
    """One evaluated point: its values, each target's interval and slack, and the objectives."""

    number: int
    point: Point
    reps: int
    estimates: dict[str, Estimate]
    slacks: tuple[float, ...]  # per target: >= 0 meets (scaled by the target value)
    objectives: tuple[float, ...]  # means, in the objectives' order

    @property
    def feasible(self) -> bool:
        """Every target met by its interval's bad end."""
        return all(s >= 0 for s in self.slacks)

    @property
    def worst_slack(self) -> float:
        """The most violated target's slack (how close an infeasible point came)."""
        return min(self.slacks) if self.slacks else math.inf

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"number": self.number, "point": self.point, "reps": self.reps,
                "feasible": self.feasible, "objectives": [_finite(x) for x in self.objectives],
                "slacks": [_finite(x) for x in self.slacks],
                "estimates": {k: e.to_dict() for k, e in self.estimates.items()}}


def _finite(x: float) -> float | None:
    """x, or None when not finite."""
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class Outcome:
    """What the search found: every trial, the re-run finalists, the best (or the closest)."""

    variables: tuple[Variable, ...]
    targets: tuple[Target, ...]
    objectives: tuple[Objective, ...]
    trials: tuple[Trial, ...]
    finalists: tuple[Trial, ...]
    best: Trial | None  # single objective: the cheapest feasible finalist
    front: tuple[Trial, ...]  # Pareto: the feasible non-dominated finalists
    closest: Trial | None  # when nothing is feasible: the point that came nearest
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        """Whether any design met every target (after the re-runs)."""
        return self.best is not None or bool(self.front)

    def trials_frame(self) -> pl.DataFrame:
        """One row per trial: the point, objectives, each target's interval and whether met."""
        rows = []
        for t in (*self.trials, *self.finalists):
            row: dict[str, Any] = {"trial": t.number, "stage": "final" if t in self.finalists
                                   else "search", "reps": t.reps, "feasible": t.feasible}
            row.update({v.key: float(t.point[v.key]) for v in self.variables})
            for o, x in zip(self.objectives, t.objectives, strict=True):
                row[f"objective:{o.kpi.name}"] = x
            for tg, s in zip(self.targets, t.slacks, strict=True):
                e = t.estimates[tg.kpi.name]
                row[f"target:{tg.kpi.name}:mean"] = e.mean
                row[f"target:{tg.kpi.name}:bad_end"] = tg.bad_end(e.low, e.high)
                row[f"target:{tg.kpi.name}:met"] = s >= 0
            rows.append(row)
        return pl.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"variables": [v.to_dict() for v in self.variables],
                "targets": [t.to_dict() for t in self.targets],
                "objectives": [o.to_dict() for o in self.objectives],
                "feasible": self.feasible,
                "best": self.best.to_dict() if self.best else None,
                "front": [t.to_dict() for t in self.front],
                "closest": self.closest.to_dict() if self.closest else None,
                "trials": len(self.trials), "finalists": [t.to_dict() for t in self.finalists],
                "settings": self.settings}


def _judge(number: int, point: Point, values: dict[str, np.ndarray], reps: int,
           kpis: dict[str, KpiRef], targets: Sequence[Target],
           objectives: Sequence[Objective]) -> Trial:
    """A point's estimates, target slacks and objective means."""
    names = {t.kpi.name for t in targets} | {o.kpi.name for o in objectives}
    est = {n: estimate(kpis[n], values[n]) for n in sorted(names)}
    slacks = tuple(t.slack(est[t.kpi.name].low, est[t.kpi.name].high) if reps >= MIN_REPS
                   else -math.inf for t in targets)
    return Trial(number, dict(point), reps, est, slacks,
                 tuple(est[o.kpi.name].mean for o in objectives))


def _suggest(trial: Any, variables: Sequence[Variable]) -> Point:
    """Ask Optuna's trial for a value of every variable."""
    out: Point = {}
    for v in variables:
        if v.kind == "int":
            out[v.key] = float(trial.suggest_int(v.key, int(v.low), int(v.high),
                                                 step=int(v.step or 1)))
        else:
            out[v.key] = float(trial.suggest_float(v.key, v.low, v.high, step=v.step))
    return out


def _on_grid(point: Point, variables: Sequence[Variable]) -> bool:
    """Whether a point lies inside every variable's range and on its step grid."""
    for v in variables:
        x = point.get(v.key)
        if x is None or not (v.low <= x <= v.high):
            return False
        step = v.step or (1 if v.kind == "int" else None)
        if step and abs((x - v.low) / step - round((x - v.low) / step)) > 1e-9:
            return False
    return True


def _key(point: Point) -> tuple:
    """A hashable form of a point."""
    return tuple(sorted(point.items()))


def _sampler(n_objectives: int, seed: int, batch: int, trials: int) -> Any:
    """TPE for one objective, NSGA-II for two; both read the targets as trial constraints."""
    import optuna

    if n_objectives == 1:
        return optuna.samplers.TPESampler(seed=seed,
                                          n_startup_trials=max(batch, min(10, trials // 3)))
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, batch * 2))


def search(problem: Problem, targets: Sequence[Target], objectives: Sequence[Objective], *,
           trials: int, reps: int, seed: int = 0, batch: int = 4, finalists: int = 3,
           final_reps: int | None = None, say: Say | None = None) -> Outcome:
    """Run the search, re-run the best feasible points with more replications, pick the best."""
    import optuna

    check_request(problem, targets, objectives, trials, reps, batch, finalists)
    final_reps = final_reps or 3 * reps
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=[o.direction for o in objectives],
                                sampler=_sampler(len(objectives), seed, batch, trials))
    base = problem.base_point()
    if base is not None and _on_grid(base, problem.variables):
        study.enqueue_trial(base)  # the base design is always tried: the answer is never worse
    cache: dict[tuple, dict[str, np.ndarray]] = {}
    done: list[Trial] = []
    while len(done) < trials:
        asked = [study.ask() for _ in range(min(batch, trials - len(done)))]
        points = [_suggest(t, problem.variables) for t in asked]
        new = list({_key(p): p for p in points if _key(p) not in cache}.values())
        if new:
            for p, v in zip(new, problem.evaluate(new, reps, seed), strict=True):
                cache[_key(p)] = v
        for t, p in zip(asked, points, strict=True):
            tr = _judge(len(done), p, cache[_key(p)], reps, problem.kpis, targets, objectives)
            _tell(study, t, tr)
            done.append(tr)
        if say:
            say(_progress_line(done, trials, objectives))
    final = _finalists(problem, done, targets, objectives, finalists, final_reps, seed, say)
    return _outcome(problem, targets, objectives, done, final,
                    {"trials": trials, "reps": reps, "final_reps": final_reps, "seed": seed,
                     "batch": batch, "finalists": finalists,
                     "sampler": "TPE" if len(objectives) == 1 else "NSGA-II"})


def check_request(problem: Problem, targets: Sequence[Target], objectives: Sequence[Objective],
           trials: int, reps: int, batch: int, finalists: int) -> None:
    """Refuse settings that cannot give a defensible answer."""
    if not problem.variables:
        raise ValidationError("nothing to vary: give at least one --vary FIELD=LOW:HIGH")
    if not objectives or len(objectives) > 2:
        raise ValidationError("give one objective (--minimise) or two (--pareto)")
    for name, x, least in (("trials", trials, 1), ("batch", batch, 1),
                           ("finalists", finalists, 1)):
        if not (isinstance(x, int) and x >= least):
            raise ValidationError(f"--{name} must be a whole number >= {least}, got {x!r}")
    if not (isinstance(reps, int) and reps >= MIN_REPS):
        raise ValidationError(f"--reps must be at least {MIN_REPS} (a target is judged by a 95 % "
                              "interval; with 2 replications Student's t is 12.7 and no interval is "
                              f"narrow enough to meet anything), got {reps!r}")
    for t in targets:
        if t.kpi.name not in problem.kpis:
            raise ValidationError(f"target KPI {t.kpi.name!r} is not reported by this problem")


def _tell(study: Any, asked: Any, tr: Trial) -> None:
    """Hand a judged trial back to Optuna (constraints: <= 0 means met)."""
    from optuna.trial import TrialState

    for i, s in enumerate(tr.slacks):
        asked.set_constraint(f"target_{i}", -s if math.isfinite(s) else 1e9)
    if all(math.isfinite(x) for x in tr.objectives):
        study.tell(asked, list(tr.objectives))
    else:
        study.tell(asked, state=TrialState.FAIL)


def _progress_line(done: Sequence[Trial], total: int, objectives: Sequence[Objective]) -> str:
    """'trial 8/40: 3 feasible; best so far ...'."""
    feasible = [t for t in done if t.feasible]
    line = f"  trials {len(done)}/{total}: {len(feasible)} meet every target"
    if feasible and len(objectives) == 1:
        b = _ranked(feasible, objectives)[0]
        line += f"; best so far {objectives[0].kpi.name} {_fmt(b.objectives[0])} at {_point(b)}"
    elif feasible:
        line += f"; front of {len(_front(feasible, objectives))}"
    else:
        c = max(done, key=lambda t: t.worst_slack)
        line += f"; closest misses by {(-c.worst_slack):.1%} at {_point(c)}"
    return line


def _fmt(x: float) -> str:
    """A number for a progress line."""
    return f"{x:,.4g}" if math.isfinite(x) else "n/a"


def _point(t: Trial) -> str:
    """A point as 'key=value, ...'."""
    return ", ".join(f"{k.rpartition('.')[2]}={v:g}" for k, v in t.point.items())


def _ranked(trials: Sequence[Trial], objectives: Sequence[Objective]) -> list[Trial]:
    """Trials best first by the single objective (ties: fewer changes, then trial number)."""
    sign = -1.0 if objectives[0].direction == "maximize" else 1.0
    return sorted(trials, key=lambda t: (sign * t.objectives[0], t.number))


def _dominates(a: Trial, b: Trial, objectives: Sequence[Objective]) -> bool:
    """Whether a is at least as good as b on every objective and better on one."""
    sa = [(-x if o.direction == "maximize" else x) for x, o in zip(a.objectives, objectives,
                                                                       strict=True)]
    sb = [(-x if o.direction == "maximize" else x) for x, o in zip(b.objectives, objectives,
                                                                       strict=True)]
    return all(x <= y for x, y in zip(sa, sb, strict=True)) and sa != sb


def _front(trials: Sequence[Trial], objectives: Sequence[Objective]) -> list[Trial]:
    """The non-dominated trials (one per distinct point)."""
    uniq = list({_key(t.point): t for t in trials}.values())
    return [t for t in uniq if not any(_dominates(o, t, objectives) for o in uniq)]


def _finalists(problem: Problem, done: Sequence[Trial], targets: Sequence[Target],
               objectives: Sequence[Objective], k: int, reps: int, seed: int,
               say: Say | None) -> list[Trial]:
    """Re-run the best feasible points with `reps` replications (the search's seeds included)."""
    feasible = [t for t in done if t.feasible]
    if len(objectives) == 1:
        order = list({_key(t.point): t for t in _ranked(feasible, objectives)}.values())
    else:
        order = _front(feasible, objectives)[: 2 * k]
    out: list[Trial] = []
    for start in range(0, min(len(order), 3 * k), k):  # more groups only while none survives
        group = order[start:start + k]
        if say:
            say(f"  re-running {len(group)} finalist(s) with {reps} replications")
        values = problem.evaluate([t.point for t in group], reps, seed)
        out += [_judge(len(done) + len(out) + i, t.point, v, reps, problem.kpis, targets,
                       objectives) for i, (t, v) in enumerate(zip(group, values, strict=True))]
        if any(t.feasible for t in out) or len(objectives) > 1:
            break
    return out


def _outcome(problem: Problem, targets: Sequence[Target], objectives: Sequence[Objective],
             done: list[Trial], final: list[Trial], settings: dict[str, Any]) -> Outcome:
    """Name the best (or the front), or the closest trial when nothing met the targets."""
    ok = [t for t in final if t.feasible]
    best = _ranked(ok, objectives)[0] if ok and len(objectives) == 1 else None
    front = tuple(_front(ok, objectives)) if ok and len(objectives) > 1 else ()
    closest = None
    if not ok:
        pool = final or done
        closest = max(pool, key=lambda t: (t.worst_slack, -t.number)) if pool else None
    return Outcome(tuple(problem.variables), tuple(targets), tuple(objectives), tuple(done),
                   tuple(final), best, front, closest, settings)
