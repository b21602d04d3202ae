"""Shared helpers for the safety tests (not a test module)."""

from __future__ import annotations

import numpy as np
import polars as pl

T0 = 1_750_000_000.0  # a fixed POSIX instant (June 2025)


def card_holders(city, n: int | None = None) -> tuple[list[int], list[int]]:
    """(resident ids, card serials) of the first `n` card holders in id order."""
    r = city.residents.filter(pl.col("has_card")).sort("resident_id")
    if n is not None:
        r = r.head(n)
    return r["resident_id"].to_list(), r["card_serial"].to_list()


def no_card(city, n: int) -> list[int]:
    """The first `n` residents without a card."""
    return city.residents.filter(~pl.col("has_card")).sort("resident_id")["resident_id"].head(n).to_list()


def nearest_order(city, shelter_id: int) -> list[int]:
    """Other shelters' facility ids by distance from `shelter_id` (computed independently)."""
    sh = city.facilities.filter(pl.col("kind") == "shelter")
    me = sh.filter(pl.col("facility_id") == shelter_id)
    d = np.hypot(sh["x_km"].to_numpy() - me["x_km"][0], sh["y_km"].to_numpy() - me["y_km"][0])
    ids = sh["facility_id"].to_numpy()
    return [int(i) for i in ids[np.argsort(d, kind="stable")] if i != shelter_id]


def same_network_state(a, b) -> None:
    """Two shelter networks hold the same state: register, events, counts, records, paper forms."""
    from polars.testing import assert_frame_equal

    assert_frame_equal(a.taps.to_frame(), b.taps.to_frame())
    assert a.events.to_frame().equals(b.events.to_frame())
    assert (a.occ, a.reg, a.anon) == (b.occ, b.reg, b.anon)
    assert np.array_equal(a.where, b.where)
    assert np.array_equal(a.since, b.since, equal_nan=True)
    assert a.paper.to_frame(a.facility_ids).equals(b.paper.to_frame(b.facility_ids))
