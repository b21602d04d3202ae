"""The scenarios by name, imported on first use."""

from __future__ import annotations

import difflib
import importlib
from functools import cache
from types import ModuleType

from twin.errors import ValidationError

SCENARIOS = {
    "disaster": "scenarios.disaster",
    "certificates": "scenarios.certificates",
    "payments": "scenarios.payments",
}


def names() -> list[str]:
    """The scenario names, in the order the study runs them."""
    return list(SCENARIOS)


@cache
def scenario(name: str) -> ModuleType:
    """The scenario module called `name` (it has Params, KPIS, SERIES and run(params, seed))."""
    if name not in SCENARIOS:
        near = difflib.get_close_matches(str(name), SCENARIOS, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValidationError(f"unknown scenario {name!r}{hint}; scenarios: {', '.join(SCENARIOS)}")
    return importlib.import_module(SCENARIOS[name])
