"""A run of single check-ins in one call (`check_in_run`) gives exactly what one call per person
gives (`tap_code`, `paper_code`): state, register, events, paper forms, draws, codes, redirects."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.services.safety_helpers import T0, card_holders, no_card, same_network_state
from twin.errors import TwinError
from twin.services.card_serials import SerialIndex, UnknownCard
from twin.services.shelter_outcomes import FULL, HERE, IN, NO_ROOM, QUEUED, REFUSED
from twin.services.shelter_run import check_in_run
from twin.services.shelters import ShelterNetwork, ShelterParams

TURNED = (REFUSED, FULL, NO_ROOM)
# (card?, reader 1..12 or shelter 0..6, person 0..15, seconds after T0 or a hostile time)
ROWS = st.lists(st.tuples(st.booleans(), st.integers(0, 12), st.integers(0, 15),
                          st.sampled_from([0.0, 1.0, 2.5, 7.0, 9.0, math.nan, math.inf])),
                min_size=1, max_size=40)


def _network(city, serials: list[int], capacity: int, history: bool, revoke: bool) -> ShelterNetwork:
    """If `revoke`, two cards revoked before the run and one during it (at T0 + 5), else the cards
    looked up ahead (as the disaster model does); reader 3 offline; `capacity` places a shelter;
    the history recorded (the fast engine's register) if `history`."""
    index = SerialIndex.from_residents(city.residents)
    if revoke:
        for s in serials[:2]:
            index.revoke(s, T0 - 1)
        index.revoke(serials[2], T0 + 5)
    else:
        index.prepare(serials[:8])
    net = ShelterNetwork.from_city(city, resolver=index, params=ShelterParams(capacity_per_shelter=capacity),
                                   now=T0)
    net.set_online(3, False, T0)
    if history:
        net.record_history()
    return net


def _rows(city, rows):
    """The rows as columns: cards tap `serials` (three forged), forms name residents (two nobody)."""
    _, serials = card_holders(city, 12)
    cards = serials + [5, 6, 7, 8]
    people = no_card(city, 13) + [-3, 10**9, 2.0]  # nobody in this city, and a resident id as a float
    card = [c for c, *_ in rows]
    where = [w if c else w % 7 - 1 for c, w, *_ in rows]  # shelter -1 and 5: none of the network's
    who = [cards[p] if c else people[p] for c, _, p, _ in rows]
    times = [T0 + t for *_, t in rows]
    return serials, card, where, who, times


def _one(net: ShelterNetwork, c: bool, w, x, t: float, rng) -> tuple[int, int] | str:
    """One person's call: its codes, or the error it raises."""
    try:
        return net.tap_code(w, x, t) if c else net.paper_code(w, x, t, rng)
    except TwinError as e:
        return type(e).__name__


def _same_history(one: ShelterNetwork, run: ShelterNetwork, times: list[float]) -> None:
    """The two registers noted the same counts and records after the same rows; and, for rows in
    time order (as a simulation makes them: the history reads by time), their histories answer the
    same counts and records at every time of the rows."""
    for a, b in zip(one.taps._merged(), run.taps._merged(), strict=True):  # (counts, records)
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    finite = [t for t in times if math.isfinite(t)]
    if finite != sorted(finite):
        return
    at = np.array([T0 - 1.0, *sorted(set(finite)), math.inf])
    n_s, n_r = one.shelter_count, one.where.size
    h_one, h_run = one.history(), run.history()
    s, t = np.repeat(np.arange(n_s), at.size), np.tile(at, n_s)
    for a, b in zip(h_one.counts_at(s, t), h_run.counts_at(s, t), strict=True):
        assert np.array_equal(a, b)
    r, t = np.repeat(np.arange(n_r), at.size), np.tile(at, n_r)
    assert np.array_equal(h_one.where_at(r, t), h_run.where_at(r, t))


def _as_engine_gives(card, where, who, times, net: ShelterNetwork):
    """The columns as the fast engine gives them: arrays, and the cards' holders looked up ahead
    (None where a value is not an int: those stay lists)."""
    if not all(type(v) is int for v in (*where, *who)):
        return card, where, who, times, None
    who = np.array(who, dtype=np.int64)
    card = np.array(card, dtype=bool)
    return (card, np.array(where, dtype=np.int64), who, np.array(times),
            net.resolver.holders_of(np.where(card, who, -1)))


@settings(max_examples=60, deadline=None)
@given(rows=ROWS, capacity=st.sampled_from([1, 2, 1000]), history=st.booleans(), revoke=st.booleans(),
       arrays=st.booleans())
def test_a_run_checks_people_in_exactly_as_one_call_each(small_city, rows, capacity, history, revoke, arrays):
    serials, card, where, who, times = _rows(small_city, rows)
    one, run = (_network(small_city, serials, capacity, history, revoke) for _ in range(2))
    rng_one, rng_run = np.random.default_rng(3), np.random.default_rng(3)
    want = [_one(one, *row, rng_one) for row in zip(card, where, who, times, strict=True)]
    cols = _as_engine_gives(card, where, who, times, run) if arrays else (card, where, who, times, None)
    got, i, alone = [], 0, 0
    while i < len(card):  # as the fast engine drives it: a run, then what it left, then a run again
        outs, red = check_in_run(run, *(c[i:] for c in cols[:4]), rng_run,
                                 None if cols[4] is None else cols[4][i:])
        got += [(out, -1) for out in outs]
        i += len(outs)
        if outs and outs[-1] in TURNED:
            got[-1] = (outs[-1], red)
        elif i < len(card):
            alone += 1
            got.append(_one(run, card[i], where[i], who[i], times[i], rng_run))
            i += 1
    assert got == want
    same_network_state(one, run)
    assert rng_one.random() == rng_run.random()  # the same paper-form draws
    if history:
        _same_history(one, run, times)
    # the run leaves to the per-person path only what it must: a reader offline or unknown, a time
    # not finite, a form for no resident or at no shelter
    general = sum(1 for c, w, x, t in zip(card, where, who, times, strict=True)
                  if not math.isfinite(t) or (w not in one.readers or w == 3 if c else
                                              not (isinstance(x, int) and 0 <= x < one.where.size
                                                   and 0 <= w < one.shelter_count)))
    assert alone == general


def test_a_run_stops_after_the_first_person_it_must_send_on(small_city):
    (first, second), (card_a, card_b) = card_holders(small_city, 2)
    net = ShelterNetwork.from_city(small_city, params=ShelterParams(capacity_per_shelter=1), now=T0)
    rng = np.random.default_rng(0)
    paper = no_card(small_city, 1)[0]
    outs, red = check_in_run(net, [True, True, False, True, True], [1, 2, 0, 1, 1],
                             [card_a, card_a, paper, card_b, card_a], [T0] * 5, rng)
    # the first card checks in, taps again (already here); the form finds the shelter full
    assert (outs, red) == ([IN, HERE, FULL], net.nearest_with_room(0))
    assert net.where[first] == 0 and net.where[second] == -1 and len(net.paper) == 0
    outs, red = check_in_run(net, [False, True], [1, 3], [paper, 99], [T0 + 1] * 2, rng)
    assert (outs, red) == ([QUEUED, REFUSED], -1)  # a form at the second shelter; a forged card
    assert net.taps.to_frame()["reason"].to_list() == ["", "", "", "", UnknownCard.code]


def test_every_shelter_full_gives_no_room_and_no_redirect(small_city):
    _, serials = card_holders(small_city, 6)
    net = ShelterNetwork.from_city(small_city, params=ShelterParams(capacity_per_shelter=1), now=T0)
    rng = np.random.default_rng(0)
    readers = [1, 3, 5, 7, 9, 1]  # one reader at each of the five shelters, then the first again
    outs, red = check_in_run(net, [True] * 6, readers, serials, [T0] * 6, rng)
    assert (outs, red) == ([IN] * 5 + [NO_ROOM], -1)


def test_a_run_of_paper_forms_names_the_same_residents_as_one_form_at_a_time(small_city):
    # high error rates: many forms unreadable or transcribed to another resident (the run draws
    # who a form names itself, as `fill_code` does)
    params = ShelterParams(capacity_per_shelter=1000, paper_unreadable_rate=0.3, paper_wrong_resident_rate=0.4)
    one, run = (ShelterNetwork.from_city(small_city, params=params, now=T0) for _ in range(2))
    people = no_card(small_city, 13) * 4
    rng_one, rng_run = np.random.default_rng(5), np.random.default_rng(5)
    want = [one.paper_code(k % 5, p, T0 + k, rng_one) for k, p in enumerate(people)]
    outs, red = check_in_run(run, [False] * len(people), [k % 5 for k in range(len(people))], people,
                             [T0 + k for k in range(len(people))], rng_run)
    assert [(out, red) for out in outs] == want
    written = run.paper.written
    assert written.count(-1) > 0 and any(w not in (-1, p) for w, p in zip(written, people, strict=True))
    same_network_state(one, run)
    assert rng_one.random() == rng_run.random()


def test_a_run_refuses_columns_of_different_lengths(small_city):
    net = ShelterNetwork.from_city(small_city, now=T0)
    with pytest.raises(ValueError, match="as long as"):
        check_in_run(net, [False, False], [0, 0], [1], [T0, T0], np.random.default_rng(0))
    assert len(net.taps) == 0 and len(net.paper) == 0


def test_a_copied_network_runs_on_its_own_counts_not_the_originals(small_city):
    # the compiled rows write through views of a network's count arrays: a copy (pickled, as a
    # process hands a network over) must get views of its own arrays
    people = no_card(small_city, 4)
    net = ShelterNetwork.from_city(small_city, now=T0)
    rng = np.random.default_rng(1)
    check_in_run(net, [False, False], [0, 1], people[:2], [T0, T0 + 1], rng)
    copy, rng_copy = pickle.loads(pickle.dumps((net, rng)))
    before = list(net.occ)
    outs, _ = check_in_run(copy, [False, False], [0, 2], people[2:], [T0 + 2, T0 + 3], rng_copy)
    assert outs == [QUEUED, QUEUED] and list(net.occ) == before
    assert list(copy.occ) == [2, 1, 1, 0, 0] and len(copy.paper) == 4 and len(net.paper) == 2


def test_the_compiled_paper_draws_are_numpys_own_draws_in_the_same_order():
    # `random()` then `integers(0, m)` per form (who a misread form names), through the generator's
    # C functions: the same numbers and the same generator state after them, for bounds of every size
    import numba

    from twin.services.shelter_run_kernel import _below, _call_double, generator_address

    @numba.njit
    def draws(gen, bounds, out):  # pragma: no cover (compiled)
        for i in range(bounds.size):
            out[2 * i] = _call_double(gen[1], gen[0])
            out[2 * i + 1] = _below(gen, bounds[i] - 1)

    bounds = np.r_[1, 2, 3, 7, 2**31, 2**32 - 1, 3_777_491, np.random.default_rng(9).integers(1, 2**32 - 1, 2000)]
    compiled, python = np.random.default_rng(11), np.random.default_rng(11)
    out = np.empty(2 * bounds.size)
    draws(generator_address(compiled), bounds.astype(np.int64), out)
    want = [v for m in bounds.tolist() for v in (python.random(), float(python.integers(m)))]
    assert out.tolist() == want
    assert compiled.bit_generator.state == python.bit_generator.state
