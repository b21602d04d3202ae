"""Paper-form entry as columns (`shelter_entry.enter_columns`) gives exactly what entering the
forms one by one gives: statuses, tally, counts, records, register rows and the counts over time."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.services.safety_helpers import T0, no_card, same_network_state
from twin.identity import Assurance, Identity
from twin.services import shelter_paper
from twin.services.shelter_entry import enter_columns
from twin.services.shelters import ShelterNetwork, ShelterParams

# a form: (person in a pool of 8, shelter 0-3); a person recorded before: (person, shelter)
FORMS = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 3)), min_size=1, max_size=40)
BEFORE = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 3)), max_size=6)


def _network(city, forms, before, unreadable: float, wrong: float, record: bool) -> ShelterNetwork:
    """A network with some people recorded and the forms taken (the same for the same arguments)."""
    params = ShelterParams(paper_unreadable_rate=unreadable, paper_wrong_resident_rate=wrong,
                           capacity_per_shelter=1000)
    net = ShelterNetwork.from_city(city, params=params, now=T0)
    if record:
        net.record_history()
    people = no_card(city, 8)
    fids = net.facility_ids.tolist()
    for k, (p, s) in enumerate(before):
        net.check_in_identity(Identity(people[p], "counter_photo_id", Assurance.HIGH, T0 + k), fids[s], T0 + k)
    rng = np.random.default_rng(len(forms))
    for k, (p, s) in enumerate(forms):
        net.paper_form(fids[s], people[p], T0 + 10 + k, rng)
    return net


def _entered(net: ShelterNetwork, how) -> list[int]:
    """Enter every pending form with `how(net, a, b, now)`; the tally."""
    forms = net.paper
    tally = how(net, forms.next_pending, len(forms), T0 + 100.0)
    forms.next_pending = len(forms)
    return tally


@settings(max_examples=60, deadline=None)
@given(forms=FORMS, before=BEFORE, unreadable=st.sampled_from([0.0, 0.3, 0.5]),
       wrong=st.sampled_from([0.0, 0.5]), record=st.booleans())
def test_entering_forms_as_columns_matches_entering_them_one_by_one(small_city, forms, before, unreadable,
                                                                     wrong, record):
    one, cols = (_network(small_city, forms, before, unreadable, wrong, record) for _ in range(2))
    want = _entered(one, shelter_paper._enter_each)
    got = _entered(cols, enter_columns)
    assert got == want
    assert one.paper.status == cols.paper.status
    same_network_state(one, cols)
    assert np.array_equal(one.since, cols.since, equal_nan=True)
    if record:
        h1, h2 = one.taps.history(), cols.taps.history()
        s = np.repeat(np.arange(4), 3)
        at = np.tile([T0 + 99.0, T0 + 100.0, np.inf], 4)
        assert all(np.array_equal(x, y) for x, y in zip(h1.counts_at(s, at), h2.counts_at(s, at), strict=True))
        who = np.asarray(no_card(small_city, 8))
        assert np.array_equal(h1.where_at(who, np.full(8, np.inf)), h2.where_at(who, np.full(8, np.inf)))


def test_a_large_batch_of_forms_is_entered_as_columns_with_the_one_by_one_result(small_city, monkeypatch):
    people = no_card(small_city, 300)
    nets = []
    for _ in range(2):
        net = ShelterNetwork.from_city(small_city, params=ShelterParams(paper_unreadable_rate=0.1), now=T0)
        net.record_history()
        fids = net.facility_ids.tolist()
        net.check_in_identity(Identity(people[0], "counter_photo_id", Assurance.HIGH, T0), fids[1], T0)
        rng = np.random.default_rng(5)
        for k, p in enumerate(people + people[:30]):  # 30 people fill a second form (here or elsewhere)
            net.paper_form(fids[(k + (k >= 300) * (k % 2)) % 3], p, T0 + k, rng)
        nets.append(net)
    one, cols = nets
    assert len(one.paper) >= shelter_paper.COLUMNS_FROM
    with monkeypatch.context() as m:
        m.setattr(shelter_paper, "COLUMNS_FROM", 10**9)
        want = one.reconcile_paper(T0 + 100.0)  # one by one
    got = cols.reconcile_paper(T0 + 100.0)  # the service's call: as columns
    assert got == want
    assert want.entered > 250 and want.unreadable > 0 and want.duplicates > 0 and want.conflicts > 1
    same_network_state(one, cols)
