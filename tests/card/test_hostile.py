"""Hostile use of cards and readers: each attempt fails safely and is recorded as an event."""

from __future__ import annotations

import dataclasses

import pytest

from twin.card.rules import day_start
from twin.clock import DAY, HOUR
from twin.identity import Assurance
from twin.pki import USER, CertificateAuthority, CertRequest
from twin.reader import Reader
from twin.trust_errors import (
    CardRevoked,
    CertificateExpired,
    CertificateNotYetValid,
    ForgedData,
    ReplayedChallenge,
    UnknownIssuer,
    WrongHolder,
)
from twin.trust_events import Refused, RevokedAcceptedInWindow


class HostileChip:
    """A chip under an attacker's control: a real card's answers, with some of them replaced."""

    def __init__(self, base, **overrides) -> None:
        self.base, self.serial, self.overrides = base, base.serial, overrides

    def verify_pin(self, app, pin, now, where="card"):
        if "verify_pin" in self.overrides:
            return self.overrides["verify_pin"](app, pin, now, where)
        return self.base.verify_pin(app, pin, now, where)

    def sign(self, message, now, purpose=USER, where="card"):
        return self.overrides.get("sign", self.base.sign)(message, now, purpose, where)

    def certificate(self, purpose=USER):
        return self.overrides.get("certificate", self.base.certificate)(purpose)

    def read_face(self):
        return self.overrides.get("read_face", self.base.read_face)()


def last_refusal(log) -> Refused:
    return log.of(Refused)[-1]


def other_serial(registry, serial: int) -> int:
    return int(next(s for s in registry.serial[: len(registry)] if int(s) != serial))


def accept_any_pin(app, pin, now, where):
    return None


def test_a_replayed_signed_response_is_refused(registry, reader, adult_serial, now):
    card, pin = registry.card(adult_serial), registry.pins(adult_serial).user
    seen = {}
    spy = HostileChip(card, sign=lambda m, t, p, w: seen.setdefault("sig", (m, card.sign(m, t, p, w)))[1])
    reader.authenticate(spy, pin, now)
    challenge, signature = seen["sig"]
    with pytest.raises(ReplayedChallenge, match="already answered"):
        reader.verify_response(card.certificate(), challenge, signature, now + 5, chip_serial=adult_serial)
    assert last_refusal(registry.events).reason == "replay"


def test_an_old_signature_offered_for_a_new_challenge_is_named_a_replay(registry, reader, adult_serial, now):
    card, pin = registry.card(adult_serial), registry.pins(adult_serial).user
    recorded = []
    spy = HostileChip(card, sign=lambda m, t, p, w: recorded.append(card.sign(m, t, p, w)) or recorded[-1])
    reader.authenticate(spy, pin, now)
    replayer = HostileChip(card, verify_pin=accept_any_pin, sign=lambda m, t, p, w: recorded[0])
    with pytest.raises(ReplayedChallenge, match="already accepted once"):
        reader.authenticate(replayer, "0000", now + 10)
    assert last_refusal(registry.events).reason == "replay"


def test_a_response_to_a_challenge_never_issued_or_expired_is_refused(registry, reader, adult_serial, now):
    card, pin = registry.card(adult_serial), registry.pins(adult_serial).user
    card.verify_pin("user", pin, now)
    made_up = b"\x01" * 32
    with pytest.raises(ReplayedChallenge, match="never issued"):
        reader.verify_response(card.certificate(), made_up, card.sign(made_up, now), now)
    stale = reader.challenge(now)
    card.verify_pin("user", pin, now)
    with pytest.raises(ReplayedChallenge, match="expired"):
        reader.verify_response(card.certificate(), stale, card.sign(stale, now), now + 120)


def test_a_certificate_not_signed_by_the_authority_is_refused_as_forged(registry, reader, adult_serial, now):
    rogue = CertificateAuthority(seed=666, algorithm="ed25519")  # same name, another key
    req = registry.cert_request(registry.row_of(adult_serial), USER)
    fake_cert = rogue.certificate(req)
    rogue_key = rogue.card_private_key(adult_serial, USER, req.gen)
    chip = HostileChip(registry.card(adult_serial), verify_pin=accept_any_pin,
                       certificate=lambda p: fake_cert, sign=lambda m, t, p, w: rogue_key.sign(m))
    with pytest.raises(ForgedData, match="does not verify with the authority's key"):
        reader.authenticate(chip, "0000", now)
    assert last_refusal(registry.events).reason == "forged"


