"""What the certificate peak keeps or draws ahead for speed (card secrets, credential checks, PINs,
registry rows, challenges, JST hours) decides exactly what computing it afresh decides."""

from __future__ import annotations

import numpy as np
import pytest

from tests.card.conftest import NOW
from twin import card_mac
from twin.card import CardRegistry, mistype
from twin.clock import DAY, HOUR, jst_date, jst_day_second, to_jst
from twin.errors import ValidationError
from twin.pki import USER, CertificateAuthority
from twin.reader import ChallengeStream, Reader
from twin.trust_errors import ForgedData, ReplayedChallenge, TrustError, UnknownCard
from twin.verifier import mac_certificate


def _story(city, *, warm: bool, blocks: bool, rows_first: bool, cards: int = 30) -> tuple[list, list]:
    """Visits with typos, a PIN locked part-way, a card revoked between two of its visits, the same
    card again and again, and a replayed answer; every outcome and every event, in order."""
    if warm:  # another authority of the same seed first: the per-process caches now hold every card
        _story(city, warm=False, blocks=False, rows_first=False, cards=cards)
    ca = CertificateAuthority.for_key_mode(7, "hmac")
    registry = CardRegistry.from_city(city, ca, NOW)
    reader = Reader(ca, registry, reader_id="kiosk-1", revocation="online")  # a revocation counts at once
    serials = [int(s) for s in registry.serial[: len(registry)][:cards]]
    if rows_first:
        registry.remember_rows(np.array(serials + [serials[0]]))
    typos, challenges = np.random.default_rng(5), np.random.default_rng(6)
    source = ChallengeStream(challenges) if blocks else challenges
    registry.report_loss(serials[4], NOW + HOUR)  # revoked between its visits at k = 4 and k = 64 + 4
    outcomes: list = []
    for k in range(4 * cards):
        serial = serials[k % len(serials)]
        now = NOW + 60.0 * k
        pin = registry.pins(serial).user
        typed = mistype(pin, typos) if typos.random() < 0.3 or serial == serials[5] else pin
        try:
            outcomes.append(reader.authenticate(serial, typed, now, source).resident_id)
        except TrustError as err:
            outcomes.append(type(err).__name__)
        if k == 2 * cards + 7:  # an answer replayed to the reader after it was accepted once
            chip = registry.card(serial)
            nonce = reader.challenge(now, source)
            chip.verify_pin("user", pin, now)
            answer = (chip.certificate(USER), nonce, chip.sign(nonce, now))
            outcomes.append(reader.verify_response(*answer, now, chip_serial=serial).resident_id)
            with pytest.raises(ReplayedChallenge):
                reader.verify_response(*answer, now, chip_serial=serial)
            outcomes.append("replay refused")
    return outcomes, [repr(e) for e in registry.events]


def test_a_hostile_story_decides_the_same_with_every_derivation_cached_and_challenges_drawn_in_blocks(small_city):
    cold = _story(small_city, warm=False, blocks=False, rows_first=False)
    assert {"WrongPin", "PinLocked", "CardRevoked", "replay refused"} <= set(cold[0])
    hits = mac_certificate.cache_info().hits
    assert _story(small_city, warm=True, blocks=True, rows_first=True) == cold
    assert mac_certificate.cache_info().hits > hits  # the second authority's cards came cached


def test_a_tampered_credential_is_refused_every_time_even_after_the_genuine_one_was_checked():
    ca = CertificateAuthority.for_key_mode(11, "hmac")
    blob = card_mac.encode_credential(ca.mac_secret, ca.issuer, 12345 << 10, NOW - DAY, NOW + DAY)
    serial, _, _, secret = card_mac.checked_credential(ca.mac_secret, ca.issuer, blob)
    assert serial == 12345 << 10 and secret == card_mac.card_secret(ca.mac_secret, serial)
    tampered = blob.replace(b"|%d|" % serial, b"|%d|" % (serial + 2), 1)  # another card's serial, same seal
    assert tampered != blob
    for _ in range(2):
        with pytest.raises(ForgedData):
            card_mac.checked_credential(ca.mac_secret, ca.issuer, tampered)


def test_challenges_drawn_in_blocks_are_the_bytes_drawn_one_at_a_time():
    one, block = np.random.default_rng(3), ChallengeStream(np.random.default_rng(3))
    assert all(one.bytes(32) == block.bytes(32) for _ in range(5000))
    assert one.bytes(8) + one.bytes(16) == block.bytes(8) + block.bytes(16)
    for bad in (0, 12, -8, 8.0, True):
        with pytest.raises(ValidationError, match="multiple of 8"):
            block.bytes(bad)


def test_jst_day_and_second_read_as_datetime_does_even_where_the_microsecond_rounds_up():
    rng = np.random.default_rng(0)
    whole = np.floor(rng.uniform(1.7e9, 1.8e9, 2000))
    instants = np.concatenate([rng.uniform(1.7e9, 1.8e9, 20000), whole + 0.9999996, whole - 4e-7, whole + 5e-7,
                               whole + 86399.9999999])
    for now in instants.tolist():
        t = to_jst(now)
        day, sec = jst_day_second(now)
        assert (jst_date(day), sec) == (t.date(), t.hour * 3600 + t.minute * 60 + t.second), now


def test_rows_looked_up_in_one_pass_are_the_rows_looked_up_one_by_one(small_city):
    ca = CertificateAuthority.for_key_mode(7, "hmac")
    ahead, fresh = CardRegistry.from_city(small_city, ca, NOW), CardRegistry.from_city(small_city, ca, NOW)
    serials = ahead.serial[: len(ahead)][::7]
    unknown = int(ahead.serial[: len(ahead)].max()) + 1
    asked = np.append(serials, [unknown, serials[0]])
    assert ahead.remember_rows(asked).tolist() == fresh.rows_of(asked).tolist()  # in the order asked, -1: unknown
    assert [ahead.row_of(int(s)) for s in serials] == [fresh.row_of(int(s)) for s in serials]
    with pytest.raises(UnknownCard):
        ahead.row_of(unknown)
