"""Drill cards in the domain: a drill CA's enrolled card is its synthetic resident's card, every other one refused."""

from __future__ import annotations

import pytest

from tests.card import drill_pki
from twin.drill_cards import DrillCards
from twin.errors import ValidationError
from twin.identity import Assurance
from twin.trust_errors import TrustError

YEAR = 365 * 86400.0


@pytest.fixture
def drill(now):
    """A drill CA, two enrolled cards (P-256 and RSA-2048), an unenrolled one, an expired one, a stranger's."""
    ca = drill_pki.authority("Drill Card CA", now - 2 * YEAR, now + 5 * YEAR)
    return {"ca": ca,
            "p256": drill_pki.card(ca, now - YEAR, now + YEAR),
            "rsa": drill_pki.card(ca, now - YEAR, now + YEAR, kind="rsa"),
            "unenrolled": drill_pki.card(ca, now - YEAR, now + YEAR),
            "expired": drill_pki.card(ca, now - 2 * YEAR, now - 86400),
            "impostor_ca": drill_pki.authority("Drill Card CA", now - YEAR, now + YEAR)}


def holders(registry, n: int) -> list[int]:
    rows = [r for r in range(len(registry)) if registry.status_name(r, 0) != "applied"][:n]
    return [int(registry.resident[r]) for r in rows]


def trusting(reader, registry, drill, *, virtual: bool = True) -> list[int]:
    a, b = holders(registry, 2)
    text = drill_pki.enrolment((drill["p256"], a), (drill["rsa"], b), (drill["expired"], a))
    cards = DrillCards.parse(drill["ca"].pem, text)
    reader.verifier.trust_drill_cards(cards, registry.serial_of_resident, virtual=virtual)
    return [a, b]


def login(reader, card, now):
    nonce = reader.challenge(now)
    return reader.verify_response(card.der, nonce, card.sign(nonce), now)


def refusal(reader, card, now) -> str:
    with pytest.raises(TrustError) as err:
        login(reader, card, now)
    return err.value.code


def test_an_enrolled_drill_card_signs_in_as_its_synthetic_resident_s_card(reader, registry, drill, now):
    a, b = trusting(reader, registry, drill)
    for issued, rid in ((drill["p256"], a), (drill["rsa"], b)):
        ident = login(reader, issued, now)
        assert (ident.resident_id, ident.card_serial, ident.assurance) == (
            rid, registry.serial_of_resident(rid), Assurance.HIGH)


def test_cards_of_another_ca_unenrolled_or_expired_are_refused_each_with_its_code(reader, registry, drill, now):
    trusting(reader, registry, drill)
    stranger = drill_pki.card(drill_pki.authority("Other CA", now - YEAR, now + YEAR), now - YEAR, now + YEAR)
    forged = drill_pki.card(drill["impostor_ca"], now - YEAR, now + YEAR)  # same CA name, another key
    got = {k: refusal(reader, c, now) for k, c in (("stranger", stranger), ("forged", forged),
                                                  ("unenrolled", drill["unenrolled"]), ("expired", drill["expired"]))}
    assert got == {"stranger": "unknown_issuer", "forged": "forged", "unenrolled": "card_not_enrolled",
                   "expired": "certificate_expired"}


def test_a_drill_card_s_answer_to_a_challenge_is_accepted_once(reader, registry, drill, now):
    trusting(reader, registry, drill)
    nonce = reader.challenge(now)
    sig = drill["p256"].sign(nonce)
    reader.verify_response(drill["p256"].der, nonce, sig, now)
    with pytest.raises(TrustError) as err:
        reader.verify_response(drill["p256"].der, nonce, sig, now)
    assert err.value.code == "replay"


def test_virtual_cards_stay_accepted_beside_drill_cards_unless_refused(reader, registry, drill, now, adult_serial):
    trusting(reader, registry, drill)
    pin = registry.pins(adult_serial).user
    assert reader.authenticate(registry.card(adult_serial), pin, now).card_serial == adult_serial
    trusting(reader, registry, drill, virtual=False)
    with pytest.raises(TrustError) as err:
        reader.authenticate(registry.card(adult_serial), pin, now)
    assert err.value.code == "virtual_card_refused"
    assert login(reader, drill["p256"], now).assurance is Assurance.HIGH


def test_fingerprints_are_read_as_openssl_prints_them_with_or_without_colons(drill):
    fp = drill["p256"].fingerprint
    colons = ":".join(fp[i:i + 2] for i in range(0, 64, 2)).upper()
    text = f"fingerprint,resident_id\nsha256 Fingerprint={colons},1\n{drill['rsa'].fingerprint.upper()},2\n"
    assert DrillCards.parse(drill["ca"].pem, text).enrolled == {fp: 1, drill["rsa"].fingerprint: 2}


def test_no_refusal_or_identity_carries_the_card_s_subject(reader, registry, drill, now):
    trusting(reader, registry, drill)
    login(reader, drill["p256"], now)
    refusal(reader, drill["unenrolled"], now)
    refusal(reader, drill["expired"], now)
    assert drill_pki.VOLUNTEER not in repr(list(registry.events))


@pytest.mark.parametrize(("ca_pem", "cards", "words"), [
    (b"not a certificate", "fingerprint,resident_id\n" + "ab" * 32 + ",1\n", "holds no PEM certificate"),
    ("card", "fingerprint,resident_id\n" + "ab" * 32 + ",1\n", "is not a CA certificate"),
    ("ca", "fingerprint,resident_id\nxyz,1\n", "line 2: the fingerprint must be 64 hex digits"),
    ("ca", "fingerprint,resident_id\n" + "ab" * 32 + ",-3\n", "line 2: resident_id must be"),
    ("ca", "fp,who\n" + "ab" * 32 + ",1\n", "line 1: the header must be"),
    ("ca", "# drill 2026\nfingerprint,resident_id\n" + ("ab" * 32 + ",1\n") * 2, "line 4: card abababababababab… is enrolled twice"),
    ("ca", "fingerprint,resident_id\n", "enrols no card"),
    ("ca", 'fingerprint,resident_id\n"' + "ab" * 32 + ",1\n", "line 2: expected 2 fields"),
])
def test_bad_drill_files_are_refused_naming_the_file_and_line(drill, ca_pem, cards, words):
    pem = {"ca": drill["ca"].pem, "card": drill["p256"].pem}.get(ca_pem, ca_pem)
    with pytest.raises(ValidationError, match=words.replace("…", ".")) as err:
        DrillCards.parse(pem, cards, ca_name="--trust-ca x.pem", cards_name="--drill-cards c.csv")
    assert "--trust-ca x.pem" in str(err.value) or "--drill-cards c.csv" in str(err.value)
