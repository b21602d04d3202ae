"""The look-ups' (look-up, member) pairs from the households' member columns, as from their lists."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from scenarios.fast.disaster_reads import _pairs


def columns(members_of: dict[int, list[int]]) -> SimpleNamespace:
    """A model holding `members_of` as `DisasterModel.household_members` holds it."""
    keys = sorted(members_of)
    order = np.array([x for k in keys for x in members_of[k]], dtype=np.int64)
    bounds = np.cumsum([0, *(len(members_of[k]) for k in keys)])
    return SimpleNamespace(household_members=(np.array(keys, dtype=np.int64), bounds, order))


def test_each_look_up_pairs_with_every_member_of_its_household_in_their_order():
    members_of = {4: [7, 2, 9], 11: [0, 1], 30: [5, 3, 8, 6]}
    asked = np.array([30, 4, 30, 11], dtype=np.int64)  # a household asked twice
    pi, px = _pairs(columns(members_of), asked)
    want = [(i, x) for i, h in enumerate(asked.tolist()) for x in members_of[h]]
    assert list(zip(pi.tolist(), px.tolist(), strict=True)) == want


def test_a_household_that_did_not_arrive_apart_cannot_be_looked_up():
    with pytest.raises(RuntimeError, match="not one whose members arrived apart"):
        _pairs(columns({4: [1, 2]}), np.array([5]))
    with pytest.raises(RuntimeError, match="not one whose members arrived apart"):
        _pairs(columns({}), np.array([5]))
