"""What the optimiser evaluates: rollout designs through the scenarios, or an M/M/c check.

A problem turns a batch of points (values of the varied fields) into each point's KPI values
over replications. Replication r of every point uses the same seed stream (common random
numbers), so two designs are compared on the same evacuees, visitors and faults.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scenarios.optimise_space import COST, KpiRef, Variable, cost_parts, kpi_catalogue

Progress = Callable[[int, int, str], None]
Point = dict[str, float]
Values = dict[str, np.ndarray]  # KPI name -> one value per replication


def _typed(var: Variable, x: float) -> int | float:
    """A point's value as the design field's type."""
    return int(round(x)) if var.kind == "int" else float(x)


@dataclass
class DesignProblem:
    """Rollout designs: the base design with the varied fields set, run through the scenarios."""

    base: str  # design name in designs/ or a TOML path
    scenarios: tuple[str, ...]
    variables: tuple[Variable, ...]
    city: str | None = None
    scale: float | None = None
    scenario_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    executor: str = "ray"
    kpis: dict[str, KpiRef] = field(init=False)

    def __post_init__(self) -> None:
        self.kpis = kpi_catalogue(self.scenarios)

    def check_ranges(self) -> None:
        """Build every scenario's parameters at each variable's ends: refuse a range they refuse."""
        from scenarios.runner import make_params
        from twin.errors import TwinError, ValidationError

        mid = self.base_point()  # the other variables as in the base design
        for v in self.variables:
            for end, x in (("LOW", v.low), ("HIGH", v.high)):
                for name in self.scenarios:
                    try:
                        make_params(name, self.base, self.city, self.scale,
                                    {**self.scenario_overrides.get(name, {}),
                                     **self.design_overrides({**mid, v.key: x})})
                    except TwinError as exc:
                        raise ValidationError(f"--vary {v.key}: {end} {x:g} is refused by the "
                                              f"{name} scenario: {exc}") from None

    def design_overrides(self, point: Point) -> dict[str, Any]:
        """The dotted design keys a point sets."""
        return {v.key: _typed(v, point[v.key]) for v in self.variables}

    def base_point(self) -> Point:
        """The base design's own values of the varied fields."""
        from scenarios import designs

        base = designs.load(self.base)
        return {v.key: float(base.value(v.key)) for v in self.variables}

    def design(self, point: Point) -> Any:
        """The base design with the point's fields set (validated)."""
        from scenarios import designs

        return designs.load(self.base, self.design_overrides(point))

    def evaluate(self, points: Sequence[Point], reps: int, seed: int,
                 progress: Progress | None = None) -> list[Values]:
        """Every point's KPIs over `reps` replications, all runs submitted at once."""
        from scenarios.runner import make_params
        from scenarios.sweep import run_sweeps

        specs = []
        for name in self.scenarios:
            over = dict(self.scenario_overrides.get(name, {}))
            params = [make_params(name, self.base, self.city, self.scale,
                                  {**over, **self.design_overrides(p)}) for p in points]
            specs.append((name, params))
        sweeps = run_sweeps(specs, reps, seed, executor=self.executor, progress=progress)
        out: list[Values] = []
        for i, p in enumerate(points):
            values = {f"{s.scenario}.{k}": s.values(i, k)
                      for s in sweeps for k in s.results[0][2].kpis}
            parts = [values[n] for n in cost_parts(self.kpis)]
            if parts:
                values[COST] = np.sum(parts, axis=0)
            values.update({k: np.full(reps, v) for k, v in review_values(self.design(p)).items()})
            out.append(values)
        return out


def review_values(design: Any) -> dict[str, float]:
    """The review's yen totals of a design: costs, computed benefits and their difference."""
    from twin.policy import review

    r = review(design)
    cost = float(sum(c.yen_over_timeline for c in r.cost_lines))
    benefits = float(sum(e.yen_over_timeline or 0 for e in r.effects if e.computed))
    return {"review.cost_yen": cost, "review.benefits_yen": benefits,
            "review.net_yen": benefits - cost}


@dataclass
class MMcProblem:
    """An M/M/c stage with the number of servers varied: a case whose answer Erlang C knows.

    Servers range from the fewest that keep the queue stable up to `max_servers`.

    KPIs: `mmc.p_wait` (share of customers who waited), `mmc.mean_wait`, and `cost` (servers).
    """

    arrival_rate: float
    service_mean: float
    customers: int
    max_servers: int
    variables: tuple[Variable, ...] = ()
    kpis: dict[str, KpiRef] = field(init=False)

    def __post_init__(self) -> None:
        least = int(np.floor(self.arrival_rate * self.service_mean)) + 1  # fewest stable
        if self.max_servers <= least:
            from twin.errors import ValidationError

            raise ValidationError(f"max_servers must exceed {least} (the fewest servers that "
                                  f"keep this queue stable), got {self.max_servers}")
        self.variables = (Variable("servers", "int", least, self.max_servers, None, "servers"),)
        self.kpis = {
            "mmc.p_wait": KpiRef("mmc.p_wait", "share", "lower", "share who waited", 0.0, 1.0),
            "mmc.mean_wait": KpiRef("mmc.mean_wait", "time", "lower", "mean wait", 0.0, None),
            COST: KpiRef(COST, "servers", "lower", "servers", 0.0, None),
        }

    def evaluate(self, points: Sequence[Point], reps: int, seed: int,
                 progress: Progress | None = None) -> list[Values]:
        """Simulate each point's M/M/c with the same customers per replication (CRN)."""
        from scenarios.mmc import simulate_mmc

        seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(reps)]
        out: list[Values] = []
        for i, p in enumerate(points):
            c = int(round(p["servers"]))
            runs = [simulate_mmc(self.arrival_rate, self.service_mean, c, self.customers, s)
                    for s in seeds]
            out.append({"mmc.p_wait": np.array([r.p_wait for r in runs]),
                        "mmc.mean_wait": np.array([r.mean_wait for r in runs]),
                        COST: np.full(reps, float(c))})
            if progress:
                progress(i + 1, len(points), f"servers={c}")
        return out

    def design(self, point: Point) -> None:
        """No design file: the M/M/c case has none."""
        return None

    def base_point(self) -> None:
        """No base design to start from."""
        return None


def fewest_servers(arrival_rate: float, service_mean: float, p_wait_max: float,
                   max_servers: int) -> int | None:
    """The fewest servers whose Erlang C probability of waiting is at most `p_wait_max`."""
    from scenarios.erlang import mmc

    load = arrival_rate * service_mean
    for c in range(max(1, int(np.floor(load)) + 1), max_servers + 1):
        if mmc(arrival_rate, service_mean, c).p_wait <= p_wait_max:
            return c
    return None
