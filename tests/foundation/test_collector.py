"""Pausing the cycle collector: back on after the block, and cycles the block left still collected."""

from __future__ import annotations

import gc
import weakref

from twin.collector import collector_paused


class _Node:
    """An object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref:
    """Make a two-node cycle and return a weak reference to one node."""
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_the_collector_is_off_inside_and_on_again_after():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: the outer block decides
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_cycle_left_by_a_block_is_collected_afterwards():
    with collector_paused():
        ref = _cycle()
    gc.collect()
    assert ref() is None


def test_a_cycle_left_by_a_freezing_block_is_collected_when_the_next_one_starts():
    with collector_paused(freeze=True):
        ref = _cycle()
    gc.collect()
    assert ref() is not None  # frozen with what the block allocated: not walked again
    with collector_paused(freeze=True):
        assert ref() is None  # thawed and collected as the next run starts
    assert gc.isenabled()


def test_the_collector_comes_back_on_when_the_block_raises():
    try:
        with collector_paused():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.isenabled()
