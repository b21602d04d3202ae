"""Searching many queries in sorted order answers exactly as `np.searchsorted` does."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from twin.sorted_search import SORT_FROM, search_sorted, stable_order

ints = hnp.arrays(np.int64, st.integers(0, 3 * SORT_FROM), elements=st.integers(-50, 50))
floats = hnp.arrays(np.float64, st.integers(0, 3 * SORT_FROM),
                    elements=st.floats(-5, 5) | st.sampled_from([np.inf, -np.inf, np.nan, 0.0, -0.0]))


@settings(max_examples=40, deadline=None)
@given(column=st.one_of(ints, floats), queries=st.one_of(ints, floats), side=st.sampled_from(["left", "right"]))
def test_answers_equal_numpys_for_any_column_queries_and_side(column, queries, side):
    column = np.sort(column)  # repeats, NaN last, infinities, -0.0 and 0.0
    got = search_sorted(column, queries, side)
    assert np.array_equal(got, np.searchsorted(column, queries, side=side))
    assert got.dtype == np.intp


def test_a_city_sized_column_with_many_unsorted_queries_takes_the_sorted_path_and_agrees():
    rng = np.random.default_rng(3)
    column = np.sort(rng.integers(0, 10**12, 200_000))
    queries = np.concatenate([rng.choice(column, 30_000), rng.integers(0, 10**12, 30_000)])
    for side in ("left", "right"):
        assert np.array_equal(search_sorted(column, queries, side), np.searchsorted(column, queries, side=side))


@settings(max_examples=60, deadline=None)
@given(values=st.one_of(ints, floats, hnp.arrays(np.float64, st.integers(0, 50), elements=st.floats(0, 1e6))))
def test_the_stable_order_is_numpys_stable_argsort_with_ties_and_nan(values):
    assert np.array_equal(stable_order(values), np.argsort(values, kind="stable"))


def test_the_stable_order_keeps_repeated_not_a_time_values_in_their_places():
    t = np.array(["2024-01-01", "NaT", "2023-05-01", "NaT", "NaT"], dtype="datetime64[D]")
    assert np.array_equal(stable_order(t), np.argsort(t, kind="stable"))
    assert np.array_equal(stable_order(t - t[0]), np.argsort(t - t[0], kind="stable"))
