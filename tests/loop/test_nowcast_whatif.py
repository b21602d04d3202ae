"""The nowcast's fuller model and the `open` what-if: redirects when full, household groups at one desk, a closed shelter opened."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.nowcast import LiveState, ShelterState, forecast
from scenarios.nowcast_model import opening_shares, route, serve
from twin.errors import ValidationError


def _city(open_two: bool = False) -> LiveState:
    full = ShelterState(1, capacity=100, registered=80, arrived=90, readers_online=2, paper_staff=1,
                        expected=220, x_km=0.0, y_km=0.0)
    closed = ShelterState(2, capacity=150, registered=0, arrived=0, readers_online=2, paper_staff=1,
                          x_km=0.5, y_km=0.0, is_open=open_two)
    far = ShelterState(3, capacity=400, registered=50, arrived=50, readers_online=2, paper_staff=1,
                       expected=80, x_km=3.0, y_km=0.0)
    return LiveState(4.0, (full, closed, far), card_mu=3.0, card_sigma=0.5, paper_mean_s=180.0, card_share=0.7,
                     time_to_peak_h=8.0, rise_shape=2.0, horizon_h=24.0, group_size=2.0)


def test_who_does_not_fit_walks_to_the_nearest_open_shelter_with_room_skipping_closed_ones():
    groups = [(np.array([5.0]), np.array([5])), (np.empty(0), np.empty(0, np.int64)),
              (np.empty(0), np.empty(0, np.int64)), (np.empty(0), np.empty(0, np.int64))]
    xy = np.array([[0.0, 0.0], [0.3, 0.0], [1.5, 0.0], [0.6, 0.0]])
    cap, occ = np.array([10, 50, 50, 3]), np.array([8, 0, 0, 3])
    r = route(4.0, groups, occ, cap, xy, np.array([True, False, True, True]), walk_kmh=3.0)
    assert r.sizes[0] == [2] and r.fill_h[0] == 5.0  # two places left; then it is full
    assert r.sizes[1] == [] and r.sizes[3] == []  # closed; full (since before the snapshot)
    assert r.sizes[2] == [3] and r.times[2] == [pytest.approx(5.5)]  # 1.5 km at 3 km/h
    assert r.fill_h[3] == 4.0 and r.redirected == 3 and r.no_place == 0


def test_a_household_is_served_one_after_another_at_one_reader_while_another_reader_takes_the_next():
    card = np.array([True, True, True, True])
    d = (np.full(4, 60.0), np.full(4, 300.0))
    done, peak = serve(1.0, [1.0, 1.0], [3, 1], 0, readers=2, staff=1, durations=d, card=card)
    assert (done * 3600 - 3600).tolist() == pytest.approx([60.0, 120.0, 180.0, 60.0])
    assert peak == 0.0


def test_opening_a_closed_shelter_takes_its_neighbours_share_and_the_redirects():
    xy = np.array([[0.0, 0.0], [0.5, 0.0], [3.0, 0.0]])
    share = opening_shares(xy, np.array([True, False, True]), [1], decay_km=1.0)[:, 0]
    w = np.exp(-np.array([0.0, 0.5, 3.0]))
    assert share[0] == pytest.approx(w[1] / w.sum()) and share[1] == 0 and share[2] > 0
    f = forecast(_city(), reps=30, seed=5, open_shelters=[2])
    alt = f.what_if["forecast"]
    assert f.what_if["open"] == [2] and f.is_open[2] is False and alt["shelters"]["2"]["open"] is True
    assert f.fill_probability[1] == 1.0 and f.redirected.median > 0  # as-is: shelter 1 fills, people walk 3 km
    assert f.peak_wait_min[2].high == 0 and f.fill_probability[2] == 0  # closed: nobody there
    assert alt["redirected"]["median"] < f.redirected.median
    assert alt["t95_h"]["median"] <= f.t95_h.median
    assert f.hours <= f.t95_h.low <= f.t95_h.high <= 24


def test_opening_an_unknown_or_an_open_shelter_is_refused_with_a_reason():
    with pytest.raises(ValidationError, match=r"open: unknown shelters \[9\]"):
        forecast(_city(), reps=2, open_shelters=[9])
    with pytest.raises(ValidationError, match=r"open: shelters \[3\] are already open \(closed: \[2\]\)"):
        forecast(_city(), reps=2, open_shelters=[3])
    with pytest.raises(ValidationError, match="registered: it is open"):
        ShelterState(4, 10, registered=2, arrived=2, readers_online=1, paper_staff=1, is_open=False)
