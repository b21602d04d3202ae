"""What a planner asks the dashboard for, validated: a city, designs, scenarios, replications.

A `RunSpec` is a frozen value; every design travels as its canonical TOML text, so an edited
copy and a shipped file are keyed by their content, not by a name that may be reused.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scenarios import designs as shipped
from scenarios.defaults import (
    STUDY_CITY,
    STUDY_DESIGNS,
    STUDY_OVERRIDES,
    STUDY_REPS,
    STUDY_SCALE,
    STUDY_SEED,
    overrides_text,
)
from scenarios.params import ScenarioParams, parse_overrides
from scenarios.registry import names as scenario_names
from scenarios.registry import scenario as scenario_module
from twin.design import Design, DesignError, design_from_dict, design_to_toml, load_design
from twin.design_schema import Problem
from twin.errors import TwinError, ValidationError
from twin.presets import preset

# The page starts from the default study's settings (scenarios/defaults.py), so the two agree.
DEFAULT_CITY = STUDY_CITY
DEFAULT_DESIGNS = STUDY_DESIGNS
DEFAULT_REPS = STUDY_REPS
MAX_REPS = 50
DEFAULT_SEED = STUDY_SEED
DEFAULT_SCALE = STUDY_SCALE
# Scenario settings the page starts with: the study's; the planner may clear them.
QUICK_OVERRIDES: dict[str, str] = {s: overrides_text(s) for s in STUDY_OVERRIDES
                                   if overrides_text(s)}
RESERVED = {"city": "the city selector", "scale": "the population-scale input",
            "design": "the design selector"}


class SpecError(ValidationError):
    """A run request that cannot run; lists every problem, one line each."""

    code = "invalid_run"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class DesignChoice:
    """A design picked for comparison: its name, its canonical TOML text and where it came from."""

    name: str
    toml: str
    source: str

    def design(self) -> Design:
        """The validated Design (the loader's checks, applied to the TOML text)."""
        return design_from_dict(tomllib.loads(self.toml), self.source)

    @classmethod
    def of(cls, design: Design, source: str) -> DesignChoice:
        """The choice for a validated Design."""
        return cls(name=design.name, toml=design_to_toml(design), source=source)


def shipped_choice(name: str) -> DesignChoice:
    """A design shipped in designs/, by name (e.g. 'phased')."""
    path = shipped.resolve(name)
    return DesignChoice.of(load_design(path), f"designs/{path.name}")


def upload_choice(filename: str, data: bytes) -> DesignChoice:
    """A design from an uploaded TOML file, validated as the loader validates a file."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DesignError(filename, [Problem("(file)", f"expected UTF-8 text: {exc.reason} at "
                                             f"byte {exc.start}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise DesignError(filename, [Problem("(syntax)", f"not valid TOML: {exc}")]) from None
    return DesignChoice.of(design_from_dict(raw, filename), f"uploaded {filename}")


def parse_scenario_overrides(scenario: str, text: str) -> dict[str, Any]:
    """KEY=VALUE lines (values as JSON where they parse) for one scenario's parameters."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    values = parse_overrides(lines)
    for key in values:
        if "." in key:
            raise ValidationError(f"{scenario}: {key!r} is a design field; change it in the "
                                  "design editor, not in the scenario settings")
        if key in RESERVED:
            raise ValidationError(f"{scenario}: set {key!r} with {RESERVED[key]}, not here")
    return values


@dataclass(frozen=True)
class RunSpec:
    """One comparison: city, designs (the first is the reference), scenarios, reps, seed, scale."""

    city: str
    designs: tuple[DesignChoice, ...]
    scenarios: tuple[str, ...]
    reps: int
    seed: int
    scale: float
    overrides: tuple[tuple[str, str], ...] = field(default=())  # (scenario, JSON of overrides)

    @property
    def names(self) -> tuple[str, ...]:
        """The design names, in comparison order."""
        return tuple(d.name for d in self.designs)

    def overrides_of(self, scenario: str) -> dict[str, Any]:
        """The parameter overrides for one scenario."""
        return json.loads(dict(self.overrides).get(scenario, "{}"))

    def overrides_json(self, scenario: str) -> str:
        """The overrides of one scenario as canonical JSON (part of the cache key)."""
        return dict(self.overrides).get(scenario, "{}")

    def params(self, scenario: str, index: int) -> ScenarioParams:
        """The scenario parameters for design `index` (city, scale and overrides applied)."""
        return build_params(city=self.city, design_toml=self.designs[index].toml,
                            scenario=scenario, scale=self.scale,
                            overrides_json=self.overrides_json(scenario))

    def label(self) -> str:
        """A one-line description of the run."""
        return (f"{self.city}, scale {self.scale:g}, {self.reps} replication(s), seed {self.seed}: "
                f"{' vs '.join(self.names)}")


def build_params(*, city: str, design_toml: str, scenario: str, scale: float,
                 overrides_json: str) -> ScenarioParams:
    """A scenario's parameters from a design's TOML text, the city, the scale and overrides."""
    design = design_from_dict(tomllib.loads(design_toml), "design")
    values = {**json.loads(overrides_json), "scale": scale}
    return scenario_module(scenario).Params.build(city, design, values)


def make_spec(*, city: str, designs: Sequence[DesignChoice], scenarios: Sequence[str],
              reps: Any, seed: Any, scale: Any, overrides: Mapping[str, str]) -> RunSpec:
    """A validated RunSpec from the page's inputs; SpecError lists every problem found."""
    problems = _input_problems(city, designs, scenarios, reps, seed, scale)
    parsed: dict[str, str] = {}
    for name in scenarios:
        try:
            values = parse_scenario_overrides(name, overrides.get(name, ""))
            parsed[name] = json.dumps(values, sort_keys=True)
        except TwinError as exc:
            problems.append(str(exc))
    if problems:
        raise SpecError(problems)
    spec = RunSpec(city, tuple(designs), tuple(scenarios), int(reps), int(seed), float(scale),
                   tuple(sorted(parsed.items())))
    problems += _param_problems(spec)
    if problems:
        raise SpecError(problems)
    return spec


def _input_problems(city: str, designs: Sequence[DesignChoice], scenarios: Sequence[str],
                    reps: Any, seed: Any, scale: Any) -> list[str]:
    """What is wrong with the inputs themselves (before any parameters are built)."""
    out = []
    try:
        preset(city)
    except ValidationError as exc:
        out.append(str(exc))
    names = [d.name for d in designs]
    if len(names) < 2:
        out.append(f"pick two or more designs to compare, got {len(names)}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        out.append(f"designs must have distinct names; repeated: {', '.join(dupes)}")
    unknown = [s for s in scenarios if s not in scenario_names()]
    if unknown or not scenarios:
        out.append(f"pick scenarios from {', '.join(scenario_names())}, got {list(scenarios)}")
    if not (_whole(reps) and 1 <= reps <= MAX_REPS):
        out.append(f"replications must be a whole number from 1 to {MAX_REPS}, got {reps!r}")
    if not (_whole(seed) and seed >= 0):
        out.append(f"the seed must be a whole number of at least 0, got {seed!r}")
    if not (isinstance(scale, int | float) and not isinstance(scale, bool) and 0 < scale <= 1):
        out.append(f"the population scale must be in (0, 1], got {scale!r}")
    return out


def _whole(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _param_problems(spec: RunSpec) -> list[str]:
    """Build every (scenario, design) parameter set once, so bad overrides show before a run."""
    out = []
    for scenario in spec.scenarios:
        for i, d in enumerate(spec.designs):
            try:
                spec.params(scenario, i)
            except TwinError as exc:
                msg = f"{scenario} on {d.name}: {exc}"
                if msg.partition(": ")[2] not in {p.partition(": ")[2] for p in out}:
                    out.append(msg)
    return out
