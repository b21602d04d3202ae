"""A MAC credential's checks are shared by the verifiers of one process (a pure function of the pinned
secret and the bytes): a later run's reader decides exactly what a fresh check decides, rules included."""

from __future__ import annotations

import pytest

from tests.card.conftest import NOW
from twin import card_mac
from twin.clock import DAY
from twin.drill_cards import VirtualCardRefused
from twin.events import EventLog
from twin.pki import USER, CertificateAuthority, cert_serial_of
from twin.trust_errors import ForgedData, UnknownIssuer
from twin.verifier import CertificateVerifier, mac_certificate


def _credential(ca: CertificateAuthority, card: int = 4242) -> bytes:
    return card_mac.encode_credential(ca.mac_secret, ca.issuer, cert_serial_of(card, USER, 0), NOW - DAY, NOW + DAY)


def _verifier(ca: CertificateAuthority) -> CertificateVerifier:
    return CertificateVerifier(ca, where="kiosk-1", events=EventLog())


def test_a_second_verifier_gets_the_credential_a_fresh_check_gives_without_checking_it_again():
    ca = CertificateAuthority.for_key_mode(21, "hmac")
    blob = _credential(ca)
    first = _verifier(ca).certificate(blob, USER, NOW)
    hits = mac_certificate.cache_info().hits
    second = _verifier(ca).certificate(blob, USER, NOW)
    assert mac_certificate.cache_info().hits == hits + 1
    fresh = CertificateVerifier._check_chain(_verifier(ca), blob)  # the uncached rule itself
    assert (second.cert_serial, second.card_serial, second.purpose, second.not_before, second.not_after) == (
        fresh.cert_serial, fresh.card_serial, fresh.purpose, fresh.not_before, fresh.not_after) == (
        first.cert_serial, 4242, USER, float(int(NOW - DAY)), float(int(NOW + DAY)))
    assert second.check(card_mac.MacKey(card_mac.card_secret(ca.mac_secret, second.cert_serial))(b"n"), b"n")


def test_a_verifier_that_takes_only_drill_cards_refuses_a_credential_another_verifier_accepted():
    ca = CertificateAuthority.for_key_mode(22, "hmac")
    blob = _credential(ca)
    assert _verifier(ca).checked(blob) is not None
    strict = _verifier(ca)
    strict.virtual = False  # what trust_drill_cards(..., virtual=False) sets
    assert strict.checked(blob) is None
    with pytest.raises(VirtualCardRefused):
        strict.certificate(blob, USER, NOW)
    assert [type(e).__name__ for e in strict.events] == ["Refused"]  # recorded once, as before


def test_a_tampered_or_foreign_credential_is_refused_by_every_verifier_after_the_genuine_one_passed():
    ca, other = CertificateAuthority.for_key_mode(23, "hmac"), CertificateAuthority.for_key_mode(24, "hmac")
    blob = _credential(ca)
    assert _verifier(ca).checked(blob) is not None
    tampered = blob.replace(b"|%d|" % cert_serial_of(4242, USER, 0), b"|%d|" % cert_serial_of(4243, USER, 0), 1)
    for _ in range(2):
        with pytest.raises(ForgedData):
            _verifier(ca).certificate(tampered, USER, NOW)
        assert _verifier(other).checked(blob) is None  # another authority's secret: its seal does not verify
    x509_only = CertificateAuthority.for_key_mode(25, "p256")
    with pytest.raises(UnknownIssuer):
        _verifier(x509_only).certificate(blob, USER, NOW)
