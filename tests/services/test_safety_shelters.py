"""Shelter check-in by card tap: idempotence, moves, capacity and redirects, check-out, batches."""

from __future__ import annotations

import polars as pl
import pytest

from tests.services.safety_helpers import T0, card_holders, nearest_order
from twin.errors import NotFound, ValidationError
from twin.identity import Assurance, Identity
from twin.services.card_serials import CardRevoked, SerialIndex, UnknownCard
from twin.services.procedures import InsufficientAssurance
from twin.services.safety_events import CheckInRefused
from twin.services.shelter_outcomes import Outcome
from twin.services.shelters import ShelterNetwork, ShelterParams, UnknownReader


@pytest.fixture
def net(small_city):
    return ShelterNetwork.from_city(small_city, now=T0)


def test_the_city_network_has_each_shelter_with_its_capacity_and_two_readers(small_city, net):
    shelters = small_city.facilities.filter(pl.col("kind") == "shelter")
    assert net.facility_ids.tolist() == shelters["facility_id"].to_list()
    assert list(net.cap) == shelters["capacity"].to_list()
    assert sorted(net.readers.values()) == sorted(list(range(net.shelter_count)) * 2)


def test_each_shelter_shows_its_readers_and_paper_staff(small_city):
    net = ShelterNetwork.from_city(small_city, params=ShelterParams(readers_per_shelter=3), now=T0)
    first = int(net.facility_ids[0])
    net.register_reader(first, T0)
    net.set_staff(first, 5)
    occ = net.occupancy()
    assert occ["readers"].to_list() == [4, 3, 3, 3, 3]
    assert occ["paper_staff"].to_list() == [5, 2, 2, 2, 2]
    with pytest.raises(ValidationError):
        net.set_staff(first, -1)


def test_a_card_tap_checks_the_holder_in_at_the_readers_shelter(small_city, net):
    (rid,), (serial,) = card_holders(small_city, 1)
    res = net.tap(3, serial, T0 + 60)  # readers 3 and 4 belong to the second shelter
    second = int(net.facility_ids[1])
    assert (res.outcome, res.shelter_id, res.resident_id, res.redirect_to) == (Outcome.CHECKED_IN, second, rid, None)
    assert net.location_of(rid) == (second, T0 + 60)
    occ = net.occupancy().filter(pl.col("shelter_id") == second).row(0, named=True)
    assert (occ["desk_count"], occ["registered"], occ["identified"], occ["free"]) == (1, 1, 1, 999)


def test_a_second_tap_is_idempotent(small_city, net):
    (rid,), (serial,) = card_holders(small_city, 1)
    net.tap(1, serial, T0)
    again = net.tap(2, serial, T0 + 5)  # the other reader of the same shelter
    assert again.outcome == Outcome.ALREADY_HERE
    assert net.location_of(rid) == (int(net.facility_ids[0]), T0)  # the first time stands
    assert net.occ[0] == 1 and net.reg[0] == 1
    assert net.taps.to_frame()["outcome"].to_list() == ["checked_in", "already_here"]


def test_a_tap_at_another_shelter_moves_the_record_and_frees_the_first_place(small_city, net):
    (rid,), (serial,) = card_holders(small_city, 1)
    net.tap(1, serial, T0)
    res = net.tap(5, serial, T0 + 3600)  # third shelter
    assert res.outcome == Outcome.MOVED
    assert net.location_of(rid) == (int(net.facility_ids[2]), T0 + 3600)
    assert (net.occ[0], net.occ[2], net.reg[0], net.reg[2]) == (0, 1, 0, 1)


def test_the_serial_resolves_the_resident_and_a_my_number_is_not_a_key(small_city, net):
    r = small_city.residents.filter(pl.col("has_card")).row(0, named=True)
    with pytest.raises(UnknownCard):
        net.tap(1, r["my_number"], T0)
    assert net.tap(1, r["card_serial"], T0).resident_id == r["resident_id"]


def test_a_full_shelter_redirects_to_the_nearest_shelter_with_room(small_city):
    net = ShelterNetwork.from_city(small_city, params=ShelterParams(capacity_per_shelter=1), now=T0)
    rids, serials = card_holders(small_city, 3)
    first = int(net.facility_ids[0])
    order = nearest_order(small_city, first)
    net.tap(1, serials[0], T0)
    net.tap(net_reader(net, order[0]), serials[1], T0)  # fill the nearest one as well
    res = net.tap(1, serials[2], T0 + 1)
    assert (res.outcome, res.shelter_id, res.redirect_to) == (Outcome.REDIRECTED, first, order[1])
    assert net.occ[0] == 1 and net.location_of(rids[2]) == (None, None)


def net_reader(net: ShelterNetwork, shelter_id: int) -> int:
    """The first reader of a shelter."""
    s = net.shelter_index(shelter_id)
    return min(r for r, i in net.readers.items() if i == s)


def test_when_every_shelter_is_full_the_tap_says_no_room(small_city):
    net = ShelterNetwork.from_city(small_city, params=ShelterParams(capacity_per_shelter=1), now=T0)
    rids, serials = card_holders(small_city, net.shelter_count + 1)
    for i, fid in enumerate(net.facility_ids.tolist()):
        net.tap(net_reader(net, fid), serials[i], T0)
    res = net.tap(1, serials[-1], T0 + 1)
    assert (res.outcome, res.redirect_to) == (Outcome.NO_ROOM, None)
    assert net.location_of(rids[-1]) == (None, None)


