"""What a scenario run returns: KPIs and polars frames, as a frozen value with no wall clock."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import polars as pl

SHARE, MEAN, QUANTILE, COUNT, SIGNED = "share", "mean", "quantile", "count", "signed"
KINDS = (SHARE, MEAN, QUANTILE, COUNT, SIGNED)
DIRECTIONS = ("lower", "higher", "")
_BOUNDS = {SHARE: (0.0, 1.0), MEAN: (0.0, math.inf), QUANTILE: (0.0, math.inf),
           COUNT: (0.0, math.inf), SIGNED: (-math.inf, math.inf)}


@dataclass(frozen=True, slots=True)
class KPI:
    """A key performance indicator, declared once: what it means, its range and its good direction.

    `kind` says what one replication's value is and so which interval suits it: a share in
    [0, 1], the mean of a non-negative quantity, a per-replication quantile (p95 wait), a count
    of events, or a signed quantity. `better` is the good direction ("lower", "higher" or ""
    for a figure to read, which never gets a better/worse verdict). `low`/`high` override the
    kind's range. `headline` KPIs are the ones `--precision` drives to the target by default;
    `floor` is the magnitude below which precision is judged absolutely (half-width <= R x
    floor) instead of relative to a mean near zero.
    """

    name: str
    unit: str
    doc: str
    better: str = "lower"
    kind: str = MEAN
    label: str = ""
    headline: bool = False
    floor: float = 0.0
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if self.better not in DIRECTIONS:
            raise ValueError(f"KPI {self.name}: better must be one of {DIRECTIONS}, got "
                             f"{self.better!r}")
        if self.kind not in KINDS:
            raise ValueError(f"KPI {self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        lo, hi = self.bounds
        if not lo < hi:
            raise ValueError(f"KPI {self.name}: empty range [{lo}, {hi}]")
        if not (self.floor >= 0 and math.isfinite(self.floor)):
            raise ValueError(f"KPI {self.name}: floor must be finite and >= 0, got {self.floor}")

    @property
    def bounds(self) -> tuple[float, float]:
        """The range a value (and so any interval of its mean) must stay in."""
        lo, hi = _BOUNDS[self.kind]
        return (lo if self.low is None else float(self.low),
                hi if self.high is None else float(self.high))

    @property
    def title(self) -> str:
        """The planner-facing name with its unit, e.g. 'check-in wait, 95th percentile (min)'."""
        return f"{self.label or self.name.replace('_', ' ')} ({self.unit})"


def seed_label(seed: int | np.random.SeedSequence) -> dict[str, Any]:
    """A JSON-ready description of the seed a run used."""
    if isinstance(seed, np.random.SeedSequence):
        entropy = seed.entropy
        return {"entropy": int(entropy) if not isinstance(entropy, (list, tuple)) else list(entropy),
                "spawn_key": list(seed.spawn_key)}
    return {"seed": int(seed)}


def as_seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """The seed as a SeedSequence (an int seeds a fresh one)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if not (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        from twin.errors import ValidationError

        raise ValidationError(f"seed must be a non-negative int, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def _json_number(x: Any) -> Any:
    """A float as JSON-safe (NaN and infinities become None), ints kept."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class ScenarioResult:
    """One run: the scenario, its parameters and seed, KPIs, frames and notes on assumptions."""

    scenario: str
    params: Mapping[str, Any]
    seed: Mapping[str, Any]
    kpis: Mapping[str, float]
    frames: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "seed", MappingProxyType(dict(self.seed)))
        object.__setattr__(self, "kpis", MappingProxyType(dict(self.kpis)))
        object.__setattr__(self, "frames", MappingProxyType(dict(self.frames)))

    def __reduce__(self) -> tuple:
        """Pickle as plain dicts (Ray ships results between processes this way)."""
        return (type(self), (self.scenario, dict(self.params), dict(self.seed), dict(self.kpis),
                             dict(self.frames), self.notes))

    @property
    def design(self) -> str:
        """The name of the design the run used."""
        return str(self.params.get("design", ""))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: scenario, params, seed, KPIs, notes and each frame's shape (no wall clock)."""
        return {
            "scenario": self.scenario,
            "params": dict(self.params),
            "seed": dict(self.seed),
            "kpis": {k: _json_number(v) for k, v in self.kpis.items()},
            "frames": {k: {"rows": f.height, "columns": f.columns} for k, f in self.frames.items()},
            "notes": list(self.notes),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScenarioResult):
            return NotImplemented
        return (self.to_dict() == other.to_dict() and self.frames.keys() == other.frames.keys()
                and all(self.frames[k].equals(other.frames[k]) for k in self.frames))

    __hash__ = None  # type: ignore[assignment]
