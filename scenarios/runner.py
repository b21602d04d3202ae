"""The composition root for scenario runs: design + city + overrides -> parameters -> results."""

from __future__ import annotations

from typing import Any

from scenarios import designs
from scenarios.params import ScenarioParams
from scenarios.registry import scenario as scenario_module


def make_params(scenario: str, design: str = "baseline", city: str | None = None,
                scale: float | None = None, overrides: dict[str, Any] | None = None
                ) -> ScenarioParams:
    """A scenario's parameters from a design (name or path), a city and KEY=VALUE overrides.

    Dotted keys ('safety.readers_per_shelter') change the design; plain keys are scenario
    parameters. The city defaults to the design's city.
    """
    mod = scenario_module(scenario)
    design_over, param_over = designs.split_overrides(dict(overrides or {}))
    d = designs.load(design, design_over)
    if scale is not None:
        param_over["scale"] = scale
    return mod.Params.build(city or d.city, d, param_over)
