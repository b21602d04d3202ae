"""Key modes: HMAC cards keep every rule of JPKI authentication, and every key mode decides alike."""

from __future__ import annotations

import numpy as np
import pytest

from tests.card.conftest import NOW
from twin.card import CardRegistry, mistype
from twin.card.rules import day_start
from twin.clock import DAY, HOUR
from twin.pki import USER, CertificateAuthority, CertRequest
from twin.reader import Reader
from twin.trust_errors import (
    CardRevoked,
    CertificateExpired,
    CertificateNotYetValid,
    ForgedData,
    PinLocked,
    ReplayedChallenge,
    TrustError,
    UnknownIssuer,
    WrongHolder,
    WrongPin,
)
from twin.trust_events import Refused, RevokedAcceptedInWindow


class HostileChip:
    """A real card's chip with some answers replaced by an attacker's."""

    def __init__(self, base, **overrides) -> None:
        self.base, self.serial, self.overrides = base, base.serial, overrides

    def verify_pin(self, app, pin, now, where="card"):
        if "verify_pin" in self.overrides:
            return None
        return self.base.verify_pin(app, pin, now, where)

    def sign(self, message, now, purpose=USER, where="card"):
        return self.overrides.get("sign", self.base.sign)(message, now, purpose, where)

    def certificate(self, purpose=USER):
        return self.overrides.get("certificate", self.base.certificate)(purpose)


@pytest.fixture
def ca():
    """An authority whose cards hold HMAC secrets (key mode hmac)."""
    return CertificateAuthority.for_key_mode(7, "hmac")


def last_reason(registry) -> str:
    return registry.events.of(Refused)[-1].reason


def other_serial(registry, serial: int) -> int:
    return int(next(s for s in registry.serial[: len(registry)] if int(s) != serial))


def test_an_hmac_card_authenticates_with_its_pin_at_high_assurance(registry, reader, adult_serial, now):
    ident = reader.authenticate(adult_serial, registry.pins(adult_serial).user, now)
    assert (ident.card_serial, ident.method) == (adult_serial, "jpki_user_cert")
    assert registry.card(adult_serial).certificate().startswith(b"JPKI-MAC1|")


def test_an_hmac_answer_made_with_another_cards_secret_is_refused(registry, reader, adult_serial, now):
    thief = registry.card(other_serial(registry, adult_serial))
    pin = registry.pins(thief.serial).user

    def sign_with_thief(message, t, purpose, where):
        thief.verify_pin("user", pin, t)
        return thief.sign(message, t)

    clone = HostileChip(registry.card(adult_serial), verify_pin=True, sign=sign_with_thief)
    with pytest.raises(ForgedData, match="another card's key"):
        reader.authenticate(clone, "0000", now)
    assert last_reason(registry) == "forged"


def test_an_hmac_chip_showing_another_cards_credential_is_the_wrong_holder(registry, reader, adult_serial, now):
    other = registry.card(other_serial(registry, adult_serial))
    mask = HostileChip(other)
    mask.serial = adult_serial
    with pytest.raises(WrongHolder, match="presented the certificate"):
        reader.authenticate(mask, registry.pins(other.serial).user, now)


def test_a_replayed_hmac_answer_is_refused(registry, reader, adult_serial, now):
    card, pin = registry.card(adult_serial), registry.pins(adult_serial).user
    seen = []
    spy = HostileChip(card, sign=lambda m, t, p, w: seen.append((m, card.sign(m, t, p, w))) or seen[-1][1])
    reader.authenticate(spy, pin, now)
    challenge, answer = seen[0]
    with pytest.raises(ReplayedChallenge, match="already answered"):
        reader.verify_response(card.certificate(), challenge, answer, now + 5, chip_serial=adult_serial)
    replayer = HostileChip(card, verify_pin=True, sign=lambda m, t, p, w: answer)
    with pytest.raises(ReplayedChallenge, match="already accepted once"):
        reader.authenticate(replayer, "0000", now + 10)
    assert last_reason(registry) == "replay"


def test_a_revoked_hmac_card_is_refused_after_the_next_list_and_counted_inside_the_window(
        registry, reader, adult_serial, now):
    pin = registry.pins(adult_serial).user
    reader.authenticate(adult_serial, pin, now)
    registry.report_loss(adult_serial, now + HOUR)
    reader.authenticate(registry.card(adult_serial), pin, now + 2 * HOUR)  # the list does not know yet
    assert len(registry.events.of(RevokedAcceptedInWindow)) == 1
    with pytest.raises(CardRevoked, match="loss"):
        reader.authenticate(registry.card(adult_serial), pin, now + DAY)
    assert last_reason(registry) == "card_revoked"


