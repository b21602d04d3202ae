"""Each point's nearest shelters on the compiled grid: `nearest` and `nearest_distance` answer what the
KD-tree answers."""

from __future__ import annotations

import numba  # noqa: F401  (loaded: `nearest` answers on the grid)
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from scenarios import nearest as near


@pytest.fixture(autouse=True)
def grid_for_any_count(monkeypatch):
    """The grid for a handful of points too (it is kept for many in a run)."""
    monkeypatch.setattr(near, "GRID_FROM", 1)


def _same(points: np.ndarray, shelters: np.ndarray, k: int) -> None:
    dist, idx = near.nearest(points, shelters, k)
    ref_d, ref_i = cKDTree(shelters).query(points, k=k)
    assert np.array_equal(dist, ref_d) and np.array_equal(idx, ref_i)
    assert dist.dtype == ref_d.dtype and idx.dtype == ref_i.dtype


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_shelters=st.integers(4, 300), n_points=st.integers(1, 3000),
       k=st.integers(2, 3), lattice=st.booleans(), spread=st.sampled_from([0.01, 1.0, 30.0]))
def test_the_grid_gives_the_trees_distances_indices_and_tie_order(seed, n_shelters, n_points, k,
                                                                  lattice, spread):
    rng = np.random.default_rng(seed)
    shelters = rng.uniform(0.0, spread, (n_shelters, 2))
    points = rng.normal(spread / 2, spread, (n_points, 2))  # some beyond the shelters
    if lattice:  # equal distances everywhere: shelters and points on a coarse lattice, repeats too
        shelters = np.round(shelters * 4 / spread) * spread / 4
        points = np.round(points * 8 / spread) * spread / 8
    _same(points, shelters, k)


def _same_distance(points: np.ndarray, sites: np.ndarray) -> None:
    dist = near.nearest_distance(points, sites)
    ref = cKDTree(sites).query(points)[0]
    assert np.array_equal(dist, ref) and dist.dtype == ref.dtype and dist.shape == ref.shape


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_sites=st.integers(1, 300), n_points=st.integers(0, 3000),
       lattice=st.booleans(), spread=st.sampled_from([0.01, 1.0, 30.0]))
def test_the_nearest_distance_on_the_grid_is_the_trees(seed, n_sites, n_points, lattice, spread):
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0.0, spread, (n_sites, 2))
    points = rng.normal(spread / 2, spread, (n_points, 2))  # some beyond the sites
    if lattice:  # equal distances: sites and points on a coarse lattice, repeats too
        sites = np.round(sites * 4 / spread) * spread / 4
        points = np.round(points * 8 / spread) * spread / 8
    _same_distance(points, sites)


def test_a_city_sized_draw_of_nearest_distances_takes_the_grid(monkeypatch):
    rng = np.random.default_rng(5)
    sites = rng.uniform(0.0, 20.0, (330, 2))
    points = np.concatenate([rng.uniform(-1.0, 21.0, (30_000, 2)), sites[:40], [[1e6, 0.0], [-5.0, 3.0]]])
    monkeypatch.setattr(near, "GRID_FROM", 4096)
    called = []
    real = near._on_grid
    monkeypatch.setattr(near, "_on_grid", lambda *a: called.append(a[2]) or real(*a))
    _same_distance(points, sites)
    assert called == [1]


def test_without_numba_or_with_few_points_the_tree_answers(monkeypatch):
    monkeypatch.setattr(near, "_on_grid", None)  # (would fail if called)
    sites = np.array([[0.0, 0.0], [1.0, 0.0]])
    monkeypatch.setattr(near, "GRID_FROM", 4096)
    _same_distance(np.zeros((4095, 2)), sites)
    monkeypatch.setattr(near, "GRID_FROM", 1)
    monkeypatch.delitem(near.sys.modules, "numba")
    _same_distance(np.ones((5000, 2)), sites)
    dist, idx = near.nearest(np.ones((5000, 2)), sites, 2)
    assert np.array_equal(idx, cKDTree(sites).query(np.ones((5000, 2)), k=2)[1])


def test_a_city_sized_draw_takes_the_grid_and_matches_the_tree():
    rng = np.random.default_rng(3)
    shelters = rng.uniform(0.0, 30.0, (470, 2))
    points = np.concatenate([rng.uniform(-2.0, 32.0, (20_000, 2)), shelters[:50] + [[0.5, 0.0]],
                             np.full((3, 2), 1e6)])  # exactly between two shelters? far away
    _same(points, shelters, 3)


def test_few_shelters_or_points_not_in_two_dimensions_take_the_tree():
    shelters = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    _same(np.array([[0.2, 0.3], [5.0, 5.0]]), shelters, 3)  # not more shelters than k
    assert not near._grid_worth(np.zeros((10, 3)), np.zeros((10, 3)), 2)
    assert not near._grid_worth(np.zeros((10, 2)), np.full((10, 2), np.nan), 2)
    assert not near._grid_worth(np.zeros((10, 2)), np.zeros((near.GRID_SHELTERS + 1, 2)), 2)
    assert near._grid_worth(np.zeros((10, 2)), np.zeros((near.GRID_SHELTERS, 2)), 2)
