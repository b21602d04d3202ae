"""Paper-form entry as columns: `shelter_paper._enter_all` for a batch in which no resident is named twice.

Staff enter forms oldest first; a form's status depends only on the record of the resident it
names, which only an earlier form naming the same resident could change. So a batch naming each
resident at most once is decided from the records as they were before it: unreadable, entered
(no record), duplicate (recorded at this shelter) or recorded elsewhere. Counts, records and
register rows are then written column by column, each row noted with its shelter's counts right
after it (as one row at a time would note them). A batch naming someone twice takes the per-form
loop (`tests/services/test_paper_entry.py` checks both give the same).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twin.services.shelter_outcomes import IN, REFUSED
from twin.services.shelter_paper import CONFLICT, DUPLICATE, ENTERED, STATUS_NAMES, UNREADABLE

if TYPE_CHECKING:
    from twin.services.shelters import ShelterNetwork

# a row's reason by the form's new status (an unreadable form's reason is "unreadable")
REASONS = tuple("" if st == ENTERED else "unreadable" if st == UNREADABLE else name
                for st, name in enumerate(STATUS_NAMES))


def enter_columns(net: ShelterNetwork, a: int, b: int, now: float) -> list[int] | None:
    """Enter forms a to b - 1 as columns; a tally by new status, or None (nothing done) if a
    resident is named twice among them."""
    forms = net.paper
    rid = np.asarray(forms.written[a:b], dtype=np.int64)
    named = np.sort(rid[rid >= 0])
    if named.size > 1 and bool((named[1:] == named[:-1]).any()):
        return None
    s = np.asarray(forms.shelter[a:b], dtype=np.int64)
    cur = net.where[np.maximum(rid, 0)]
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


def _ident_after(s: np.ndarray, entered: np.ndarray, ident0: np.ndarray) -> np.ndarray:
    """Each row's shelter's identified count right after it: the count before the batch plus the
    forms entered at that shelter up to this row."""
    order = np.argsort(s, kind="stable")
    run = np.cumsum(entered[order])
    s_sorted = s[order]
    first = np.r_[True, s_sorted[1:] != s_sorted[:-1]]
    before = np.maximum.accumulate(np.where(first, np.arange(s.size), 0))  # each row's group start
    offset = (run - entered[order])[before]  # entered before the group
    out = np.empty(s.size, dtype=np.int64)
    out[order] = ident0[s_sorted] + run - offset
    return out


def _add(counts: list[int], per_shelter: np.ndarray) -> None:
    """Add per-shelter numbers to a count list (only the shelters that have some)."""
    nz = np.flatnonzero(per_shelter)
    for x, c in zip(nz.tolist(), per_shelter[nz].tolist(), strict=True):
        counts[x] += c
