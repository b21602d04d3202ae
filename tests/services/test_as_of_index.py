"""'As of' look-ups answer as a scan of the entries in the order they happened would."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.services.shelter_history import AsOfIndex


def _scan(keys: list[int], times: list[float], key: int, t: float) -> int:
    """The last entry of `key` at or before `t`: entries by time, ties in their given order."""
    best, best_at = -1, -np.inf
    for j, (k, at) in enumerate(zip(keys, times, strict=True)):
        if k == key and at <= t and at >= best_at:
            best, best_at = j, at
    return best


@settings(max_examples=60, deadline=None)
@given(entries=st.lists(st.tuples(st.integers(0, 6), st.sampled_from([0.0, 1.0, 1.5, 2.0, 7.0])), max_size=40),
       asks=st.lists(st.tuples(st.integers(0, 7), st.sampled_from([-1.0, 0.0, 1.0, 1.2, 2.0, 9.0])),
                     max_size=30),
       in_time_order=st.booleans(), many=st.booleans())
def test_each_ask_gets_the_last_entry_of_its_key_at_or_before_its_time(entries, asks, in_time_order, many):
    if in_time_order:
        entries = sorted(entries, key=lambda e: e[1])
    keys, times = [e[0] for e in entries], [e[1] for e in entries]
    if many:  # past the size at which the queries are searched in sorted order
        asks = (asks * (3000 // max(len(asks), 1) + 1))[:3000]
    ak = np.array([a[0] for a in asks], dtype=np.int64)
    at = np.array([a[1] for a in asks], dtype=np.float64)
    got = AsOfIndex(np.array(keys, dtype=np.int64), np.array(times)).find(ak, at)
    want = [_scan(keys, times, k, t) for k, t in asks[:60]]
    assert got[:60].tolist() == want
    if many and asks:
        one = AsOfIndex(np.array(keys, dtype=np.int64), np.array(times)).find(ak[:len(want)], at[:len(want)])
        assert np.array_equal(got[:len(want)], one)
