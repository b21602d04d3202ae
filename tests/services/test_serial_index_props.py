"""A serial index answers taps as the plain rule says, whatever was looked up ahead or revoked."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from twin.services.card_serials import SerialIndex
from twin.trust_errors import CardRevoked, UnknownCard

CARDS = {50: 5, 10: 1, 30: 3, 20: 2, 7: 0}
serials = st.sampled_from([*CARDS, 99, -1])
as_type = st.sampled_from([int, np.int64, float])
ops = st.one_of(
    st.tuples(st.just("prepare"), st.lists(serials, max_size=6)),
    st.tuples(st.just("revoke"), st.sampled_from(list(CARDS)), st.sampled_from([0.0, 5.0, 10.0])),
    st.tuples(st.just("tap"), serials, as_type, st.sampled_from([0.0, 4.9, 5.0, 10.0, 20.0])),
)


@given(steps=st.lists(ops, max_size=25))
def test_taps_resolve_or_refuse_by_the_rule_after_any_look_ups_ahead_and_revocations(steps):
    index = SerialIndex(np.array(list(CARDS)), np.array(list(CARDS.values())))
    revoked: dict[int, float] = {}
    for step in steps:
        if step[0] == "prepare":
            held = index.prepare(step[1])  # the holders as issued, as `holders_of` answers
            assert held.tolist() == index.holders_of(step[1]).tolist() == [CARDS.get(s, -1) for s in step[1]]
        elif step[0] == "revoke":
            index.revoke(step[1], step[2])
            revoked[step[1]] = min(revoked.get(step[1], np.inf), step[2])
            assert index.revoked_since(step[1]) == revoked[step[1]]
        else:
            _, serial, kind, now = step
            if serial not in CARDS:
                try:
                    index.resident_of(kind(serial), now)
                    raise AssertionError(f"serial {serial} was never issued")
                except UnknownCard as e:
                    assert f"card serial {serial} was never issued" in str(e)
            elif now >= revoked.get(serial, np.inf):
                try:
                    index.resident_of(kind(serial), now)
                    raise AssertionError(f"serial {serial} is revoked")
                except CardRevoked:
                    pass
            else:
                assert index.resident_of(kind(serial), now) == CARDS[serial]
    left = index.to_revoke(list(CARDS), 7.0)
    assert left == [s for s in CARDS if revoked.get(s, np.inf) > 7.0]
