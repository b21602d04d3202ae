"""A copied serial index answers as the original and keeps its own revocations."""

from __future__ import annotations

import numpy as np
import pytest

from twin.services.card_serials import CardRevoked, SerialIndex, UnknownCard


def test_a_copy_resolves_the_same_cards_and_revoking_on_it_leaves_the_original_alone():
    original = SerialIndex(np.array([50, 10, 30, 20]), np.array([5, 1, 3, 2]))
    original.revoke(20, 100.0)
    copy = original.copy()
    assert [copy.resident_of(s, 0.0) for s in (10, 20, 30, 50)] == [1, 2, 3, 5]
    with pytest.raises(CardRevoked):
        copy.resident_of(20, 150.0)  # revocations made before the copy carry over
    copy.revoke(30, 200.0)
    assert original.resident_of(30, 300.0) == 3 and original.revoked_since(30) is None
    with pytest.raises(CardRevoked):
        copy.resident_of(30, 300.0)
    assert copy.resolve_many(np.array([30, 50]), 300.0)[0].tolist() == [-1, 5]
    assert original.resolve_many(np.array([30, 50]), 300.0)[0].tolist() == [3, 5]
    with pytest.raises(UnknownCard):
        copy.resident_of(40, 0.0)


def test_the_disaster_scenario_sorts_a_citys_serials_once_and_hands_out_independent_copies(small_city):
    from scenarios.disaster import serial_index

    a, b = serial_index(small_city.residents), serial_index(small_city.residents)
    assert a is not b and a._serials is b._serials
    serial = int(small_city.residents["card_serial"].drop_nulls()[0])
    a.revoke(serial, 0.0)
    assert b.revoked_since(serial) is None


def test_serials_looked_up_ahead_resolve_and_refuse_exactly_as_one_by_one():
    serials, residents = np.array([50, 10, 30, 20]), np.array([5, 1, 3, 2])
    ahead, alone = SerialIndex(serials, residents), SerialIndex(serials, residents)
    ahead.prepare([30, 10, 99, 30])
    assert set(ahead._seen) == {10, 30}  # 99 was never issued: not remembered
    for index in (ahead, alone):
        index.revoke(30, 100.0)
    for serial, now in ((10, 0.0), (30, 50.0), (30, 150.0), (99, 0.0), (20, 0.0)):
        answers = []
        for index in (ahead, alone):
            try:
                answers.append(index.resident_of(serial, now))
            except (CardRevoked, UnknownCard) as err:
                answers.append((type(err).__name__, str(err)))
        assert answers[0] == answers[1], serial
    assert alone.copy()._seen == {}  # a copy starts with nothing remembered
