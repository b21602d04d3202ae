"""The shelter system's history answers 'as of t' as the live network did at t."""

from __future__ import annotations

import numpy as np
import pytest

from tests.services.history_helpers import busy_day, state_at
from tests.services.safety_helpers import T0
from twin.errors import Conflict
from twin.services.safety import Safety
from twin.services.shelter_history import last_at_or_before


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_history_gives_every_shelters_counts_and_records_as_the_network_had_them(small_city, seed):
    safety, states = busy_day(small_city, seed)
    net = safety.shelters
    outcomes = set(net.taps.to_frame()["outcome"].to_list())
    assert {"checked_in", "moved", "checked_out", "redirected", "queued", "refused"} <= outcomes  # every kind of change
    hist = net.history()
    times = sorted({st[0] for st in states} | {st[0] + 3.0 for st in states} | {T0 - 1.0})
    n_s = net.shelter_count
    s = np.repeat(np.arange(n_s), len(times))
    at = np.tile(times, n_s)
    occ, ident = hist.counts_at(s, at)
    people = np.arange(60)
    where = hist.where_at(np.repeat(people, len(times)), np.tile(times, people.size))
    for k, (si, t) in enumerate(zip(s.tolist(), at.tolist(), strict=True)):
        st = state_at(states, t)
        assert (occ[k], ident[k]) == ((0, 0) if st is None else (st[1][si], st[2][si])), (si, t)
    for k, (r, t) in enumerate(zip(np.repeat(people, len(times)).tolist(),
                                   np.tile(times, people.size).tolist(), strict=True)):
        st = state_at(states, t)
        assert where[k] == (-1 if st is None else st[3][r]), (r, t)


def test_recording_starts_from_the_state_the_network_is_in(small_city):
    safety = Safety.from_city(small_city, T0)
    net = safety.shelters
    fid = int(net.facility_ids[0])
    net.paper_form(fid, 5, T0, np.random.default_rng(0))
    net.record_history()
    net.paper_form(fid, 6, T0 + 10, np.random.default_rng(0))
    occ, _ident = net.history().counts_at(np.array([0, 0]), np.array([T0 + 5, T0 + 10]))
    assert occ.tolist() == [1, 2]


def test_a_network_without_a_history_says_how_to_keep_one(small_city):
    with pytest.raises(Conflict, match="record_history"):
        Safety.from_city(small_city, T0).shelters.history()


def test_as_of_look_ups_take_the_last_entry_of_the_key_at_or_before_the_time():
    keys = np.array([3, 1, 3, 3, 1])
    times = np.array([5.0, 2.0, 5.0, 9.0, 7.0])
    got = last_at_or_before(keys, times, np.array([3, 3, 3, 1, 1, 2, 3]),
                            np.array([4.9, 5.0, 8.0, 2.0, 100.0, 50.0, 9.0]))
    assert got.tolist() == [-1, 2, 2, 1, 4, -1, 3]
    assert last_at_or_before(keys[:0], times[:0], np.array([1]), np.array([1.0])).tolist() == [-1]


def test_a_change_made_past_the_register_is_refused_rather_than_read(small_city):
    safety = Safety.from_city(small_city, T0)
    net = safety.shelters
    net.record_history()
    net.paper_form(int(net.facility_ids[0]), 5, T0, np.random.default_rng(0))
    net.history()  # consistent so far
    net.where[7] = 2  # a record written without a row
    with pytest.raises(Conflict, match="without a register row"):
        net.history()


def test_a_batch_of_taps_is_recorded_with_the_state_after_it(small_city):
    from tests.services.safety_helpers import card_holders

    safety = Safety.from_city(small_city, T0)
    net = safety.shelters
    net.record_history()
    residents, serials = card_holders(small_city, 30)
    readers = sorted(net.readers)[:3]
    net.check_in_many([readers[k % 3] for k in range(30)], serials, [T0 + 5.0] * 30)
    net.check_in_many([readers[(k + 1) % 3] for k in range(10)], serials[:10], [T0 + 9.0] * 10)  # moves
    hist = net.history()  # its end matches the network (else it refuses)
    occ, ident = hist.counts_at(np.arange(net.shelter_count), np.full(net.shelter_count, T0 + 9.0))
    assert occ.tolist() == list(net.occ) and ident.tolist() == [r - a for r, a in zip(net.reg, net.anon, strict=True)]
    assert hist.where_at(np.array(residents), np.full(30, T0 + 6.0)).tolist() == [
        net.readers[readers[k % 3]] for k in range(30)]
