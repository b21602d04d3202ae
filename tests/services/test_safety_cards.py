"""Shelter check-in against the real card registry and readers of the trust core."""

from __future__ import annotations

import numpy as np
import pytest

from twin.card import CardRegistry
from twin.clock import jst
from twin.errors import Conflict
from twin.identity import Assurance
from twin.pki import CertificateAuthority
from twin.reader import Reader, Tap
from twin.services.card_serials import SerialResolver, resolve_batch
from twin.services.safety_events import CheckInRefused
from twin.services.shelter_outcomes import Outcome
from twin.services.shelters import ShelterNetwork
from twin.trust_errors import CardNotIssued, CardRevoked, CardSuspended, UnknownCard

NOW = jst(2026, 4, 1, 10)


@pytest.fixture
def registry(small_city):
    return CardRegistry.from_city(small_city, CertificateAuthority(seed=7, algorithm="ed25519"), NOW)


@pytest.fixture
def net(small_city, registry):
    return ShelterNetwork.from_city(small_city, resolver=registry, now=NOW)


def _serials(registry, n: int) -> list[int]:
    return [int(s) for s in registry.serial[:n]]


def test_the_card_registry_is_a_serial_resolver(registry):
    assert isinstance(registry, SerialResolver)


def test_a_tap_resolves_the_serial_through_the_card_registry(registry, net):
    serial = _serials(registry, 1)[0]
    res = net.tap(1, serial, NOW)
    assert (res.outcome, res.resident_id) == (Outcome.CHECKED_IN, registry.resident_of(serial, NOW))


def test_a_card_reported_lost_or_replaced_is_refused_with_the_registrys_reason(registry, net):
    lost, replaced = _serials(registry, 2)
    registry.report_loss(lost, NOW - 3600)
    new_serial = registry.reissue(replaced, NOW - 3600)
    with pytest.raises(CardSuspended):
        net.tap(1, lost, NOW)
    with pytest.raises(CardRevoked):
        net.tap(1, replaced, NOW)
    with pytest.raises(CardNotIssued):
        net.tap(1, new_serial, NOW)  # applied for, not yet handed over
    with pytest.raises(UnknownCard):
        net.tap(1, 77, NOW)  # forged: never issued
    assert [e.reason for e in net.events.of(CheckInRefused)] == [
        "card_suspended", "card_revoked", "card_not_issued", "unknown_card"]
    assert list(net.occ) == [0] * net.shelter_count


def test_a_batch_through_the_registry_gives_the_same_reasons_as_single_taps(small_city, registry):
    good, lost = _serials(registry, 2)
    registry.report_loss(lost, NOW - 3600)
    one = ShelterNetwork.from_city(small_city, resolver=registry, now=NOW)
    many = ShelterNetwork.from_city(small_city, resolver=registry, now=NOW)
    taps = [good, lost, 77, good]
    for s in taps:
        try:
            one.tap(1, s, NOW)
        except Exception:
            pass
    out = many.check_in_many(1, taps, NOW)
    assert out["reason"].to_list() == ["", "card_suspended", "unknown_card", ""]
    assert out.equals(one.taps.to_frame())


def test_a_card_expiring_inside_a_batch_is_judged_at_its_own_tap_time(registry):
    serial = _serials(registry, 1)[0]
    end = registry.expires_at(registry.row_of(serial))
    rids, reasons = resolve_batch(registry, np.array([serial, serial]), np.array([end - 60.0, end + 60.0]))
    assert rids.tolist() == [int(registry.resident[registry.row_of(serial)]), -1]
    assert reasons.tolist() == ["", "card_expired"]


def test_a_pinless_read_at_a_shelter_reader_checks_in_at_medium_assurance(registry, net):
    serial = _serials(registry, 1)[0]
    reader = Reader(registry.ca, registry, reader_id="shelter-1")
    ident = reader.read_serial(serial, NOW)
    assert ident.assurance == Assurance.MEDIUM and ident.card_serial == serial
    res = net.check_in_identity(ident, int(net.facility_ids[0]), NOW)
    assert (res.outcome, res.resident_id) == (Outcome.CHECKED_IN, ident.resident_id)


def test_a_readers_offline_taps_reach_the_shelter_once_through_its_sink(registry, net):
    a, b = _serials(registry, 2)
    reader = Reader(registry.ca, registry, reader_id="shelter-1", sink=net.reader_sink(1))
    reader.refresh(NOW)
    reader.read_serial(a, NOW)  # online: delivered at once
    assert net.occ[0] == 1 and net.reg[0] == 1
    reader.go_offline(NOW + 60)
    reader.read_serial(b, NOW + 120)
    assert net.reg[0] == 1 and len(reader.pending) == 1
    queued = reader.pending[0]
    assert reader.go_online(NOW + 600) == 1
    assert (net.occ[0], net.reg[0]) == (2, 2)
    assert net.location_of(int(registry.resident_of(b, NOW)))[1] == NOW + 120
    assert net.accept_tap(1, queued, NOW + 700).outcome == Outcome.ALREADY_HERE  # redelivery
    assert (net.occ[0], net.reg[0]) == (2, 2)
    altered = Tap(queued.tap_id, queued.reader, a, int(registry.resident_of(a, NOW)), queued.method, queued.at, True)
    with pytest.raises(Conflict):
        net.accept_tap(1, altered, NOW + 800)
    assert net.events.of(CheckInRefused)[-1].reason == "altered_replay"