def test_a_certificate_from_an_unknown_issuer_is_refused(registry, reader, adult_serial, now):
    rogue = CertificateAuthority(seed=666, algorithm="ed25519", name="Evil Root CA")
    req = registry.cert_request(registry.row_of(adult_serial), USER)
    key = rogue.card_private_key(adult_serial, USER, req.gen)
    chip = HostileChip(registry.card(adult_serial), verify_pin=accept_any_pin,
                       certificate=lambda p: rogue.certificate(req), sign=lambda m, t, p, w: key.sign(m))
    with pytest.raises(UnknownIssuer, match="Evil Root CA"):
        reader.authenticate(chip, "0000", now)
    assert last_refusal(registry.events).reason == "unknown_issuer"


def test_a_tampered_certificate_is_refused(registry, reader, adult_serial, now):
    card = registry.card(adult_serial)
    der = bytearray(card.certificate())
    der[-5] ^= 0xFF  # inside the authority's signature
    chip = HostileChip(card, certificate=lambda p: bytes(der))
    with pytest.raises(ForgedData):
        reader.authenticate(chip, registry.pins(adult_serial).user, now)
    garbage = HostileChip(card, certificate=lambda p: b"not a certificate")
    with pytest.raises(ForgedData, match="not a certificate"):
        reader.authenticate(garbage, registry.pins(adult_serial).user, now)
    assert last_refusal(registry.events).reason == "forged"


def test_a_signature_made_with_another_cards_key_is_refused(registry, reader, adult_serial, now):
    victim = registry.card(adult_serial)
    thief_serial = other_serial(registry, adult_serial)
    thief = registry.card(thief_serial)
    thief_pin = registry.pins(thief_serial).user

    def sign_with_thief(message, t, purpose, where):
        thief.verify_pin("user", thief_pin, t)
        return thief.sign(message, t)

    clone = HostileChip(victim, verify_pin=accept_any_pin, sign=sign_with_thief)
    with pytest.raises(ForgedData, match="another card's key"):
        reader.authenticate(clone, "0000", now)
    assert last_refusal(registry.events).reason == "forged"


def test_a_chip_presenting_another_cards_certificate_is_the_wrong_holder(registry, reader, adult_serial, now):
    other = registry.card(other_serial(registry, adult_serial))
    pin = registry.pins(other.serial).user
    mask = HostileChip(other)
    mask.serial = adult_serial  # claims to be another card
    with pytest.raises(WrongHolder, match="presented the certificate"):
        reader.authenticate(mask, pin, now)
    assert last_refusal(registry.events).reason == "wrong_holder"


def test_a_card_of_someone_else_than_expected_is_the_wrong_holder(registry, reader, adult_serial, now):
    card, holder = registry.card(adult_serial), registry.holder_of(adult_serial)
    with pytest.raises(WrongHolder):
        reader.authenticate(card, registry.pins(adult_serial).user, now, expected_resident=holder + 1)
    with pytest.raises(WrongHolder):
        reader.read_serial(card, now, expected_resident=holder + 1)
    assert [e.reason for e in registry.events.of(Refused)][-2:] == ["wrong_holder", "wrong_holder"]


def test_tampered_face_data_is_refused(registry, reader, adult_serial, now):
    card = registry.card(adult_serial)
    sealed = card.read_face()
    renamed = dataclasses.replace(sealed, face=dataclasses.replace(sealed.face, name="偽 名"))
    longer = dataclasses.replace(sealed, expires_at=sealed.expires_at + 3650 * DAY)
    for forged in (renamed, longer):
        with pytest.raises(ForgedData, match="tampered"):
            reader.read_serial(HostileChip(card, read_face=lambda f=forged: f), now)
    assert [e.reason for e in registry.events.of(Refused)][-2:] == ["forged", "forged"]


def test_a_face_record_copied_from_another_card_is_the_wrong_holder(registry, reader, adult_serial, now):
    other = registry.card(other_serial(registry, adult_serial))
    copier = HostileChip(registry.card(adult_serial), read_face=other.read_face)
    with pytest.raises(WrongHolder, match="face record of card"):
        reader.read_serial(copier, now)
    assert last_refusal(registry.events).reason == "wrong_holder"


