"""What an optimisation asks: the design fields it varies, the KPI targets, the objective.

Everything here is checked before any run: an unknown field or KPI names the nearest one, a
range outside the field's limits is refused, and a target's operator must be <= or >=.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twin.errors import ValidationError

COST = "cost"  # the derived KPI: the scenarios' cost_yen summed (see kpi_catalogue)
REVIEW_KPIS = {  # from the review of each trial's design (the same for every replication)
    "review.cost_yen": ("yen", "lower", "the review's costs over the design's timeline (one-off + "
                        "yearly; unit costs partly assumptions, see the review)"),
    "review.benefits_yen": ("yen", "higher", "the review's computed benefits over the design's "
                            "timeline (valued with benefits.toml; gross, against no service)"),
    "review.net_yen": ("yen", "higher", "review.benefits_yen minus review.cost_yen"),
}


@dataclass(frozen=True, slots=True)
class Variable:
    """A design field the search may change: dotted key, kind ('int'/'float'), range and step."""

    key: str
    kind: str
    low: float
    high: float
    step: float | None = None
    unit: str = ""

    def grid_size(self) -> float:
        """How many values the variable can take (inf for a continuous float)."""
        if self.kind == "int" or self.step:
            return math.floor((self.high - self.low) / (self.step or 1) + 1e-9) + 1
        return math.inf

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"key": self.key, "kind": self.kind, "low": self.low, "high": self.high,
                "step": self.step, "unit": self.unit}


@dataclass(frozen=True, slots=True)
class KpiRef:
    """A KPI the search can read: its full name, unit, good direction and where it comes from."""

    name: str  # "disaster.checkin_wait_p95_min", or "cost"
    unit: str
    better: str  # "lower", "higher" or ""
    label: str
    lo: float | None = None  # the quantity's range, for intervals and sanity
    hi: float | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """A requirement on a KPI: mean-interval's bad end must satisfy `op` `value`."""

    kpi: KpiRef
    op: str  # "<=" or ">="
    value: float

    def text(self) -> str:
        """As the user wrote it, with the unit."""
        return f"{self.kpi.name} {self.op} {self.value:g}" + (f" {self.kpi.unit}" if self.kpi.unit else "")

    def bad_end(self, low: float, high: float) -> float:
        """The end of an interval that must satisfy the target (upper for <=, lower for >=)."""
        return high if self.op == "<=" else low

    def slack(self, low: float, high: float) -> float:
        """How far the bad end is inside the target (>= 0 meets), scaled by the target value."""
        scale = abs(self.value) if self.value else 1.0
        end = self.bad_end(low, high)
        if not math.isfinite(end):
            return -math.inf
        return (self.value - end) / scale if self.op == "<=" else (end - self.value) / scale

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"kpi": self.kpi.name, "op": self.op, "value": self.value, "unit": self.kpi.unit}


@dataclass(frozen=True, slots=True)
class Objective:
    """A KPI to minimise or maximise (by its mean over replications)."""

    kpi: KpiRef
    direction: str  # "minimize" or "maximize" (Optuna's words)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"kpi": self.kpi.name, "direction": self.direction, "unit": self.kpi.unit}


def _nearest(name: str, known: Sequence[str], what: str) -> ValidationError:
    """An error naming an unknown `what` and the nearest known name."""
    near = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return ValidationError(f"unknown {what} {name!r}{hint}")


def _number(text: str, where: str) -> float:
    """A finite number from text, or an error naming where it was."""
    try:
        x = float(text)
    except ValueError:
        raise ValidationError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(x):
        raise ValidationError(f"{where}: {text!r} is not a finite number")
    return x


def parse_variable(spec: str, fields: dict[str, Any]) -> Variable:
    """`FIELD=LOW:HIGH[:STEP]` checked against the design field's kind and limits."""
    key, eq, rng = spec.partition("=")
    key = key.strip()
    if not eq or not rng:
        raise ValidationError(f"--vary {spec!r}: expected FIELD=LOW:HIGH[:STEP], e.g. "
                              "safety.readers_per_shelter=1:8")
    if key not in fields:
        raise _nearest(key, sorted(fields), "design field")
    f = fields[key]
    if f.kind not in ("int", "float"):
        raise ValidationError(f"--vary {key}: only numeric fields can be varied; {key} is "
                              f"{f.kind} ({f.expected()})")
    parts = rng.split(":")
    if len(parts) not in (2, 3):
        raise ValidationError(f"--vary {spec!r}: expected LOW:HIGH or LOW:HIGH:STEP")
    low, high = (_number(p, f"--vary {key}") for p in parts[:2])
    step = _number(parts[2], f"--vary {key}") if len(parts) == 3 else None
    if low >= high:
        raise ValidationError(f"--vary {key}: LOW ({low:g}) must be below HIGH ({high:g})")
    if step is not None and not (0 < step <= high - low):
        raise ValidationError(f"--vary {key}: STEP must be in (0, HIGH-LOW], got {step:g}")
    if f.kind == "int" and any(x is not None and x != int(x) for x in (low, high, step)):
        raise ValidationError(f"--vary {key}: {key} is an integer field; LOW, HIGH and STEP "
                              "must be whole numbers")
    for x, end in ((low, "LOW"), (high, "HIGH")):
        if (f.minimum is not None and x < f.minimum) or (f.maximum is not None and x > f.maximum):
            raise ValidationError(f"--vary {key}: {end} {x:g} is outside the field's limits "
                                  f"({f.expected()})")
    return Variable(key, f.kind, low, high, step, f.unit)


