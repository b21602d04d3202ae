"""Shareable links: the sidebar's choices as URL query parameters, and back.

`?city=osaka&designs=baseline,phased&reps=5&seed=1&scale=0.02&scenarios=disaster,payments`
opens the page with those choices; `set.<scenario>=KEY=VALUE lines` fills a scenario's
settings. After a run the page writes its choices into the URL, so the address can be sent
to a colleague. Designs edited in a session live only there and are left out of links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dashboards.spec import (
    DEFAULT_CITY,
    DEFAULT_DESIGNS,
    DEFAULT_REPS,
    DEFAULT_SCALE,
    DEFAULT_SEED,
    MAX_REPS,
    QUICK_OVERRIDES,
)

SETTINGS = "set."


@dataclass(frozen=True)
class Initial:
    """The values the sidebar's widgets start with, and what in the link was ignored and why."""

    city: str
    designs: tuple[str, ...]
    scenarios: tuple[str, ...]
    reps: int
    seed: int
    scale: float
    overrides: Mapping[str, str]
    ignored: tuple[str, ...]


def initial(query: Mapping[str, str], *, designs: Sequence[str], cities: Sequence[str],
            scenarios: Sequence[str]) -> Initial:
    """The starting choices: the page's defaults, replaced by what a link sets validly."""
    ignored: list[str] = []

    def pick(key: str, default: Any, parse: Any) -> Any:
        if key not in query:
            return default
        try:
            return parse(query[key])
        except ValueError as exc:
            ignored.append(f"{key}={query[key]!r}: {exc}")
            return default

    overrides = {s: query.get(f"{SETTINGS}{s}", QUICK_OVERRIDES.get(s, "")) for s in scenarios}
    ignored += [f"{k}: unknown parameter" for k in query
                if k not in KEYS and not (k.startswith(SETTINGS) and k[len(SETTINGS):] in scenarios)]
    return Initial(
        city=pick("city", DEFAULT_CITY, lambda v: _one_of(v, cities, "city")),
        designs=pick("designs", tuple(d for d in DEFAULT_DESIGNS if d in designs),
                     lambda v: _some_of(v, designs, "design")),
        scenarios=pick("scenarios", tuple(scenarios), lambda v: _some_of(v, scenarios, "scenario")),
        reps=pick("reps", DEFAULT_REPS, lambda v: _whole(v, 1, MAX_REPS)),
        seed=pick("seed", DEFAULT_SEED, lambda v: _whole(v, 0, 2**32 - 1)),
        scale=pick("scale", DEFAULT_SCALE, _scale),
        overrides=overrides,
        ignored=tuple(ignored),
    )


KEYS = ("city", "designs", "scenarios", "reps", "seed", "scale")


def _one_of(value: str, options: Sequence[str], what: str) -> str:
    if value not in options:
        raise ValueError(f"not a known {what}")
    return value


def _some_of(value: str, options: Sequence[str], what: str) -> tuple[str, ...]:
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [v for v in items if v not in options]
    if unknown:
        raise ValueError(f"unknown {what}(s): {', '.join(unknown)}")
    return items


def _whole(value: str, lo: int, hi: int) -> int:
    n = int(value) if value.strip().isdigit() else -1
    if not lo <= n <= hi:
        raise ValueError(f"expected a whole number from {lo} to {hi}")
    return n


def _scale(value: str) -> float:
    x = float(value)
    if not 0.001 <= x <= 1.0:
        raise ValueError("expected a number from 0.001 to 1")
    return x


def query_of(inputs: Mapping[str, Any], shareable: Sequence[str]) -> dict[str, str]:
    """The URL query parameters for the sidebar's choices (designs limited to `shareable`)."""
    out = {"city": inputs["city"],
           "designs": ",".join(d for d in inputs["designs"] if d in shareable),
           "scenarios": ",".join(inputs["scenarios"]), "reps": str(inputs["reps"]),
           "seed": str(inputs["seed"]), "scale": f"{inputs['scale']:g}"}
    for scenario, text in inputs["overrides"].items():
        if text != QUICK_OVERRIDES.get(scenario, ""):
            out[f"{SETTINGS}{scenario}"] = text
    return out
