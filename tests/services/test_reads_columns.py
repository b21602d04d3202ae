"""Family look-ups and HQ head counts answered as columns after the fact, against one-by-one calls."""

from __future__ import annotations

import numpy as np
import pytest

from tests.services.history_helpers import busy_day, state_at
from tests.services.safety_helpers import T0
from twin.errors import NotFound, TwinError, ValidationError
from twin.events import EventLog
from twin.identity import Assurance, Identity
from twin.services.headcount import DisasterHQ, ShelterReport, accuracy_of, views_at
from twin.services.safety import Safety
from twin.services.safety_events import FamilyLookup


def _asks(safety, rng, n: int, t_max: float):
    """(askers, asker_of, targets, times): members, outsiders, unknown ids, weak and unknown askers."""
    fam = safety.family
    askers = [Identity(r, "card_serial", Assurance.MEDIUM, T0) for r in range(0, 40, 3)]
    askers += [Identity(5, "paper_form", Assurance.LOW, T0), Identity(10**9, "card_serial", Assurance.MEDIUM, T0)]
    which, targets = [], []
    for _ in range(n):
        k = int(rng.integers(len(askers)))
        rid = askers[k].resident_id
        mates = fam.members(rid) if rid < 10**9 else [1]
        u = rng.random()
        target = (int(rng.choice(mates)) if u < 0.7 else 10**9 if u < 0.8 else -3 if u < 0.85
                  else int(rng.integers(0, 60)))
        which.append(k)
        targets.append(target)
    times = np.sort(rng.uniform(T0 - 10.0, t_max + 10.0, n))
    return askers, np.array(which), np.array(targets), times


@pytest.mark.parametrize("seed", [4, 5])
def test_look_ups_as_columns_answer_and_log_as_one_by_one_look_ups_did_at_their_times(small_city, seed):
    safety, states = busy_day(small_city, seed)
    rng = np.random.default_rng(seed)
    askers, which, targets, times = _asks(safety, rng, 300, states[-1][0])
    times[::7] = [st[0] for st in states[: len(times[::7])]]  # some at the very time of a change
    times.sort()
    start = len(safety.events)
    got = safety.family.locate_columns(askers, which, targets, times, safety.shelters.history())
    col_events = [e.as_row() for e in list(safety.events)[start:]]
    one = Safety.from_city(small_city, T0)  # one-by-one, on a network put in the state of each time
    want = []
    for k, target, t in zip(which.tolist(), targets.tolist(), times.tolist(), strict=True):
        st = state_at(states, t)
        one.shelters.where[:] = -1 if st is None else st[3]
        try:
            loc = one.family.locate(askers[k], target, t)
            want.append((True, "", -1 if loc.shelter_id is None else loc.shelter_id))
        except TwinError as e:
            want.append((False, e.code, -1))
    assert list(zip(got["allowed"].tolist(), got["reason"].tolist(), got["shelter_id"].tolist(),
                    strict=True)) == want
    assert col_events == [e.as_row() for e in one.events if e.kind == "family_lookup"]
    again = safety.family.locate_columns(safety.family.askers(askers), which, targets, times,
                                         safety.shelters.history())  # askers checked beforehand
    assert all(np.array_equal(got[k], again[k]) for k in got)
    assert [e.as_row() for e in list(safety.events)[start + len(col_events):]] == col_events
    reasons = set(got["reason"].tolist())
    assert {"", "not_household_member", "not_found", "insufficient_assurance"} <= reasons
    assert (got["shelter_id"] >= 0).sum() > 10 and (got["allowed"] & (got["shelter_id"] < 0)).sum() > 10


def test_look_up_columns_with_times_that_are_not_finite_are_refused_before_logging(small_city):
    safety = Safety.from_city(small_city, T0)
    safety.shelters.record_history()
    with pytest.raises(ValidationError, match="finite"):
        safety.family.locate_columns([Identity(0, "card_serial", Assurance.MEDIUM, T0)], np.array([0]),
                                     np.array([1]), np.array([np.nan]), safety.shelters.history())
    assert not safety.events.of(FamilyLookup)


