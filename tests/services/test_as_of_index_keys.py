"""'As of' look-ups answer alike whatever the keys' range (few keys are sorted another way)."""

from __future__ import annotations

import numpy as np
import pytest

from twin.services.shelter_history import AsOfIndex


@pytest.mark.parametrize("in_time_order", [True, False])
@pytest.mark.parametrize("seed", [1, 2])
def test_keys_past_two_to_the_sixteen_find_the_entries_their_small_twins_find(seed, in_time_order):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 9, 3000)
    times = rng.integers(0, 50, 3000).astype(float)  # many ties
    if in_time_order:
        times = np.sort(times)
    ask_keys, ask_times = rng.integers(0, 10, 4000), rng.integers(-1, 52, 4000).astype(float)
    small = AsOfIndex(keys, times).find(ask_keys, ask_times)
    large = AsOfIndex(keys * 100_003, times).find(ask_keys * 100_003, ask_times)
    assert np.array_equal(small, large) and (small >= 0).any() and (small < 0).any()
    hit = small >= 0  # each found entry has the key asked for, at or before the time asked
    assert (keys[small[hit]] == ask_keys[hit]).all() and (times[small[hit]] <= ask_times[hit]).all()