def test_three_wrong_pins_lock_an_hmac_card_and_the_right_pin_then_fails(registry, reader, adult_serial, now):
    pin = registry.pins(adult_serial).user
    rng = np.random.default_rng(1)
    for left in (2, 1, 0):
        with pytest.raises(WrongPin):
            reader.authenticate(adult_serial, mistype(pin, rng), now)
        assert registry.card(adult_serial).tries_left("user") == left
    with pytest.raises(PinLocked):
        reader.authenticate(adult_serial, pin, now)


def test_a_forged_tampered_or_foreign_credential_is_refused(registry, reader, adult_serial, now):
    req = registry.cert_request(registry.row_of(adult_serial), USER)
    cases = [(CertificateAuthority.for_key_mode(666, "hmac"), ForgedData, "seal does not verify"),
             (CertificateAuthority.for_key_mode(666, "hmac", name="Evil Root CA"), UnknownIssuer, "Evil Root CA")]
    for rogue, error, match in cases:
        chip = HostileChip(registry.card(adult_serial), verify_pin=True, certificate=lambda p, r=rogue: r.certificate(req),
                           sign=lambda m, t, p, w, r=rogue: r.card_signer(adult_serial, USER, req.gen)(m))
        with pytest.raises(error, match=match):
            reader.authenticate(chip, "0000", now)
    longer = registry.card(adult_serial).certificate().replace(b"|%d|" % int(req.not_after),
                                                                b"|%d|" % int(req.not_after + 3650 * DAY))
    for blob in (longer, b"JPKI-MAC1|garbage", CertificateAuthority(seed=7).certificate(req)):
        with pytest.raises((ForgedData, UnknownIssuer)):
            reader.authenticate(HostileChip(registry.card(adult_serial), certificate=lambda p, b=blob: b),
                                registry.pins(adult_serial).user, now)


def test_an_expired_or_not_yet_valid_hmac_credential_is_refused(ca, registry, reader, adult_serial, now):
    row = registry.row_of(adult_serial)
    after = float(day_start(int(registry.user_until[row]) + 1)) + HOUR
    with pytest.raises(CertificateExpired):
        reader.authenticate(adult_serial, registry.pins(adult_serial).user, after)
    req = registry.cert_request(row, USER)
    future = CertRequest(req.card_serial, USER, req.gen + 1, now + 30 * DAY, now + 400 * DAY)
    chip = HostileChip(registry.card(adult_serial), verify_pin=True, certificate=lambda p: ca.certificate(future),
                       sign=lambda m, t, p, w: ca.card_signer(adult_serial, USER, req.gen + 1)(m))
    with pytest.raises(CertificateNotYetValid):
        reader.authenticate(chip, "0000", now)


def _story(city, key_mode: str, cards: int = 40) -> tuple[list, list]:
    """The same visits in one key mode: good PINs, typos, lockouts, a loss; every outcome and event."""
    ca = CertificateAuthority.for_key_mode(7, key_mode)
    registry = CardRegistry.from_city(city, ca, NOW)
    reader = Reader(ca, registry, reader_id="kiosk-1")
    rng = np.random.default_rng(5)
    serials = [int(s) for s in registry.serial[: len(registry)][:cards]]
    registry.report_loss(serials[3], NOW - 2 * DAY)
    registry.report_loss(serials[4], NOW + HOUR)
    outcomes = []
    for k in range(4 * cards):
        serial = serials[k % len(serials)]
        pin = registry.pins(serial).user
        typed = mistype(pin, rng) if rng.random() < 0.3 or serial == serials[5] else pin
        try:
            outcomes.append(reader.authenticate(serial, typed, NOW + 60.0 * k, rng).resident_id)
        except TrustError as err:
            outcomes.append(type(err).__name__)
    return outcomes, list(registry.events)


def test_every_key_mode_decides_the_same_outcomes_and_events(small_city):
    hmac_story = _story(small_city, "hmac")
    assert {"WrongPin", "PinLocked", "CardRevoked"} <= set(hmac_story[0])
    for mode in ("ed25519", "p256"):
        assert _story(small_city, mode) == hmac_story


def test_hmac_cards_decide_as_the_real_cards_rsa_keys_do(small_city):
    assert _story(small_city, "rsa2048", cards=6) == _story(small_city, "hmac", cards=6)