def test_an_unknown_serial_is_refused_by_the_reader(registry, reader, now):
    from twin.trust_errors import UnknownCard

    with pytest.raises(UnknownCard):
        reader.authenticate(424242, "1234", now)
    assert (last_refusal(registry.events).reason, last_refusal(registry.events).where) == ("unknown_card", "kiosk-1")


def test_a_card_revoked_after_the_last_list_is_accepted_and_counted(registry, reader, adult_serial, now):
    pin = registry.pins(adult_serial).user
    reader.authenticate(registry.card(adult_serial), pin, now)  # fetches today's list
    registry.report_loss(adult_serial, now + HOUR)
    ident = reader.authenticate(registry.card(adult_serial), pin, now + 2 * HOUR)
    assert ident.assurance is Assurance.HIGH  # the window: the list does not know yet
    window = registry.events.of(RevokedAcceptedInWindow)
    assert len(window) == 1
    assert (window[0].revoked_at, window[0].path, window[0].where) == (now + HOUR, "list", "kiosk-1")
    assert window[0].list_published_at <= now < window[0].list_published_at + DAY


def test_a_card_revoked_before_the_last_list_is_refused(registry, reader, adult_serial, now):
    registry.report_loss(adult_serial, now + HOUR)
    next_day = now + DAY
    with pytest.raises(CardRevoked, match="loss"):
        reader.authenticate(registry.card(adult_serial), registry.pins(adult_serial).user, next_day)
    assert last_refusal(registry.events).reason == "card_revoked"
    assert not registry.events.of(RevokedAcceptedInWindow)


def test_an_online_status_reader_has_no_window(ca, registry, adult_serial, now):
    online = Reader(ca, registry, reader_id="pay-1", revocation="online")
    registry.report_loss(adult_serial, now + HOUR)
    with pytest.raises(CardRevoked):
        online.authenticate(registry.card(adult_serial), registry.pins(adult_serial).user, now + 2 * HOUR)
    assert last_refusal(registry.events).where == "pay-1"


def test_an_expired_certificate_is_refused_while_the_card_still_reads(registry, reader, adult_serial, now):
    row = registry.row_of(adult_serial)
    after = float(day_start(int(registry.user_until[row]) + 1)) + HOUR
    assert after < registry.expires_at(row)  # adult card: 10 years, certificate: 5
    with pytest.raises(CertificateExpired, match="renew"):
        reader.authenticate(registry.card(adult_serial), registry.pins(adult_serial).user, after)
    assert last_refusal(registry.events).reason == "certificate_expired"
    assert reader.read_serial(registry.card(adult_serial), after).assurance is Assurance.MEDIUM


def test_a_certificate_for_a_later_generation_is_not_yet_valid(ca, registry, reader, adult_serial, now):
    row = registry.row_of(adult_serial)
    req = registry.cert_request(row, USER)
    future = CertRequest(req.card_serial, USER, req.gen + 1, now + 30 * DAY, now + 400 * DAY)
    key = ca.card_private_key(adult_serial, USER, req.gen + 1)
    chip = HostileChip(registry.card(adult_serial), verify_pin=accept_any_pin,
                       certificate=lambda p: ca.certificate(future), sign=lambda m, t, p, w: key.sign(m))
    with pytest.raises(CertificateNotYetValid):
        reader.authenticate(chip, "0000", now)
    assert last_refusal(registry.events).reason == "certificate_not_yet_valid"


def test_a_flood_of_unanswered_challenges_drops_the_oldest(registry, reader, adult_serial, now):
    card, pin = registry.card(adult_serial), registry.pins(adult_serial).user
    first = reader.challenge(now)
    for i in range(5000):
        last = reader.challenge(now + i / 1000)
    card.verify_pin("user", pin, now)
    with pytest.raises(ReplayedChallenge, match="never issued"):
        reader.verify_response(card.certificate(), first, card.sign(first, now), now + 5)
    card.verify_pin("user", pin, now + 5)
    assert reader.verify_response(card.certificate(), last, card.sign(last, now + 5), now + 5).card_serial == \
        adult_serial
