"""Paper-form entry as columns: `shelter_paper._enter_all` for a batch of forms, decided at once.

Staff enter forms oldest first; a form's status depends only on the record of the resident it
names when it is entered. Within a batch that record changes only when a form naming the
resident is entered, which needs no record before it: so the first form naming a resident with
no record is entered, and every other form naming a resident sees the record as it was before the
batch or, after that first entry, the shelter it entered (unreadable, entered, duplicate:
recorded at this shelter, or recorded elsewhere). Counts, records and register rows are then
written column by column, each row noted with its shelter's counts right after it (as one row at
a time would note them; `tests/services/test_paper_entry.py` checks both give the same).
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import TYPE_CHECKING

import numpy as np

from twin.services.shelter_outcomes import IN, REFUSED
from twin.services.shelter_paper import CONFLICT, DUPLICATE, ENTERED, STATUS_NAMES, UNREADABLE

if TYPE_CHECKING:
    from twin.services.shelters import ShelterNetwork

# a row's reason by the form's new status (an unreadable form's reason is "unreadable")
REASONS = tuple("" if st == ENTERED else "unreadable" if st == UNREADABLE else name
                for st, name in enumerate(STATUS_NAMES))


def enter_columns(net: ShelterNetwork, a: int, b: int, now: float) -> list[int]:
    """Enter forms a to b - 1 as columns, in order; a tally by their new status."""
    forms = net.paper
    rid = np.asarray(forms.written[a:b], dtype=np.int64)
    s = np.asarray(forms.shelter[a:b], dtype=np.int64)
    cur = _records_seen(rid, s, net.where[np.maximum(rid, 0)].astype(np.int64))
    status = np.where(rid < 0, UNREADABLE, np.where(cur < 0, ENTERED, np.where(cur == s, DUPLICATE, CONFLICT)))
    entered = status == ENTERED
    n_s = len(net.reg)
    ident0 = np.asarray(net.reg, dtype=np.int64) - np.asarray(net.anon, dtype=np.int64)
    ident = _ident_after(s, entered, ident0)
    _add(net.reg, np.bincount(s, minlength=n_s))
    _add(net.anon, np.bincount(s[~entered], minlength=n_s))
    who = rid[entered]
    net.where[who] = s[entered]
    net.since[who] = np.asarray(forms.at[a:b], dtype=np.float64)[entered]
    n = b - a
    reasons = [REASONS[x] for x in status.tolist()]
    columns = {"at": [now] * n, "channel": ["paper"] * n, "reader_id": [-1] * n, "shelter": s.tolist(),
               "resident_id": rid.tolist(), "outcome": np.where(entered, IN, REFUSED).tolist(),
               "reason": reasons, "redirect": [-1] * n, "queue_id": list(range(a, b))}
    occ = np.asarray(net.occ, dtype=np.int64)[s]
    net.taps.extend_noted(columns, occ, ident)
    forms.status[a:b] = status.tolist()
    return np.bincount(status, minlength=len(STATUS_NAMES)).tolist()


def _records_seen(rid: np.ndarray, s: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The record each form's resident has when the form is entered (-1: none), given the records
    before the batch: a resident named again after a form of theirs was entered is recorded at
    that form's shelter."""
    seen = before.copy()
    named = np.flatnonzero(rid >= 0)
    order = named[np.argsort(rid[named], kind="stable")]  # each resident's forms together, in order
    r = rid[order]
    again = np.r_[False, r[1:] == r[:-1]] if r.size else np.zeros(0, dtype=bool)
    if not again.any():
        return seen
    first = np.maximum.accumulate(np.where(~again, np.arange(r.size), 0))  # their first form
    later = order[again]
    entered = before[later] < 0  # the first form was entered (no record before): recorded there
    seen[later[entered]] = s[order[first[again]][entered]]
    return seen


def _ident_after(s: np.ndarray, entered: np.ndarray, ident0: np.ndarray) -> np.ndarray:
    """Each row's shelter's identified count right after it: the count before the batch plus the
    forms entered at that shelter up to this row."""
    order = np.argsort(s.astype(np.uint16) if s.size and s.max() < 2**16 else s, kind="stable")  # (radix)
    run = np.cumsum(entered[order])
    s_sorted = s[order]
    first = np.r_[True, s_sorted[1:] != s_sorted[:-1]]
    before = np.maximum.accumulate(np.where(first, np.arange(s.size), 0))  # each row's group start
    offset = (run - entered[order])[before]  # entered before the group
    out = np.empty(s.size, dtype=np.int64)
    out[order] = ident0[s_sorted] + run - offset
    return out


def _add(counts: MutableSequence[int], per_shelter: np.ndarray) -> None:
    """Add per-shelter numbers to a count array (only the shelters that have some)."""
    nz = np.flatnonzero(per_shelter)
    for x, c in zip(nz.tolist(), per_shelter[nz].tolist(), strict=True):
        counts[x] += c
