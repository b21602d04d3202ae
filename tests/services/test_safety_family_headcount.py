"""Family look-up (own household only, every look-up logged) and head counts to the disaster HQ."""

from __future__ import annotations

import polars as pl
import pytest

from tests.services.safety_helpers import T0, card_holders
from twin.clock import HOUR
from twin.errors import NotFound, ValidationError
from twin.identity import Assurance, Identity
from twin.services.family import NotHouseholdMember
from twin.services.headcount import DisasterHQ, ShelterReport, shelter_reports
from twin.services.procedures import InsufficientAssurance
from twin.services.safety import Safety
from twin.services.safety_events import FamilyLookup, HeadcountReported


@pytest.fixture
def safety(small_city):
    return Safety.from_city(small_city, T0)


def _household_with(city, size: int) -> list[int]:
    """The members of the first household of exactly `size` people."""
    r = city.residents
    hh = r.group_by("household_id").len().filter(pl.col("len") == size).sort("household_id")["household_id"][0]
    return r.filter(pl.col("household_id") == hh).sort("resident_id")["resident_id"].to_list()


def _card_id(rid: int) -> Identity:
    return Identity(rid, "card_serial", Assurance.MEDIUM, T0)


def test_a_resident_sees_where_a_household_member_checked_in(small_city, safety):
    a, b, _ = _household_with(small_city, 3)
    fid = int(safety.shelters.facility_ids[2])
    safety.shelters.check_in_identity(Identity(b, "counter_photo_id", Assurance.HIGH, T0), fid, T0 + 60)
    loc = safety.family.locate(_card_id(a), b, T0 + 120)
    assert (loc.resident_id, loc.shelter_id, loc.since, loc.as_of) == (b, fid, T0 + 60, T0 + 120)
    assert [(e.requester_id, e.target_id, e.allowed, e.reason) for e in safety.events.of(FamilyLookup)] == [
        (a, b, True, "")]


def test_a_member_not_checked_in_anywhere_shows_no_shelter(small_city, safety):
    a, b = _household_with(small_city, 2)
    loc = safety.family.locate(_card_id(a), b, T0)
    assert (loc.shelter_id, loc.since) == (None, None)


def test_looking_up_someone_outside_the_household_is_refused_and_logged(small_city, safety):
    a, _ = _household_with(small_city, 2)
    stranger = next(r for r in range(small_city.residents.height)
                    if small_city.residents["household_id"][r] != small_city.residents["household_id"][a])
    safety.shelters.check_in_identity(_card_id(stranger), int(safety.shelters.facility_ids[0]), T0)
    with pytest.raises(NotHouseholdMember, match="only own household members"):
        safety.family.locate(_card_id(a), stranger, T0 + 1)
    assert [(e.target_id, e.allowed, e.reason) for e in safety.events.of(FamilyLookup)] == [
        (stranger, False, "not_household_member")]


def test_a_look_up_by_a_weakly_identified_asker_is_refused_and_logged(small_city, safety):
    a, b = _household_with(small_city, 2)
    with pytest.raises(InsufficientAssurance, match="MEDIUM"):
        safety.family.locate(Identity(a, "paper_form", Assurance.LOW, T0), b, T0)
    with pytest.raises(NotFound):
        safety.family.locate(_card_id(a), 10**9, T0)
    assert [(e.allowed, e.reason) for e in safety.events.of(FamilyLookup)] == [
        (False, "insufficient_assurance"), (False, "not_found")]


def test_the_household_view_lists_every_other_member_each_logged(small_city, safety):
    members = _household_with(small_city, 4)
    found = safety.family.household(_card_id(members[0]), T0)
    assert [m.resident_id for m in found] == members[1:]
    assert len(safety.events.of(FamilyLookup)) == 3
    assert safety.family.members(members[2]) == members


