"""Paper forms at the shelter desk (紙の避難者カード): the path without a card, entered later.

A form is counted at the desk at once but reaches the shelter system only when staff
transcribe it (`reconcile`). Transcription goes wrong at set rates: the record names another
resident, or cannot be matched at all. Unmatched forms stay as anonymous heads until a
desk identifies the person (`identify_form`). The true resident of each form is kept beside
the written one only so scenarios can measure the error; the service logic never reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from twin.errors import Conflict, NotFound, TwinError
from twin.identity import Identity
from twin.services.card_serials import finite_time
from twin.services.procedures import require_assurance
from twin.services.safety_events import PaperFormsReconciled
from twin.services.shelter_outcomes import FULL, IN, NO_ROOM, QUEUED, REFUSED, Outcome
from twin.services.shelter_types import TapResult

if TYPE_CHECKING:
    from twin.services.shelters import ShelterNetwork

PENDING, ENTERED, UNREADABLE, DUPLICATE, CONFLICT, IDENTIFIED = range(6)
STATUS_NAMES = ("pending", "entered", "unreadable", "duplicate_name", "recorded_elsewhere", "identified")
UNMATCHED = (UNREADABLE, DUPLICATE, CONFLICT)


@dataclass(frozen=True, slots=True)
class PaperReport:
    """One reconciliation run: forms entered, unmatched by kind, and still pending."""

    entered: int
    unreadable: int
    duplicates: int
    conflicts: int
    pending: int


class PaperForms:
    """Every paper form as columns, with a pointer to the oldest untranscribed one."""

    __slots__ = ("at", "shelter", "written", "truth", "status", "next_pending")

    def __init__(self) -> None:
        self.at: list[float] = []
        self.shelter: list[int] = []
        self.written: list[int] = []  # -1: unreadable
        self.truth: list[int] = []  # ground truth for measurement only
        self.status: list[int] = []
        self.next_pending = 0

    def __len__(self) -> int:
        return len(self.at)

    def pending(self) -> int:
        """How many forms wait for transcription."""
        return len(self.at) - self.next_pending

    def to_frame(self, facility_ids: np.ndarray) -> pl.DataFrame:
        """form_id, at, shelter_id, written_resident (-1 unreadable), true_resident, status, correct."""
        written = np.asarray(self.written, dtype=np.int64)
        truth = np.asarray(self.truth, dtype=np.int64)
        return pl.DataFrame({
            "form_id": np.arange(len(self.at), dtype=np.int64),
            "at": np.asarray(self.at, dtype=np.float64),
            "shelter_id": np.asarray(facility_ids, dtype=np.int64)[np.asarray(self.shelter, dtype=np.int64)],
            "written_resident": written, "true_resident": truth,
            "status": [STATUS_NAMES[s] for s in self.status], "correct": written == truth,
        }, schema_overrides={"status": pl.Utf8})


def _written(net: ShelterNetwork, truth: int, rng: np.random.Generator) -> int:
    """Who the transcribed form names: the right resident, another one, or nobody (-1)."""
    p = net.params
    u = rng.random()
    if u < p.paper_unreadable_rate:
        return -1
    if u < p.paper_unreadable_rate + p.paper_wrong_resident_rate and net.where.size > 1:
        other = int(rng.integers(net.where.size - 1))
        return other + (other >= truth)
    return truth


def fill_form(net: ShelterNetwork, s: int, resident_id: int, now: float, rng: np.random.Generator) -> TapResult:
    """The desk takes a paper form (or redirects when full); the form waits for transcription."""
    out, red = fill_code(net, s, resident_id, finite_time(now), rng)
    fid = int(net.facility_ids[s])
    if out == QUEUED:
        return TapResult(Outcome.QUEUED, fid, -1, None, len(net.paper) - 1)
    return TapResult(Outcome(out), fid, -1, int(net.facility_ids[red]) if red >= 0 else None)


def fill_code(net: ShelterNetwork, s: int, resident_id: int, t: float, rng: np.random.Generator
              ) -> tuple[int, int]:
    """`fill_form` at a finite time `t`, answering (outcome code, redirect shelter index or -1)."""
    truth = net.resident_index(resident_id)
    if net.occ[s] >= net.cap[s]:
        red = net.nearest_with_room(s)
        out = FULL if red >= 0 else NO_ROOM
        net.taps.add(t, "paper", -1, s, -1, out, "", red, -1)
        return out, red
    forms = net.paper
    form_id = len(forms)
    forms.at.append(t)
    forms.shelter.append(s)
    forms.written.append(_written(net, truth, rng))
    forms.truth.append(truth)
    forms.status.append(PENDING)
    net.occ[s] += 1
    net.taps.add(t, "paper", -1, s, -1, QUEUED, "", -1, form_id)
    return QUEUED, -1


COLUMNS_FROM = 64  # forms in a batch from which entering them as columns pays


def _enter_all(net: ShelterNetwork, a: int, b: int, now: float) -> list[int]:
    """Transcribe forms a to b - 1 into the system, in order; a tally by their new status (a large
    batch: as columns, `shelter_entry`)."""
    from twin.services.shelter_entry import enter_columns

    return enter_columns(net, a, b, now) if b - a >= COLUMNS_FROM else _enter_each(net, a, b, now)


def _enter_each(net: ShelterNetwork, a: int, b: int, now: float) -> list[int]:
    """`_enter_all` one form at a time."""
    forms = net.paper
    where, since, reg, anon, row = net.where, net.since, net.reg, net.anon, net.taps.append_row
    tally = [0] * len(STATUS_NAMES)
    status = []
    for form_id, s, rid, at in zip(range(a, b), forms.shelter[a:b], forms.written[a:b], forms.at[a:b],
                                   strict=True):
        reg[s] += 1
        if rid < 0:
            st = UNREADABLE
        else:
            cur = where.item(rid)
            st = ENTERED if cur < 0 else DUPLICATE if cur == s else CONFLICT
        if st == ENTERED:
            where[rid], since[rid] = s, at
            row((now, "paper", -1, s, rid, IN, "", -1, form_id))
        else:
            anon[s] += 1
            row((now, "paper", -1, s, rid, REFUSED, "unreadable" if st == UNREADABLE else STATUS_NAMES[st], -1,
                 form_id))
        status.append(st)
        tally[st] += 1
    forms.status[a:b] = status
    return tally


def reconcile(net: ShelterNetwork, now: float, limit: int | None = None) -> PaperReport:
    """Transcribe the oldest pending forms (all, or at most `limit`) and report what happened."""
    t = finite_time(now)
    forms = net.paper
    stop = len(forms) if limit is None else min(len(forms), forms.next_pending + max(int(limit), 0))
    tally = _enter_all(net, forms.next_pending, stop, t)
    forms.next_pending = stop
    net.events.append(PaperFormsReconciled(t, tally[ENTERED], tally[UNREADABLE], tally[DUPLICATE] + tally[CONFLICT]))
    return PaperReport(tally[ENTERED], tally[UNREADABLE], tally[DUPLICATE], tally[CONFLICT], forms.pending())


def identify_form(net: ShelterNetwork, form_id: int, identity: Identity, now: float) -> TapResult:
    """A desk identifies the person behind an unmatched form: the anonymous head becomes a record."""
    from twin.services.shelter_offline import settle

    t = finite_time(now)
    forms = net.paper
    if not 0 <= form_id < len(forms):
        raise NotFound(f"no paper form {form_id}; {len(forms)} forms were taken")
    if forms.status[form_id] not in UNMATCHED:
        raise Conflict(f"paper form {form_id} is {STATUS_NAMES[forms.status[form_id]]}; only unmatched "
                       "forms (unreadable, duplicate name, recorded elsewhere) need identifying")
    s = forms.shelter[form_id]
    try:
        require_assurance(identity, "shelter_registration")
        rid = net.resident_index(identity.resident_id)
    except TwinError as e:
        net.refuse(t, -1, -1, e.code, s, "paper")
        raise
    net.anon[s] -= 1
    net.reg[s] -= 1
    forms.status[form_id] = IDENTIFIED
    settle(net, rid, s, forms.at[form_id], t, -1, form_id, "paper")
    return TapResult(Outcome.CHECKED_IN, int(net.facility_ids[s]), rid, None, form_id)
