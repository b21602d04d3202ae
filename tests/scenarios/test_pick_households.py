"""Picking evacuating households: only the households the target needs are added up, the same pick."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.evacuation import pick_households


def pick_adding_up_all(rng: np.random.Generator, sizes: np.ndarray, target: int) -> np.ndarray:
    """The pick with every household's size added up (as before the cut)."""
    order = rng.permutation(sizes.size)
    cum = np.cumsum(sizes[order])
    k = int(np.searchsorted(cum, target)) + 1
    return np.sort(order[: min(k, sizes.size)])


@pytest.mark.parametrize("target", [0, 1, 7, 500, 2_999, 10_000])
@pytest.mark.parametrize("empty_share", [0.0, 0.6])  # households of nobody (the cut must not rely on none)
def test_the_pick_is_the_one_adding_up_every_household_gives(target, empty_share):
    sizes = np.random.default_rng(3).integers(1, 6, 1_000)
    sizes[np.random.default_rng(4).random(1_000) < empty_share] = 0
    got = pick_households(np.random.default_rng(9), sizes, target)
    assert np.array_equal(got, pick_adding_up_all(np.random.default_rng(9), sizes, target))
    assert sizes[got].sum() >= min(target, sizes.sum())


def test_a_city_without_households_picks_none():
    assert pick_households(np.random.default_rng(0), np.zeros(0, np.int64), 10).size == 0