def _reports(safety, states, rng, n: int):
    """Report columns: each from a shelter's counts at a time, received then or later (some late)."""
    n_s = safety.shelters.shelter_count
    fids = safety.shelters.facility_ids
    counted = np.sort(rng.uniform(states[0][0], states[-1][0], n))
    received = counted + np.where(rng.random(n) < 0.2, rng.uniform(0, 200.0, n), 0.0)
    order = np.argsort(received, kind="stable")
    counted, received = counted[order], received[order]
    s = rng.integers(0, min(n_s, 8), n)
    counts = [state_at(states, c) for c in counted.tolist()]
    occ = np.array([st[1][k] for st, k in zip(counts, s.tolist(), strict=True)])
    ident = np.array([st[2][k] for st, k in zip(counts, s.tolist(), strict=True)])
    return fids[s], s, occ, ident, counted, received


@pytest.mark.parametrize("seed", [6, 7])
def test_reports_as_columns_leave_the_hq_as_one_by_one_reports_do(small_city, seed):
    safety, states = busy_day(small_city, seed, steps=300)
    rng = np.random.default_rng(seed)
    fid, s, occ, ident, counted, received = _reports(safety, states, rng, 400)
    net = safety.shelters
    one, cols = DisasterHQ.for_network(net, EventLog()), DisasterHQ.for_network(net, EventLog())
    samples = np.sort(rng.uniform(T0 - 5.0, received[-1] + 5.0, 25))
    views, k = [], 0
    for t in samples.tolist():  # one by one, the HQ's view looked at between reports
        while k < fid.size and received[k] <= t:
            one.receive([ShelterReport(int(fid[k]), int(occ[k]), int(ident[k]), 0, float(counted[k]))],
                        float(received[k]))
            k += 1
        views.append((one.count.copy(), one.counted_at.copy(), one.accuracy(
            dict(zip(net.facility_ids.tolist(), occ[: net.shelter_count].tolist(), strict=False)), t)))
    for j in range(k, fid.size):
        one.receive([ShelterReport(int(fid[j]), int(occ[j]), int(ident[j]), 0, float(counted[j]))],
                    float(received[j]))
    taken = cols.receive_columns(fid, occ, ident, counted, received)
    assert 0 < taken.sum() < taken.size  # some late reports were older than the one held
    for a in ("count", "identified", "counted_at", "received_at"):
        assert np.array_equal(getattr(one, a), getattr(cols, a)), a
    assert len(cols.events) == taken.sum() > 0
    assert [e.as_row() for e in cols.events] == [e.as_row() for e in one.events]
    count, when = views_at(s, occ, counted, received, taken, net.shelter_count, samples)
    true = np.zeros(net.shelter_count, dtype=np.int64)
    true[: min(net.shelter_count, occ.size)] = occ[: net.shelter_count]
    for i, (c, w, acc) in enumerate(views):
        assert np.array_equal(count[i], c) and np.array_equal(when[i], w)
        assert accuracy_of(count[i], when[i], true, float(samples[i])) == acc


def test_report_columns_from_an_unknown_shelter_or_counted_after_arrival_change_nothing(small_city):
    net = Safety.from_city(small_city, T0).shelters
    hq = DisasterHQ.for_network(net, EventLog())
    fid = int(net.facility_ids[0])
    with pytest.raises(NotFound, match="does not report"):
        hq.receive_columns(np.array([fid, 99_999_999]), np.array([1, 1]), np.array([0, 0]),
                           np.array([T0, T0]), np.array([T0, T0]))
    with pytest.raises(ValidationError, match="counted after it arrived"):
        hq.receive_columns(np.array([fid, fid]), np.array([1, 2]), np.array([0, 0]),
                           np.array([T0, T0 + 9]), np.array([T0, T0 + 1]))
    assert len(hq.events) == 0 and not np.isfinite(hq.counted_at).any()
