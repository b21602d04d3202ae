"""Card lifecycle at the counter: application, hand-over, loss, reissue, renewal, moves, death, expiry."""

from __future__ import annotations

import numpy as np
import pytest

from twin.card.rules import age_on, date_of_day, day_of
from twin.clock import DAY, HOUR
from twin.identity import Assurance
from twin.pki import SIGNING, USER, cert_serial_of
from twin.reader import Reader
from twin.trust_errors import (
    CardExpired,
    CardNotIssued,
    CardRevoked,
    CardStateConflict,
    CardSuspended,
    NoSigningCertificate,
    UnknownCard,
)
from twin.trust_events import CardLifecycle, CertificateIssued, CertificateRevokedEvent, Refused


def without_card(registry, now, min_age: int, max_age: int) -> int:
    ages = age_on(registry.birth.astype(np.int64), np.full(registry.population, day_of(now)))
    pick = np.flatnonzero((registry.card_row < 0) & (ages >= min_age) & (ages <= max_age))
    return int(pick[0])


def steps(registry) -> list[str]:
    return [e.step for e in registry.events.of(CardLifecycle)]


def test_an_applied_card_is_handed_over_only_after_the_lead_time(registry, now):
    rid = without_card(registry, now, 30, 60)
    serial = registry.apply(rid, now)
    with pytest.raises(CardNotIssued):
        registry.resident_of(serial, now + DAY)
    with pytest.raises(CardStateConflict, match="not ready"):
        registry.issue(serial, now + DAY)
    registry.issue(serial, now + registry.lead_time)
    assert registry.resident_of(serial, now + registry.lead_time) == rid
    assert steps(registry) == ["applied", "issued"]
    purposes = [e.purpose for e in registry.events.of(CertificateIssued)]
    assert purposes == ["user", "signing"]


def test_a_new_card_follows_the_birthday_rules(registry, now):
    rid = without_card(registry, now, 30, 60)
    serial = registry.apply(rid, now)
    t = now + registry.lead_time
    registry.issue(serial, t)
    row = registry.row_of(serial)
    birth, issued = date_of_day(int(registry.birth[rid])), date_of_day(day_of(t))
    first = birth.replace(year=issued.year) if (birth.month, birth.day) > (issued.month, issued.day) \
        else birth.replace(year=issued.year + 1)
    assert date_of_day(int(registry.expiry[row])) == first.replace(year=first.year + 9)
    assert date_of_day(int(registry.user_until[row])) == first.replace(year=first.year + 4)


def test_no_signing_certificate_is_issued_under_fifteen(registry, now):
    rid = without_card(registry, now, 8, 13)
    serial = registry.apply(rid, now)
    registry.issue(serial, now + registry.lead_time)
    card = registry.card(serial)
    with pytest.raises(NoSigningCertificate, match="under age 15"):
        card.certificate(SIGNING)
    with pytest.raises(NoSigningCertificate):
        card.sign_document("ABC123", b"form", now + registry.lead_time)
    with pytest.raises(NoSigningCertificate):
        registry.issue_signing_certificate(serial, now + registry.lead_time)
    assert card.certificate(USER)  # the user certificate is issued at any age


def test_a_second_application_while_holding_a_valid_card_is_refused(registry, adult_serial, now):
    with pytest.raises(CardStateConflict, match="renew or reissue"):
        registry.apply(registry.holder_of(adult_serial), now)
    assert registry.events.of(Refused)[-1].reason == "card_state"


def test_a_loss_report_suspends_the_card_and_revokes_both_certificates(registry, adult_serial, now):
    registry.report_loss(adult_serial, now)
    with pytest.raises(CardSuspended, match="reported lost"):
        registry.resident_of(adult_serial, now + 1)
    revoked = {(e.purpose, e.reason) for e in registry.events.of(CertificateRevokedEvent)}
    assert revoked == {("user", "loss"), ("signing", "loss")}


def test_a_found_card_works_again_with_new_certificates(ca, registry, adult_serial, now):
    pin = registry.pins(adult_serial).user
    registry.report_loss(adult_serial, now)
    registry.report_found(adult_serial, now + DAY)
    row = registry.row_of(adult_serial)
    assert registry.user_gen[row] == 1
    assert ca.revocation_of(cert_serial_of(adult_serial, USER, 0)) is not None
    assert ca.revocation_of(cert_serial_of(adult_serial, USER, 1)) is None
    reader = Reader(ca, registry, reader_id="kiosk-9")
    ident = reader.authenticate(registry.card(adult_serial), pin, now + 2 * DAY)
    assert ident.card_serial == adult_serial