def test_check_out_frees_the_place_and_a_second_check_out_is_idempotent(small_city, net):
    (rid,), (serial,) = card_holders(small_city, 1)
    net.tap(1, serial, T0)
    out = net.check_out(2, serial, T0 + 7200)
    assert (out.outcome, out.shelter_id) == (Outcome.CHECKED_OUT, int(net.facility_ids[0]))
    assert net.location_of(rid) == (None, None) and net.occ[0] == 0 and net.reg[0] == 0
    assert net.check_out(2, serial, T0 + 7300).outcome == Outcome.NOT_CHECKED_IN
    assert net.occ[0] == 0


def test_an_identity_from_a_counter_or_face_check_checks_in_at_low_assurance(small_city, net):
    fid = int(net.facility_ids[4])
    ident = Identity(42, "face_photo", Assurance.LOW, T0)
    assert net.check_in_identity(ident, fid, T0).outcome == Outcome.CHECKED_IN
    assert net.location_of(42) == (fid, T0)
    assert net.taps.to_frame()["channel"].to_list() == ["face_photo"]


def test_a_self_declared_identity_is_refused_and_logged(small_city, net):
    with pytest.raises(InsufficientAssurance, match="LOW or higher"):
        net.check_in_identity(Identity(42, "self_declared", Assurance.NONE, T0), int(net.facility_ids[0]), T0)
    assert net.location_of(42) == (None, None) and list(net.occ) == [0] * 5
    assert [e.reason for e in net.events.of(CheckInRefused)] == ["insufficient_assurance"]


def test_a_revoked_card_is_refused_logged_and_changes_nothing(small_city):
    index = SerialIndex.from_residents(small_city.residents)
    net = ShelterNetwork.from_city(small_city, resolver=index, now=T0)
    (rid,), (serial,) = card_holders(small_city, 1)
    index.revoke(serial, T0 - 1)
    with pytest.raises(CardRevoked, match="revoked"):
        net.tap(1, serial, T0)
    assert net.location_of(rid) == (None, None) and list(net.occ) == [0] * 5 and list(net.reg) == [0] * 5
    ev = net.events.of(CheckInRefused)
    assert [(e.reader_id, e.serial, e.reason) for e in ev] == [(1, serial, "card_revoked")]


def test_a_forged_card_with_a_serial_never_issued_is_refused_and_logged(net):
    with pytest.raises(UnknownCard, match="never issued"):
        net.tap(1, 999_999_999_999, T0)
    assert list(net.occ) == [0] * 5
    row = net.taps.to_frame().row(0, named=True)
    assert (row["outcome"], row["reason"], row["resident_id"]) == ("refused", "unknown_card", -1)


def test_a_tap_from_an_unregistered_reader_is_refused_and_logged(small_city, net):
    _, (serial,) = card_holders(small_city, 1)
    with pytest.raises(UnknownReader, match="not registered"):
        net.tap(99, serial, T0)
    assert list(net.occ) == [0] * 5
    assert [(e.reader_id, e.reason) for e in net.events.of(CheckInRefused)] == [(99, "unknown_reader")]


def test_a_retired_reader_is_unregistered(small_city, net):
    _, (serial,) = card_holders(small_city, 1)
    net.retire_reader(2, T0)
    with pytest.raises(UnknownReader):
        net.tap(2, serial, T0)


def test_a_batch_refuses_bad_rows_without_stopping(small_city):
    index = SerialIndex.from_residents(small_city.residents)
    net = ShelterNetwork.from_city(small_city, resolver=index, now=T0)
    rids, serials = card_holders(small_city, 3)
    index.revoke(serials[1], T0 - 1)
    out = net.check_in_many([1, 1, 77, 1, 1], [serials[0], serials[1], serials[2], 123, serials[0]], T0)
    assert out["outcome"].to_list() == ["checked_in", "refused", "refused", "refused", "already_here"]
    assert out["reason"].to_list() == ["", "card_revoked", "unknown_reader", "unknown_card", ""]
    assert out["resident_id"].to_list() == [rids[0], -1, -1, -1, rids[0]]
    assert [e.reason for e in net.events.of(CheckInRefused)] == ["card_revoked", "unknown_reader", "unknown_card"]
    assert net.occ[0] == 1


def test_unknown_shelters_and_residents_are_not_found(net):
    with pytest.raises(NotFound):
        net.check_in_identity(Identity(1, "x", Assurance.HIGH, T0), 10**9, T0)
    with pytest.raises(NotFound):
        net.check_in_identity(Identity(10**9, "x", Assurance.HIGH, T0), int(net.facility_ids[0]), T0)


def test_shelter_params_refuse_unknown_keys_and_bad_rates():
    with pytest.raises(ValidationError, match="unknown key 'readers_per_shelte'.*did you mean 'readers_per_shelter'"):
        ShelterParams.from_dict({"readers_per_shelte": 3})
    with pytest.raises(ValidationError, match="paper_unreadable_rate"):
        ShelterParams(paper_unreadable_rate=1.5)
    assert ShelterParams.from_dict({"readers_per_shelter": 4}).readers_per_shelter == 4


def test_a_non_finite_time_is_refused(small_city, net):
    _, (serial,) = card_holders(small_city, 1)
    with pytest.raises(ValidationError, match="finite"):
        net.tap(1, serial, float("nan"))
