"""The authority: real X.509 certificates and CRLs, cadence, online status, the three algorithms."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import NameOID

from twin.card import CardRegistry
from twin.card.rules import day_start
from twin.clock import DAY, HOUR, jst
from twin.errors import ValidationError
from twin.identity import Assurance
from twin.pki import (
    OID_DATE_OF_BIRTH,
    SIGNING,
    USER,
    CertificateAuthority,
    cert_serial_of,
    split_cert_serial,
)
from twin.reader import Reader


def test_a_card_certificate_is_real_x509_issued_by_the_authority(ca, registry, adult_serial):
    row = registry.row_of(adult_serial)
    cert = x509.load_der_x509_certificate(registry.card(adult_serial).certificate(USER))
    cert.verify_directly_issued_by(ca.root)
    assert cert.issuer == ca.root.subject
    assert cert.serial_number == cert_serial_of(adult_serial, USER, 0)
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == str(adult_serial)
    assert cert.not_valid_before_utc.timestamp() == day_start(int(registry.user_from[row]))
    assert cert.not_valid_after_utc.timestamp() == day_start(int(registry.user_until[row]) + 1) - 1
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_the_signing_certificate_carries_the_four_basic_items(registry, adult_serial):
    card = registry.card(adult_serial)
    cert = x509.load_der_x509_certificate(card.certificate(SIGNING))
    face = card.face
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == face.name
    assert cert.subject.get_attributes_for_oid(NameOID.POSTAL_ADDRESS)[0].value == face.address
    assert cert.subject.get_attributes_for_oid(OID_DATE_OF_BIRTH)[0].value == face.birth_date.strftime("%Y%m%d")
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment


def test_the_same_seed_gives_the_same_certificates_in_another_process(small_city, now):
    for algorithm in ("ed25519", "p256"):
        a = CardRegistry.from_city(small_city, CertificateAuthority(3, algorithm), now)
        b = CardRegistry.from_city(small_city, CertificateAuthority(3, algorithm), now)
        s = int(a.serial[10])
        assert a.card(s).certificate() == b.card(s).certificate()
        assert a.pins(s) == b.pins(s)


def test_certificate_serials_encode_card_purpose_and_generation():
    assert split_cert_serial(cert_serial_of(1_000_000_123, SIGNING, 7)) == (1_000_000_123, SIGNING, 7)


def test_lists_are_published_daily_at_midnight_jst(ca, now):
    lst = ca.revocation_list(now)
    assert lst.published_at == jst(2026, 4, 1) and lst.next_update == jst(2026, 4, 2)
    assert ca.revocation_list(jst(2026, 4, 1, 23, 59)).number == lst.number
    assert ca.revocation_list(jst(2026, 4, 2)).number == lst.number + 1


def test_a_revocation_appears_only_in_lists_published_after_it(ca, registry, adult_serial, now):
    before = ca.revocation_list(now)
    registry.report_loss(adult_serial, now + HOUR)
    crl_then = x509.load_der_x509_crl(ca.revocation_list(now + 2 * HOUR).der)
    crl_next = x509.load_der_x509_crl(ca.revocation_list(now + DAY).der)
    serial = cert_serial_of(adult_serial, USER, 0)
    assert ca.revocation_list(now + 2 * HOUR) is before
    assert crl_then.get_revoked_certificate_by_serial_number(serial) is None
    entry = crl_next.get_revoked_certificate_by_serial_number(serial)
    assert entry.revocation_date_utc.timestamp() == int(now + HOUR)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert crl_next.is_signature_valid(ca.public_key)


def test_online_status_is_signed_and_follows_revocation_time(ca, registry, adult_serial, now):
    serial = cert_serial_of(adult_serial, USER, 0)
    registry.report_loss(adult_serial, now + HOUR)
    good = ca.status(serial, now)
    bad = ca.status(serial, now + 2 * HOUR)
    assert good.revoked_at is None and bad.revoked_at == now + HOUR and bad.reason == "loss"
    ca.public_key.verify(bad.signature, bad.payload())


def test_revocation_is_idempotent_and_a_published_list_never_changes(ca, now):
    first = ca.revoke(99 << 10, now, "loss")
    assert ca.revoke(99 << 10, now + 5, "death") is first
    published = ca.revocation_list(now + DAY)
    late = ca.revoke(98 << 10, now + 10, "loss")  # dated before the list, learnt after it
    assert ca.revocation_list(now + DAY) == published
    assert {r.serial_number for r in x509.load_der_x509_crl(published.der)} == {99 << 10}
    nxt = x509.load_der_x509_crl(ca.revocation_list(now + 2 * DAY).der)
    assert {r.serial_number for r in nxt} == {99 << 10, 98 << 10}
    assert ca.status(98 << 10, now + 20).revoked_at == late.revoked_at == now + 10  # online: from its time
    with pytest.raises(ValidationError, match="unknown revocation reason"):
        ca.revoke(97 << 10, now + 2 * DAY, "boredom")


def test_an_unknown_algorithm_is_an_error_naming_the_valid_ones():
    with pytest.raises(ValidationError, match="rsa2048, p256, ed25519"):
        CertificateAuthority(1, "dsa")


def test_p256_cards_authenticate_and_sign_digests(small_city, now):
    ca = CertificateAuthority(5, "p256")
    reg = CardRegistry.from_city(small_city, ca, now)
    s = int(reg.serial[3])
    pin = reg.pins(s).user
    assert Reader(ca, reg, reader_id="k").authenticate(s, pin, now).assurance is Assurance.HIGH
    card = reg.card(s)
    card.verify_pin("user", pin, now)
    digest = hashlib.sha256(b"DigestInfo payload").digest()
    sig = card.sign_digest(digest, now)
    public = x509.load_der_x509_certificate(card.certificate()).public_key()
    public.verify(sig, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def test_ed25519_cards_cannot_sign_bare_digests(registry, adult_serial, now):
    card = registry.card(adult_serial)
    card.verify_pin("user", registry.pins(adult_serial).user, now)
    with pytest.raises(ValidationError, match="Ed25519"):
        card.sign_digest(b"\0" * 32, now)


def test_rsa_2048_cards_sign_sha256_with_rsa_like_the_real_card(small_city):
    now = jst(2026, 4, 1, 10)
    ca = CertificateAuthority(11, "rsa2048")
    reg = CardRegistry.from_city(small_city, ca, now)
    s = int(reg.serial[0])
    cert = x509.load_der_x509_certificate(reg.card(s).certificate())
    assert isinstance(cert.public_key(), rsa.RSAPublicKey) and cert.public_key().key_size == 2048
    assert cert.signature_algorithm_oid == x509.SignatureAlgorithmOID.RSA_WITH_SHA256
    ident = Reader(ca, reg, reader_id="kiosk-rsa").authenticate(s, reg.pins(s).user, now)
    assert ident.resident_id == reg.holder_of(s)
    card = reg.card(s)
    card.verify_pin("user", reg.pins(s).user, now)
    digest = hashlib.sha256(b"x").digest()
    cert.public_key().verify(card.sign_digest(digest, now), digest, padding.PKCS1v15(),
                             utils.Prehashed(hashes.SHA256()))
    # the same seed derives the same RSA key in a fresh authority (no key is stored anywhere)
    again = CertificateAuthority(11, "rsa2048").card_private_key(s, USER, 0)
    assert again.public_key().public_numbers() == cert.public_key().public_numbers()
