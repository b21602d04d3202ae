"""A drill's card PKI for tests: a CA and "physical" cards made with `cryptography` (not a test module).

The card subjects name a made-up volunteer on purpose: the service must never read them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

VOLUNTEER = "Volunteer Taro Drill"  # a subject the service must never show or log


def _key(kind: str):
    return ec.generate_private_key(ec.SECP256R1()) if kind == "p256" else rsa.generate_private_key(65537, 2048)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _at(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, dt.UTC)


@dataclass
class Issued:
    """A certificate with its private key."""

    cert: x509.Certificate
    key: object

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def fingerprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()

    def sign(self, data: bytes) -> bytes:
        """What the card's chip returns for `data` after its PIN (SHA-256, ECDSA or PKCS#1 v1.5)."""
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def authority(name: str, start: float, end: float, *, ca: bool = True, kind: str = "p256") -> Issued:
    """A self-signed CA (with `ca=False`, a certificate that only looks like one)."""
    key = _key(kind)
    b = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name)).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(_at(start)).not_valid_after(_at(end))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True))
    return Issued(b.sign(key, hashes.SHA256()), key)


def card(ca: Issued, start: float, end: float, *, kind: str = "p256") -> Issued:
    """A card's user-authentication certificate, issued by `ca`."""
    key = _key(kind)
    b = (x509.CertificateBuilder().subject_name(_name(VOLUNTEER)).issuer_name(ca.cert.subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(_at(start)).not_valid_after(_at(end))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    return Issued(b.sign(ca.key, hashes.SHA256()), key)


def enrolment(*rows: tuple[Issued, int]) -> str:
    """A drill-cards CSV enrolling each card for a synthetic resident (fingerprints with colons, as openssl prints)."""
    lines = ["fingerprint,resident_id"]
    for c, rid in rows:
        fp = c.fingerprint.upper()
        lines.append(":".join(fp[i:i + 2] for i in range(0, 64, 2)) + f",{rid}")
    return "\n".join(lines) + "\n"
