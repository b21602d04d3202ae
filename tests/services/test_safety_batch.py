"""The batched check-in path gives exactly what one tap at a time gives (Hypothesis property)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.services.safety_helpers import T0, card_holders
from twin.errors import TwinError
from twin.services.card_serials import SerialIndex
from twin.services.shelters import ShelterNetwork, ShelterParams

TAPS = st.lists(st.tuples(st.integers(0, 11), st.integers(0, 14)), min_size=1, max_size=60)


def _network(city, revoked: list[int]) -> ShelterNetwork:
    index = SerialIndex.from_residents(city.residents)
    for s in revoked:
        index.revoke(s, T0 - 1)
    return ShelterNetwork.from_city(city, resolver=index, params=ShelterParams(capacity_per_shelter=2), now=T0)


@settings(max_examples=60, deadline=None)
@given(taps=TAPS)
def test_check_in_many_matches_single_taps_exactly(small_city, taps):
    _, serials = card_holders(small_city, 12)
    pool = serials + [5, 6, 7]  # never issued: forged cards
    readers = [r + 1 for r, _ in taps]  # readers 1..10 exist, 11 and 12 do not
    cards = [pool[c] for _, c in taps]
    times = (T0 + np.arange(len(taps), dtype=float)).tolist()
    one, many = _network(small_city, serials[:2]), _network(small_city, serials[:2])
    for r, s, t in zip(readers, cards, times, strict=True):
        try:
            one.tap(r, s, t)
        except TwinError:
            pass
    twin = _network(small_city, serials[:2])
    batch = many.check_in_many(readers, cards, times)
    assert_frame_equal(batch, one.taps.to_frame())
    cols = twin.check_in_columns(readers, cards, times)
    assert cols == batch.select("outcome", "reason", "resident_id", "shelter_id", "redirect_to").to_dict(
        as_series=False)
    assert_frame_equal(many.taps.to_frame(), one.taps.to_frame())
    assert many.events.to_frame().equals(one.events.to_frame())
    assert (many.occ, many.reg) == (one.occ, one.reg)
    assert np.array_equal(many.where, one.where)
    assert np.array_equal(many.since, one.since, equal_nan=True)


def test_a_batch_with_an_offline_reader_queues_its_taps_in_order(small_city):
    net = ShelterNetwork.from_city(small_city, now=T0)
    _, serials = card_holders(small_city, 3)
    net.set_online(2, False, T0)
    out = net.check_in_many([1, 2, 1], serials, T0 + 1)
    assert out["outcome"].to_list() == ["checked_in", "queued", "checked_in"]
    assert out["queue_id"].to_list()[1] == (2 << 32) | 1
    assert net.occ[0] == 3 and net.reg[0] == 2


def test_redirects_and_no_room_come_out_of_a_batch_as_from_single_taps(small_city):
    _, serials = card_holders(small_city, 7)
    params = ShelterParams(capacity_per_shelter=1)
    one = ShelterNetwork.from_city(small_city, params=params, now=T0)
    many = ShelterNetwork.from_city(small_city, params=params, now=T0)
    readers = [1, 1, 3, 5, 7, 9, 1]  # shelters 0, 0, 1, 2, 3, 4, 0: the last one finds every place taken
    for r, s in zip(readers, serials, strict=True):
        one.tap(r, s, T0)
    out = many.check_in_many(readers, serials, T0)
    assert out["outcome"].to_list() == ["checked_in", "redirected", "checked_in", "checked_in", "checked_in",
                                        "checked_in", "no_room"]
    assert out.equals(one.taps.to_frame())
