"""Checking the nowcast against the disaster model: a live state taken from a run, and what the run then showed.

`state_at` is what a live service would know `hours` into a disaster run (registered and
arrived per shelter, readers, staff, places); `t95_of` is the run's own time until 95 % of
its sheltered evacuees were registered; `coverage` forecasts from a third of the way in over
several seeds and counts how often the 95 % interval held the run's figure (a figure reached
before the snapshot counts as the snapshot's time: the forecast should then answer "now").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from scenarios.nowcast import LiveState, ShelterState, forecast
from scenarios.scaling import fractional_servers


def _places(params) -> tuple[np.ndarray, np.ndarray]:
    """Each shelter's place (km) and load factor, in the run's frame order."""
    from scenarios.cities import city_for
    from scenarios.disaster import scaled_city

    city, load = scaled_city(params, city_for(params.city, params.city_seed, params.scale))
    f = city.facilities.filter(pl.col("kind") == "shelter")
    return f.select("x_km", "y_km").to_numpy(), load


def state_at(result, params, hours: float, count_arrivals: bool = True, known_total: bool = True,
             desks_as_run: bool = True) -> LiveState:
    """What a live service would know at `hours`: per shelter registered (and arrived) so far.

    `desks_as_run`: the desks' reduced-scale capacity as the run had it (whole desks and their
    service stretch, `scenarios.scaling.fractional_servers`); else the nominal readers and staff.
    """
    e = result.frames["evacuees"].filter(pl.col("shelter_id") >= 0)
    sh = result.frames["shelters"]
    xy, load = _places(params)
    shelters = []
    for i, r in enumerate(sh.iter_rows(named=True)):
        mine = e.filter(pl.col("shelter_id") == r["shelter_id"])
        reg = int((mine["registered_h"] <= hours).sum())
        arr = int((mine["arrived_h"] <= hours).sum())
        readers, staff, k_card, k_paper = r["readers"], r["paper_staff"], 1.0, 1.0
        if desks_as_run:
            if params.readers_per_shelter:
                readers, k_card = fractional_servers(params.readers_per_shelter * load[i])
            staff, k_paper = fractional_servers(params.paper_staff_per_shelter * load[i])
        shelters.append(ShelterState(r["shelter_id"], r["capacity"], reg, arr if count_arrivals else None,
                                     readers, staff, mine.height if known_total else None,
                                     float(xy[i, 0]), float(xy[i, 1]), True, k_card, k_paper))
    seen = e.filter(pl.col("registered_h") <= hours)
    card = float((seen["method"] == "card_tap").mean()) if seen.height else 0.5
    return LiveState(hours, tuple(shelters), math.log(params.card_tap_mean_s) - params.checkin_sigma**2 / 2,
                     params.checkin_sigma, params.paper_form_mean_s, card, params.time_to_peak_h,
                     params.rise_shape, params.horizon_h,
                     e.height / e.select("household_id", "arrived_h").n_unique(),
                     params.walk_speed_kmh, params.shelter_choice_decay_km)


def t95_of(result) -> float:
    """Hours until 95 % of the run's evacuees (who stayed in a shelter) were registered."""
    e = result.frames["evacuees"].filter(pl.col("shelter_id") >= 0)
    reg = np.sort(e["registered_h"].drop_nulls().to_numpy())
    need = math.ceil(0.95 * e.height)
    return float(reg[need - 1]) if need <= reg.size else math.inf


@dataclass(frozen=True)
class Coverage:
    """How often the 95 % interval held the run's time until 95 % registered."""

    hits: int
    seeds: int
    early: int  # the run's figure lay above the interval (the forecast was early)
    late: int

    @property
    def share(self) -> float:
        """Share of seeds covered."""
        return self.hits / self.seeds


def coverage(params, seeds: range, reps: int = 200, at_share: float = 1 / 3, **state_kw) -> Coverage:
    """Forecast from `at_share` of the horizon in each seed's run and count the hits."""
    from scenarios import disaster

    hits = early = late = 0
    for seed in seeds:
        result = disaster.run(params, seed)
        f = forecast(state_at(result, params, params.horizon_h * at_share, **state_kw), reps=reps, seed=seed)
        truth = max(t95_of(result), f.hours)  # reached before the snapshot: the forecast should say "now"
        hits += f.t95_h.contains(truth)
        early += truth > f.t95_h.high
        late += truth < f.t95_h.low
    return Coverage(hits, len(seeds), early, late)