def test_a_reissue_retires_the_old_card_and_issues_a_new_serial(ca, registry, adult_serial, now):
    holder = registry.holder_of(adult_serial)
    registry.report_loss(adult_serial, now)
    new = registry.reissue(adult_serial, now + HOUR)
    assert new != adult_serial
    with pytest.raises(CardRevoked, match="reissue"):
        registry.resident_of(adult_serial, now + 2 * HOUR)
    registry.issue(new, now + HOUR + registry.lead_time)
    assert registry.resident_of(new, now + HOUR + registry.lead_time) == holder
    assert registry.serial_of_resident(holder) == new


def test_renewal_opens_three_months_before_expiry(registry, adult_serial, now):
    row = registry.row_of(adult_serial)
    expires = registry.expires_at(row)
    with pytest.raises(CardStateConflict, match="from 3 months before"):
        registry.renew_card(adult_serial, expires - 200 * DAY)
    t = expires - 60 * DAY
    new = registry.renew_card(adult_serial, t)
    assert registry.resident_of(adult_serial, t + DAY) == registry.holder_of(adult_serial)  # old works meanwhile
    registry.issue(new, t + registry.lead_time)
    with pytest.raises(CardRevoked, match="returned"):
        registry.resident_of(adult_serial, t + registry.lead_time)


def test_certificate_renewal_revokes_the_old_and_extends_validity(ca, registry, adult_serial, now):
    row = registry.row_of(adult_serial)
    before = int(registry.user_until[row])
    t = float(before * DAY) - 30 * DAY
    registry.renew_certificates(adult_serial, t)
    assert registry.user_gen[row] == 1 and int(registry.user_until[row]) > before
    assert ca.revocation_of(cert_serial_of(adult_serial, USER, 0)).reason == "renewal"


def test_renewed_certificates_never_outlive_the_card(registry, adult_serial, now):
    row = registry.row_of(adult_serial)
    late = registry.expires_at(row) - 100 * DAY
    registry.renew_certificates(adult_serial, late)
    assert registry.user_until[row] == registry.expiry[row] == registry.sign_until[row]


def test_an_expired_card_is_refused_and_swept_once(registry, adult_serial, now):
    row = registry.row_of(adult_serial)
    after = registry.expires_at(row) + 1
    with pytest.raises(CardExpired, match="renew"):
        registry.resident_of(adult_serial, after)
    assert registry.sweep_expired(after) >= 1
    assert registry.sweep_expired(after) == 0
    assert registry.card(adult_serial).status(after) == "expired"


def test_a_move_revokes_the_signing_certificate_but_not_the_user_one(ca, registry, reader, adult_serial, now):
    card, pins = registry.card(adult_serial), registry.pins(adult_serial)
    old_cert = card.certificate(SIGNING)
    signature = card.sign_document(pins.signing, b"moving-in form", now)
    assert reader.verify_document(old_cert, b"moving-in form", signature, now).assurance is Assurance.HIGH
    old_address = card.face.address
    registry.change_address(registry.holder_of(adult_serial), now + HOUR, ward=0)
    assert card.face.address != old_address
    assert registry.card(adult_serial).certificate(SIGNING) == old_cert  # the chip keeps the revoked one
    later = now + 2 * DAY
    with pytest.raises(CardRevoked, match="signing certificate.*address change"):
        reader.verify_document(old_cert, b"moving-in form", signature, later)
    assert reader.authenticate(card, pins.user, later).assurance is Assurance.HIGH
    registry.issue_signing_certificate(adult_serial, later)
    new_sig = card.sign_document(pins.signing, b"next form", later)
    assert reader.verify_document(card.certificate(SIGNING), b"next form", new_sig, later).resident_id == \
        registry.holder_of(adult_serial)


def test_a_name_change_revokes_the_signing_certificate(ca, registry, adult_serial, now):
    registry.change_name(registry.holder_of(adult_serial), now)
    row = registry.row_of(adult_serial)
    rec = ca.revocation_of(cert_serial_of(adult_serial, SIGNING, int(registry.sign_gen[row])))
    assert rec.reason == "name_change"
    assert ca.revocation_of(cert_serial_of(adult_serial, USER, 0)) is None


def test_a_death_retires_the_card(registry, adult_serial, now):
    registry.report_death(registry.holder_of(adult_serial), now)
    with pytest.raises(CardRevoked, match="death"):
        registry.resident_of(adult_serial, now + 1)


def test_an_unknown_serial_is_refused_and_recorded(registry, now):
    with pytest.raises(UnknownCard):
        registry.resident_of(123, now)
    assert registry.events.of(Refused)[-1].reason == "unknown_card"