def test_a_batch_look_up_answers_and_logs_as_one_look_up_per_member(small_city, safety):
    members = _household_with(small_city, 4)
    fid = int(safety.shelters.facility_ids[1])
    safety.shelters.check_in_identity(_card_id(members[2]), fid, T0 + 5)
    asker, targets = _card_id(members[0]), members[1:]
    batch = safety.family.locate_many(asker, targets, T0 + 9)
    one_by_one = [safety.family.locate(asker, t, T0 + 9) for t in targets]
    assert batch == one_by_one
    assert [(b.resident_id, b.shelter_id) for b in batch] == [
        (members[1], None), (members[2], fid), (members[3], None)]
    rows = [(e.target_id, e.allowed) for e in safety.events.of(FamilyLookup)]
    assert rows == [(t, True) for t in targets] * 2


def test_a_batch_look_up_stops_at_the_first_refused_member_after_logging_it(small_city, safety):
    a, b = _household_with(small_city, 2)
    with pytest.raises(NotFound):
        safety.family.locate_many(_card_id(a), [b, 10**9, b], T0)
    assert [(e.target_id, e.allowed, e.reason) for e in safety.events.of(FamilyLookup)] == [
        (b, True, ""), (10**9, False, "not_found")]


def test_the_hq_view_is_as_old_as_the_last_report_and_misses_later_arrivals(small_city, safety):
    _, serials = card_holders(small_city, 10)
    safety.shelters.check_in_many(1, serials[:6], T0)
    assert safety.report_headcounts(T0 + HOUR) == 5
    safety.shelters.check_in_many(1, serials[6:], T0 + 2 * HOUR)
    first = int(safety.shelters.facility_ids[0])
    view = safety.hq.view(T0 + 3 * HOUR).filter(pl.col("shelter_id") == first).row(0, named=True)
    assert (view["count"], view["identified"], view["age_s"]) == (6, 6, 2 * HOUR)
    truth = {first: 10}
    acc = safety.hq.accuracy(truth, T0 + 3 * HOUR)
    assert (acc.reported_total, acc.true_total, acc.abs_error, acc.relative_error) == (6, 10, 4, 0.4)
    assert (acc.mean_age_s, acc.max_age_s, acc.unreported) == (2 * HOUR, 2 * HOUR, 0)
    safety.report_headcounts(T0 + 3 * HOUR)
    assert safety.hq.accuracy(truth, T0 + 3 * HOUR).abs_error == 0


def test_the_report_counts_desk_heads_including_offline_and_paper_but_identifies_fewer(small_city, safety):
    _, serials = card_holders(small_city, 2)
    net = safety.shelters
    net.set_online(1, False, T0)
    net.tap(1, serials[0], T0)
    net.tap(2, serials[1], T0)
    rep = shelter_reports(net, T0 + 10, [int(net.facility_ids[0])])
    assert rep == [ShelterReport(int(net.facility_ids[0]), 2, 1, 1000, T0 + 10)]


def test_a_late_older_report_does_not_overwrite_a_newer_one(small_city, safety):
    fid = int(safety.shelters.facility_ids[0])
    hq = safety.hq
    assert hq.receive([ShelterReport(fid, 50, 40, 1000, T0 + 200)], T0 + 210) == 1
    assert hq.receive([ShelterReport(fid, 30, 30, 1000, T0 + 100)], T0 + 220) == 0
    assert hq.total() == 50 and len(safety.events.of(HeadcountReported)) == 1


def test_the_hq_refuses_reports_from_unknown_shelters_and_from_the_future(safety):
    with pytest.raises(NotFound):
        safety.hq.receive([ShelterReport(10**9, 1, 1, 1, T0)], T0)
    fid = int(safety.shelters.facility_ids[0])
    with pytest.raises(ValidationError, match="counted after it arrived"):
        safety.hq.receive([ShelterReport(fid, 1, 1, 1, T0 + 5)], T0)


def test_an_hq_never_reported_to_has_infinite_age_and_counts_shelters_unheard(safety):
    acc = DisasterHQ.for_network(safety.shelters).accuracy({}, T0)
    assert (acc.reported_total, acc.abs_error, acc.relative_error, acc.unreported) == (0, 0, 0.0, 5)
    assert acc.mean_age_s == float("inf")