_TARGET = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(<=|>=|<|>|=)\s*(\S+)\s*$")


def parse_target(spec: str, kpis: dict[str, KpiRef]) -> Target:
    """`KPI<=VALUE` or `KPI>=VALUE` (a KPI of the selected scenarios, or `cost`)."""
    m = _TARGET.match(spec)
    if not m:
        raise ValidationError(f"--target {spec!r}: expected KPI<=VALUE or KPI>=VALUE, e.g. "
                              "'checkin_wait_p95_min<=30'")
    name, op, value = m.groups()
    if op not in ("<=", ">="):
        raise ValidationError(f"--target {spec!r}: use <= or >= (a target is met by the "
                              f"interval's bad end, so strict and equal targets are not offered)")
    kpi = resolve_kpi(name, kpis)
    x = _number(value, f"--target {name}")
    if kpi.lo is not None and kpi.hi is not None and not (kpi.lo <= x <= kpi.hi):
        raise ValidationError(f"--target {name}: {x:g} is outside the KPI's range "
                              f"[{kpi.lo:g}, {kpi.hi:g}]")
    return Target(kpi, op, x)


def resolve_kpi(name: str, kpis: dict[str, KpiRef]) -> KpiRef:
    """A KPI by full name ('disaster.checkin_wait_p95_min') or bare name if it is unambiguous."""
    if name in kpis:
        return kpis[name]
    matches = [k for k in kpis if k.rpartition(".")[2] == name]
    if len(matches) == 1:
        return kpis[matches[0]]
    if len(matches) > 1:
        raise ValidationError(f"KPI {name!r} is reported by several scenarios: say which "
                              f"({', '.join(sorted(matches))})")
    bare = {k.rpartition(".")[2] for k in kpis}
    raise _nearest(name, sorted(set(kpis) | bare), "KPI")


def parse_objective(name: str, kpis: dict[str, KpiRef], maximise: bool = False) -> Objective:
    """The KPI to minimise (or maximise)."""
    return Objective(resolve_kpi(name, kpis), "maximize" if maximise else "minimize")


def parse_pareto(spec: str, kpis: dict[str, KpiRef]) -> tuple[Objective, Objective]:
    """`KPI,KPI`: two objectives, each in its KPI's good direction (lower unless declared higher)."""
    names = [s.strip() for s in spec.split(",") if s.strip()]
    if len(names) != 2 or names[0] == names[1]:
        raise ValidationError(f"--pareto {spec!r}: expected two different KPIs, e.g. "
                              "'checkin_wait_p95_min,cost'")
    refs = [resolve_kpi(n, kpis) for n in names]
    for r in refs:
        if not r.better:
            raise ValidationError(f"--pareto: KPI {r.name!r} has no good direction (it is a "
                                  "count to read), so it cannot be optimised")
    return tuple(Objective(r, "maximize" if r.better == "higher" else "minimize")
                 for r in refs)  # type: ignore[return-value]


def kpi_catalogue(scenarios: Sequence[str]) -> dict[str, KpiRef]:
    """Every KPI the selected scenarios report, by 'scenario.kpi', plus the derived `cost`."""
    from scenarios.registry import scenario as scenario_module

    out: dict[str, KpiRef] = {}
    for name in scenarios:
        for k in scenario_module(name).KPIS:
            lo, hi = _bounds(k)
            out[f"{name}.{k.name}"] = KpiRef(f"{name}.{k.name}", k.unit, k.better,
                                             k.title, lo, hi)
    costs = [n for n in out if n.endswith(".cost_yen")]
    if costs:
        out[COST] = KpiRef(COST, "yen", "lower", "cost: " + " + ".join(costs), 0.0, None)
    for name, (unit, better, label) in REVIEW_KPIS.items():
        out[name] = KpiRef(name, unit, better, label, None if name == "review.net_yen" else 0.0,
                           None)
    return out


def _bounds(k: Any) -> tuple[float | None, float | None]:
    """A KPI's declared range (None for an open end)."""
    lo, hi = k.bounds
    return (lo if math.isfinite(lo) else None, hi if math.isfinite(hi) else None)


def cost_parts(kpis: dict[str, KpiRef]) -> list[str]:
    """The KPIs that `cost` sums (the scenarios' own, not the review's)."""
    return [n for n in kpis if n.endswith(".cost_yen") and not n.startswith("review.")]
