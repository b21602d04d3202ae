"""A live state taken from a disaster run at some hour, and what that run then showed."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from scenarios.nowcast import LiveState, ShelterState


def state_at(result, params, hours: float, count_arrivals: bool = True, known_total: bool = True) -> LiveState:
    """What a live service would know at `hours`: per shelter registered (and arrived) so far."""
    e = result.frames["evacuees"].filter(pl.col("shelter_id") >= 0)
    sh = result.frames["shelters"]
    shelters = []
    for r in sh.iter_rows(named=True):
        mine = e.filter(pl.col("shelter_id") == r["shelter_id"])
        reg = int((mine["registered_h"] <= hours).sum())
        arr = int((mine["arrived_h"] <= hours).sum())
        shelters.append(ShelterState(r["shelter_id"], r["capacity"], reg, arr if count_arrivals else None,
                                     r["readers"], r["paper_staff"], mine.height if known_total else None))
    seen = e.filter(pl.col("registered_h") <= hours)
    card = float((seen["method"] == "card_tap").mean()) if seen.height else 0.5
    return LiveState(hours, tuple(shelters), math.log(params.card_tap_mean_s) - params.checkin_sigma**2 / 2,
                     params.checkin_sigma, params.paper_form_mean_s, card, params.time_to_peak_h,
                     params.rise_shape, params.horizon_h,
                     e.height / e.select("household_id", "arrived_h").n_unique())


def t95_of(result) -> float:
    """Hours until 95 % of the run's evacuees (who stayed in a shelter) were registered."""
    e = result.frames["evacuees"].filter(pl.col("shelter_id") >= 0)
    reg = np.sort(e["registered_h"].drop_nulls().to_numpy())
    need = math.ceil(0.95 * e.height)
    return float(reg[need - 1]) if need <= reg.size else math.inf
