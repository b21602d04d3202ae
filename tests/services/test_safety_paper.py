"""Paper forms: counted at the desk at once, entered later with transcription errors, reconciled."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tests.services.safety_helpers import T0, card_holders, no_card
from twin.errors import Conflict
from twin.identity import Assurance, Identity
from twin.services.procedures import InsufficientAssurance
from twin.services.safety_events import PaperFormsReconciled
from twin.services.shelter_outcomes import Outcome
from twin.services.shelter_paper import identify_form
from twin.services.shelters import ShelterNetwork, ShelterParams

EXACT = ShelterParams(paper_wrong_resident_rate=0.0, paper_unreadable_rate=0.0)


def test_a_paper_form_counts_at_the_desk_now_and_in_the_system_after_reconciliation(small_city):
    net = ShelterNetwork.from_city(small_city, params=EXACT, now=T0)
    (rid,) = no_card(small_city, 1)
    fid = int(net.facility_ids[1])
    res = net.paper_form(fid, rid, T0, np.random.default_rng(1))
    assert (res.outcome, res.tap_id) == (Outcome.QUEUED, 0)
    assert (net.occ[1], net.reg[1]) == (1, 0) and net.location_of(rid) == (None, None)
    report = net.reconcile_paper(T0 + 3600)
    assert (report.entered, report.unreadable, report.duplicates, report.conflicts, report.pending) == (1, 0, 0, 0, 0)
    assert (net.occ[1], net.reg[1]) == (1, 1) and net.location_of(rid) == (fid, T0)
    assert net.events.of(PaperFormsReconciled)[-1].entered == 1


def test_reconciliation_takes_the_oldest_forms_first_up_to_the_limit(small_city):
    net = ShelterNetwork.from_city(small_city, params=EXACT, now=T0)
    rids = no_card(small_city, 5)
    rng = np.random.default_rng(2)
    for i, r in enumerate(rids):
        net.paper_form(int(net.facility_ids[0]), r, T0 + i, rng)
    assert net.reconcile_paper(T0 + 100, limit=2).pending == 3
    assert [net.location_of(r)[0] is not None for r in rids] == [True, True, False, False, False]
    assert net.reconcile_paper(T0 + 200).entered == 3


def test_transcription_errors_happen_at_the_set_rates(small_city):
    params = ShelterParams(capacity_per_shelter=10_000, paper_wrong_resident_rate=0.05, paper_unreadable_rate=0.02)
    net = ShelterNetwork.from_city(small_city, params=params, now=T0)
    rng = np.random.default_rng(3)
    n = 6000
    people = rng.choice(small_city.residents.height, n, replace=False)
    for i, r in enumerate(people.tolist()):
        net.paper_form(int(net.facility_ids[i % 5]), r, T0, rng)
    forms = net.paper.to_frame(net.facility_ids)
    unreadable = int((forms["written_resident"] == -1).sum())
    wrong = int(((forms["written_resident"] >= 0) & ~forms["correct"]).sum())
    for count, p in ((unreadable, 0.02), (wrong, 0.05)):  # within 4.5 binomial standard deviations
        assert abs(count - n * p) < 4.5 * np.sqrt(n * p * (1 - p)), (count, n * p)


def test_a_form_naming_someone_recorded_elsewhere_is_flagged_and_counted_anonymously(small_city):
    net = ShelterNetwork.from_city(small_city, params=EXACT, now=T0)
    (rid,), (serial,) = card_holders(small_city, 1)
    net.tap(1, serial, T0)  # at the first shelter by card
    net.paper_form(int(net.facility_ids[3]), rid, T0 + 5, np.random.default_rng(4))
    report = net.reconcile_paper(T0 + 60)
    assert (report.entered, report.conflicts) == (0, 1)
    assert net.location_of(rid)[0] == int(net.facility_ids[0])  # the card record stands
    assert (net.reg[3], net.anon[3]) == (1, 1)
    status = net.paper.to_frame(net.facility_ids)["status"].to_list()
    assert status == ["recorded_elsewhere"]


def test_an_unreadable_form_is_identified_later_at_the_desk(small_city):
    net = ShelterNetwork.from_city(small_city, params=ShelterParams(paper_wrong_resident_rate=0.0, paper_unreadable_rate=1.0), now=T0)
    (rid,) = no_card(small_city, 1)
    fid = int(net.facility_ids[2])
    net.paper_form(fid, rid, T0, np.random.default_rng(5))
    assert net.reconcile_paper(T0 + 60).unreadable == 1
    assert (net.reg[2], net.anon[2]) == (1, 1) and net.location_of(rid) == (None, None)
    with pytest.raises(InsufficientAssurance):
        identify_form(net, 0, Identity(rid, "self_declared", Assurance.NONE, T0 + 100), T0 + 100)
    identify_form(net, 0, Identity(rid, "interview", Assurance.LOW, T0 + 120), T0 + 120)
    assert (net.reg[2], net.anon[2], net.occ[2]) == (1, 0, 1)
    assert net.location_of(rid) == (fid, T0)
    with pytest.raises(Conflict, match="only unmatched forms"):
        identify_form(net, 0, Identity(rid, "interview", Assurance.LOW, T0 + 130), T0 + 130)


def test_a_full_shelter_redirects_paper_forms_too(small_city):
    net = ShelterNetwork.from_city(small_city, params=ShelterParams(capacity_per_shelter=1), now=T0)
    a, b = no_card(small_city, 2)
    rng = np.random.default_rng(6)
    net.paper_form(int(net.facility_ids[0]), a, T0, rng)
    res = net.paper_form(int(net.facility_ids[0]), b, T0, rng)
    assert res.outcome == Outcome.REDIRECTED and res.redirect_to is not None
    assert len(net.paper) == 1


def test_the_register_shows_each_form_taken_and_entered(small_city):
    net = ShelterNetwork.from_city(small_city, params=EXACT, now=T0)
    (rid,) = no_card(small_city, 1)
    net.paper_form(int(net.facility_ids[0]), rid, T0, np.random.default_rng(7))
    net.reconcile_paper(T0 + 9)
    reg = net.taps.to_frame().select("at", "channel", "resident_id", "outcome", "queue_id")
    assert reg.rows() == [(T0, "paper", -1, "queued", 0), (T0 + 9, "paper", rid, "checked_in", 0)]
    assert isinstance(reg, pl.DataFrame)
