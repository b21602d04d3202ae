"""`small_pages`: NumPy's huge-page advice off in the block, as it was after it; disaster runs use it."""

from __future__ import annotations

import pytest
from numpy._core import multiarray

from scenarios import disaster
from scenarios.runner import make_params
from twin.pages import small_pages


def _advice() -> bool:
    was = multiarray._set_madvise_hugepage(True)
    multiarray._set_madvise_hugepage(was)
    return bool(was)


class _Stop(Exception):
    pass


def test_small_pages_switches_the_advice_off_in_the_block_and_back_after_it():
    before = _advice()
    try:
        for start in (True, False):
            multiarray._set_madvise_hugepage(start)
            with small_pages():
                assert _advice() is False
            assert _advice() is start
        multiarray._set_madvise_hugepage(True)
        with pytest.raises(_Stop), small_pages():  # an error in the block restores it too
            raise _Stop
        assert _advice() is True
    finally:
        multiarray._set_madvise_hugepage(before)


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_a_disaster_run_allocates_without_huge_page_advice(monkeypatch, engine):
    before, seen = _advice(), []

    def simulate(params, streams):
        seen.append(_advice())
        raise _Stop

    monkeypatch.setattr(disaster, "simulate", simulate)
    with pytest.raises(_Stop):
        disaster.run(make_params("disaster", "full", overrides={"engine": engine}), 1)
    assert seen == [False]
    assert _advice() is before
