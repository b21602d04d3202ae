"""A group's check-ins at one desk at one instant (`tap_part`, `paper_part`; one person:
`tap_code`, `paper_code`) give exactly what one call per person gives: state, register, events,
outcome codes and the first redirect."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.services.safety_helpers import T0, card_holders, no_card, same_network_state
from twin.errors import NotFound, TwinError, ValidationError
from twin.services.card_serials import SerialIndex
from twin.services.shelter_outcomes import REFUSED
from twin.services.shelters import ShelterNetwork, ShelterParams

GROUPS = st.lists(st.lists(st.tuples(st.integers(0, 11), st.integers(0, 14)), min_size=1, max_size=5),
                  min_size=1, max_size=12)


def _network(city, revoked: list[int], offline: int | None = None) -> ShelterNetwork:
    index = SerialIndex.from_residents(city.residents)
    for s in revoked:
        index.revoke(s, T0 - 1)
    net = ShelterNetwork.from_city(city, resolver=index, params=ShelterParams(capacity_per_shelter=2), now=T0)
    if offline is not None:
        net.set_online(offline, False, T0)
    return net


def _codes_one_by_one(net: ShelterNetwork, call) -> tuple[list[int], int]:
    """Outcome codes and first redirect index from single calls (REFUSED where they raise)."""
    outs, first = [], -1
    for args in call:
        try:
            res = args()
        except TwinError:
            outs.append(REFUSED)
            continue
        outs.append(int(res.outcome))
        if res.redirect_to is not None and first < 0:
            first = net.shelter_index(res.redirect_to)
    return outs, first


@settings(max_examples=50, deadline=None)
@given(groups=GROUPS)
def test_tap_part_matches_single_taps_exactly(small_city, groups):
    _, serials = card_holders(small_city, 12)
    pool = serials + [5, 6, 7]  # never issued: forged cards
    one, part = (_network(small_city, serials[:2], offline=3) for _ in range(2))
    for k, group in enumerate(groups):
        readers = [r + 1 for r, _ in group]  # readers 1..10 exist (3 offline), 11 and 12 do not
        cards = [pool[c] for _, c in group]
        t = T0 + k
        want = _codes_one_by_one(one, [lambda r=r, c=c, t=t: one.tap(r, c, t)
                                       for r, c in zip(readers, cards, strict=True)])
        assert part.tap_part(readers, cards, t) == want
    same_network_state(one, part)


@settings(max_examples=40, deadline=None)
@given(groups=GROUPS)
def test_tap_code_answers_the_code_of_what_tap_answers(small_city, groups):
    """The fast engine checks a lone card in with `tap_code`: the code of what `tap` answers."""
    _, serials = card_holders(small_city, 12)
    pool = serials + [5, 6, 7]
    one, code = (_network(small_city, serials[:2], offline=3) for _ in range(2))
    for k, group in enumerate(groups):
        for r, c in group:
            (out,), red = _codes_one_by_one(one, [lambda r=r, c=c, t=T0 + k: one.tap(r + 1, pool[c], t)])
            assert code.tap_code(r + 1, pool[c], T0 + k) == (out, red)
    same_network_state(one, code)


@settings(max_examples=30, deadline=None)
@given(groups=st.lists(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 7)), min_size=1, max_size=4),
                       min_size=1, max_size=10))
def test_paper_part_matches_single_forms_exactly(small_city, groups):
    people = no_card(small_city, 8)
    one, part = (_network(small_city, []) for _ in range(2))
    rng_one, rng_part = np.random.default_rng(5), np.random.default_rng(5)
    for k, group in enumerate(groups):
        s = group[0][0]
        who = [people[p] for _, p in group]
        fid = int(one.facility_ids[s])
        want = _codes_one_by_one(one, [lambda w=w, f=fid, t=T0 + k: one.paper_form(f, w, t, rng_one)
                                       for w in who])
        assert part.paper_part(s, who, T0 + k, rng_part) == want
    same_network_state(one, part)
    assert one.paper.to_frame(one.facility_ids).equals(part.paper.to_frame(part.facility_ids))


@settings(max_examples=30, deadline=None)
@given(forms=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 9)), min_size=1, max_size=30))
def test_paper_code_answers_the_code_of_what_paper_form_answers(small_city, forms):
    people = no_card(small_city, 8) + [-3, 10**9]  # and two who are nobody in this city
    one, code = (_network(small_city, []) for _ in range(2))
    rng_one, rng_code = np.random.default_rng(7), np.random.default_rng(7)
    for k, (s, p) in enumerate(forms):
        fid = int(one.facility_ids[s])
        (out,), red = _codes_one_by_one(one, [lambda f=fid, w=people[p], t=T0 + k: one.paper_form(f, w, t, rng_one)])
        assert code.paper_code(s, people[p], T0 + k, rng_code) == (out, red)
    same_network_state(one, code)
    assert one.paper.to_frame(one.facility_ids).equals(code.paper.to_frame(code.facility_ids))


def test_a_part_refuses_bad_times_and_shelters_by_name(small_city):
    net = _network(small_city, [])
    _, serials = card_holders(small_city, 1)
    with pytest.raises(ValidationError, match="finite"):
        net.tap_part([1], serials, float("nan"))
    with pytest.raises(ValidationError, match="finite"):
        net.tap_code(1, serials[0], float("inf"))
    with pytest.raises(NotFound, match="shelter index 99"):
        net.paper_part(99, no_card(small_city, 1), T0, np.random.default_rng(0))
    with pytest.raises(NotFound, match="shelter index -1"):
        net.paper_code(-1, no_card(small_city, 1)[0], T0, np.random.default_rng(0))
    assert len(net.taps) == 0 and list(net.occ) == [0] * net.shelter_count
