"""Synthetic cities for scenarios, built once per process and reused across replications."""

from __future__ import annotations

from functools import lru_cache

from twin.population import City, build_city


@lru_cache(maxsize=4)
def city_for(name: str, seed: int, scale: float) -> City:
    """The city `build_city(name, seed, scale)`, cached (Ray workers reuse it across tasks)."""
    return build_city(name, seed=seed, scale=scale)
