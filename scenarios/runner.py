"""The composition root for scenario runs: design + city + overrides -> parameters -> results."""

from __future__ import annotations

from typing import Any

from scenarios import designs
from scenarios.params import ScenarioParams
from scenarios.registry import scenario as scenario_module
from twin.errors import ValidationError

ENGINES = ("fast", "simpy")


def make_params(scenario: str, design: str = "baseline", city: str | None = None,
                scale: float | None = None, overrides: dict[str, Any] | None = None,
                engine: str | None = None, strict_engine: bool = True) -> ScenarioParams:
    """A scenario's parameters from a design (name or path), a city and KEY=VALUE overrides.

    Dotted keys ('safety.readers_per_shelter') change the design; plain keys are scenario
    parameters. The city defaults to the design's city. `engine` ('fast' or 'simpy') picks the
    engine of a scenario that has both; asking a SimPy-only scenario for 'fast' is an error
    when `strict_engine`, else it stays on SimPy.
    """
    mod = scenario_module(scenario)
    design_over, param_over = designs.split_overrides(dict(overrides or {}))
    d = designs.load(design, design_over)
    if scale is not None:
        param_over["scale"] = scale
    if engine is not None:
        param_over |= engine_override(mod.Params, scenario, engine, strict_engine)
    return mod.Params.build(city or d.city, d, param_over)


def engine_override(params_cls: type, scenario: str, engine: str, strict: bool
                    ) -> dict[str, str]:
    """{'engine': engine} for a scenario with both engines; {} for SimPy on a SimPy-only one."""
    if engine not in ENGINES:
        raise ValidationError(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    if "engine" in params_cls.field_names():
        return {"engine": engine}
    if engine == "fast" and strict:
        raise ValidationError(f"the {scenario} scenario has no fast engine yet; use --engine "
                              "simpy (or leave --engine out)")
    return {}
