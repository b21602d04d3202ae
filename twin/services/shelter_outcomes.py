"""Outcomes of shelter check-in attempts and the one state step every channel shares."""

from __future__ import annotations

from collections.abc import MutableSequence, Sequence
from enum import IntEnum


class Outcome(IntEnum):
    """What a check-in or check-out attempt did."""

    CHECKED_IN = 0
    ALREADY_HERE = 1  # a second tap: idempotent, nothing changes
    MOVED = 2  # checked in here and out of the shelter recorded before
    REDIRECTED = 3  # this shelter is full; go to `redirect_to`
    NO_ROOM = 4  # this shelter and every other one are full
    CHECKED_OUT = 5
    NOT_CHECKED_IN = 6  # a check-out for someone with no record: idempotent
    QUEUED = 7  # held on an offline reader or a paper form, entered later
    REFUSED = 8  # see the reason; nothing recorded


# plain ints for the per-tap hot path (IntEnum comparisons cost more)
IN, HERE, MOVED, FULL, NO_ROOM = 0, 1, 2, 3, 4
CHECKED_OUT, NOT_CHECKED_IN, QUEUED, REFUSED = 5, 6, 7, 8
NAMES = tuple(o.name.lower() for o in Outcome)
OUTCOMES = tuple(Outcome)  # code -> member without the Enum call


def step_in(cur: int, s: int, occ: MutableSequence[int], reg: MutableSequence[int], cap: Sequence[int]) -> int:
    """The outcome code of checking into shelter `s` a resident recorded at `cur`; updates the counts."""
    if cur == s:
        return HERE
    if occ[s] >= cap[s]:
        return FULL
    occ[s] += 1
    reg[s] += 1
    if cur < 0:
        return IN
    occ[cur] = max(occ[cur] - 1, 0)
    reg[cur] -= 1
    return MOVED
