"""The twin world a service builds from its spec: the city, the design, and each group's view.

Every actor builds the same city from (name, seed, scale) — the build is deterministic — so
a restarted actor, on any node, starts from exactly the state the first one started from.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import polars as pl

from actors.spec import ServiceSpec
from twin.errors import ValidationError


@lru_cache(maxsize=4)
def city_of(name: str, seed: int, scale: float):
    """The built city (cached per worker process)."""
    from twin.population import build_city

    return build_city(name, seed=seed, scale=scale)


@lru_cache(maxsize=8)
def design_of(name_or_path: str):
    """The validated design (a shipped name or a TOML path)."""
    from scenarios.designs import load

    return load(name_or_path)


def city(spec: ServiceSpec):
    """The spec's city."""
    return city_of(spec.city, spec.seed, float(spec.scale))


def design(spec: ServiceSpec):
    """The spec's design."""
    return design_of(spec.design)


def shelter_wards(c) -> list[int]:
    """Wards that have at least one shelter, in order."""
    f = c.facilities.filter(pl.col("kind") == "shelter")
    return sorted(int(w) for w in f["ward"].unique().to_list())


def group_wards(c, groups: int) -> list[list[int]]:
    """The wards of each shelter group, dealt round-robin; every group gets at least one."""
    wards = shelter_wards(c)
    if groups > len(wards):
        raise ValidationError(f"{c.name} at this scale has shelters in {len(wards)} wards; "
                              f"use at most {len(wards)} shelter groups, not {groups}")
    return [wards[g::groups] for g in range(groups)]


def group_view(c, wards: list[int]):
    """The city as one shelter group sees it: only its wards' shelters, every other facility."""
    f = c.facilities
    keep = (pl.col("kind") != "shelter") | pl.col("ward").is_in(wards)
    return dataclasses.replace(c, facilities=f.filter(keep))
