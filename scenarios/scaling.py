"""Keep every per-facility load of the full city in a reduced-scale run.

A city built at scale s has s of the residents but, for kinds counted per population
(shelters, stores), at least one facility per ward: each facility's catchment is then
`scale * represents` times a full-city facility's (`represents` is the column of
`twin.population.build_facilities`). A scenario multiplies what each facility offers (staff,
readers, places, transcription) by that load factor, so people per server stay as in the
whole city. A fractional server count c is run as ceil(c) servers whose service times are
stretched by ceil(c) / c: the same capacity, so queues under load behave as in the full city.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import polars as pl


def load_factors(facilities: pl.DataFrame, kind: str, scale: float) -> np.ndarray:
    """Per facility of `kind` (in frame order): its catchment over a full-city facility's."""
    f = facilities.filter(pl.col("kind") == kind)
    represents = (f["represents"].to_numpy() if "represents" in f.columns
                  else np.full(f.height, 1.0 / scale))
    return scale * represents


def with_shelter_places(city: Any, scale: float, places: int = 0) -> tuple[Any, np.ndarray]:
    """The city with each shelter's places (or `places` each, if given) times its load factor,
    and the factors: a shelter that serves 0.9 of a full-city shelter's catchment gets 0.9 of
    its places. The scenarios and the live service build their shelters from it."""
    load = load_factors(city.facilities, "shelter", scale)
    is_shelter = (city.facilities["kind"] == "shelter").to_numpy()
    cap = city.facilities["capacity"].to_numpy().astype(np.float64)
    if places:
        cap[is_shelter] = places
    cap[is_shelter] = np.maximum(1, np.round(cap[is_shelter] * load))
    fac = city.facilities.with_columns(capacity=pl.Series(cap.astype(np.int32)))
    return dataclasses.replace(city, facilities=fac), load


def fractional_servers(servers: float) -> tuple[int, float]:
    """(whole servers, service-time stretch) with the capacity of `servers` (> 0) servers."""
    if servers <= 0:
        raise ValueError(f"servers must be positive, got {servers!r}")
    whole = max(1, math.ceil(servers - 1e-9))
    return whole, whole / servers


def integer_split(total: int, weights: np.ndarray) -> np.ndarray:
    """Non-negative integers proportional to `weights` that add up to `total` (largest remainder)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.size == 0:
        return np.zeros(0, dtype=np.int64)
    exact = total * w / w.sum()
    out = np.floor(exact).astype(np.int64)
    short = int(total - out.sum())
    if short > 0:
        out[np.argsort(-(exact - out), kind="stable")[:short]] += 1
    return out


def scale_line(scale: float) -> str:
    """The first line every reduced-scale output starts with (empty at full scale)."""
    if scale >= 1:
        return ""
    return (f"Reduced scale: population scale {scale:g} (a share of the residents, with facility "
            "and staff loads kept as in the whole city)")
