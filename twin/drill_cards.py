"""Drill cards (訓練用カード): physical cards a drill trusts through its own CA, each playing a synthetic resident.

A drill with real cards (test cards the city issues to drill staff, or JPKI test cards)
names the certificate(s) of the CA that issued them and an enrolment file that maps each
card's user-authentication certificate, by its SHA-256 fingerprint, to the synthetic resident
the volunteer plays. Of a card's certificate only its chain, validity dates, public key and
fingerprint are read, never its subject: a real card's subject names a real person, so the
twin neither holds, shows nor logs it. The CA's own revocation lists are not consulted; a
drill card's status is its resident's card status in the twin (the drill's loss reports).
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from twin.errors import Forbidden, ValidationError
from twin.keys import PublicKey
from twin.trust_errors import ForgedData, TrustError, UnknownIssuer, WrongCertificate

MAX_CARDS = 100_000
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_PREFIX = re.compile(r"^sha-?256(\s+fingerprint)?\s*=\s*")  # `openssl x509 -fingerprint -sha256` prints one
COLUMNS = ("fingerprint", "resident_id")


class NotEnrolled(TrustError, Forbidden):
    """A card certificate of the drill's CA that the drill-cards file does not enrol."""

    code = "card_not_enrolled"


class VirtualCardRefused(TrustError, Forbidden):
    """A twin-made virtual card offered to a service that accepts only the drill's cards."""

    code = "virtual_card_refused"


@dataclass(frozen=True, slots=True)
class DrillCard:
    """What the twin takes from a drill card's certificate: fingerprint, resident, validity, key, serial."""

    fingerprint: str
    resident_id: int
    not_before: float
    not_after: float  # the earlier of the card's and its CA's end of validity
    public_key: PublicKey
    cert_serial: int


def fingerprint(der: bytes) -> str:
    """The SHA-256 fingerprint of a certificate's DER bytes, as 64 lower-case hex digits."""
    return hashlib.sha256(der).hexdigest()


def short(fp: str) -> str:
    """A fingerprint shortened for messages (enough to find it in the enrolment file)."""
    return f"{fp[:16]}…"


def parse_authorities(pem: bytes, name: str = "the CA file") -> tuple[x509.Certificate, ...]:
    """The CA certificates in a PEM file; refuses text that is not PEM and a certificate that is not a CA."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise ValidationError(f"{name} holds no PEM certificate (expected -----BEGIN CERTIFICATE----- "
                              "blocks): give the certificate of the CA that issued the drill's cards") from None
    for i, cert in enumerate(certs, 1):
        what = f"{name}: certificate {i} of {len(certs)} (sha256 {short(fingerprint(_der(cert)))})"
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            raise ValidationError(f"{what} is not a CA certificate (no basicConstraints CA:TRUE); give the "
                                  "certificate of the CA that issued the cards, not a card's own")
        try:
            usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            usage = None
        if usage is not None and not usage.key_cert_sign:
            raise ValidationError(f"{what} is a CA whose key usage does not allow signing certificates")
    return tuple(certs)


def parse_enrolment(text: str, name: str = "the drill-cards file") -> dict[str, int]:
    """fingerprint -> synthetic resident id, from CSV with a `fingerprint,resident_id` header ('#' lines skipped)."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ValidationError(f"{name} enrols no card: it needs a header `fingerprint,resident_id` and a row per card")
    rows = [next(csv.reader([line]), []) for _, line in lines]  # line by line: a stray quote spans no lines
    header = [h.strip().lower() for h in rows[0]]
    if header != list(COLUMNS):
        raise ValidationError(f"{name} line {lines[0][0]}: the header must be `fingerprint,resident_id`, "
                              f"not {','.join(header)[:60]!r}")
    out: dict[str, int] = {}
    for (n, _), row in zip(lines[1:], rows[1:], strict=True):
        if len(row) != 2:
            raise ValidationError(f"{name} line {n}: expected 2 fields (fingerprint, resident_id), got {len(row)}")
        fp = _PREFIX.sub("", row[0].strip().lower()).replace(":", "")
        if not _HEX64.match(fp):
            raise ValidationError(f"{name} line {n}: the fingerprint must be 64 hex digits (SHA-256 of the card's "
                                  f"certificate, colons allowed), got {row[0].strip()[:20]!r}")
        rid = row[1].strip()
        if not rid.isdigit() or len(rid) > 12:
            raise ValidationError(f"{name} line {n}: resident_id must be a synthetic resident's id (a "
                                  f"non-negative integer), got {rid[:20]!r}")
        if fp in out:
            raise ValidationError(f"{name} line {n}: card {short(fp)} is enrolled twice")
        out[fp] = int(rid)
        if len(out) > MAX_CARDS:
            raise ValidationError(f"{name} enrols more than {MAX_CARDS:,} cards")
    if not out:
        raise ValidationError(f"{name} enrols no card: add a row per card under the header")
    return out


class DrillCards:
    """The drill's card CAs and enrolled cards: checks a card certificate and names the resident it plays."""

    def __init__(self, authorities: Sequence[x509.Certificate], enrolled: Mapping[str, int]) -> None:
        if not authorities:
            raise ValidationError("a drill needs at least one CA certificate for its cards")
        self.authorities = tuple(authorities)
        self.enrolled = dict(enrolled)
        self._by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        for ca in self.authorities:
            self._by_subject.setdefault(ca.subject, []).append(ca)

    @classmethod
    def parse(cls, ca_pem: bytes | str, cards: str, *, ca_name: str = "the CA file",
              cards_name: str = "the drill-cards file") -> DrillCards:
        """From the CA file's PEM and the enrolment file's text, every line checked."""
        pem = ca_pem.encode() if isinstance(ca_pem, str) else ca_pem
        return cls(parse_authorities(pem, ca_name), parse_enrolment(cards, cards_name))

    def authority_fingerprints(self) -> list[str]:
        """SHA-256 fingerprints of the trusted CA certificates (what a drill's operator compares)."""
        return [fingerprint(_der(ca)) for ca in self.authorities]

    def residents(self) -> list[int]:
        """The synthetic residents the enrolled cards play (sorted, without repeats)."""
        return sorted(set(self.enrolled.values()))

    def issues(self, cert: x509.Certificate) -> bool:
        """Whether the certificate names one of the drill's CAs as its issuer (not yet verified)."""
        return cert.issuer in self._by_subject

    def check(self, der: bytes, cert: x509.Certificate) -> DrillCard:
        """The drill card behind a certificate that chains to a drill CA and is enrolled; refusals otherwise."""
        cas = self._by_subject.get(cert.issuer)
        if not cas:
            raise UnknownIssuer("the certificate is not issued by the drill's card CA")
        ca = next((c for c in cas if _issued_by(cert, c)), None)
        if ca is None:
            raise ForgedData("the certificate names the drill's card CA but its signature does not verify with "
                             "the CA's key: forged or tampered")
        fp = fingerprint(der)
        try:
            if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                raise WrongCertificate(f"certificate {short(fp)} is a CA certificate, not a card's")
        except x509.ExtensionNotFound:
            pass
        key = cert.public_key()
        if not (isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048
                or isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)):
            raise WrongCertificate(f"card certificate {short(fp)} has a key the twin does not verify (drill cards "
                                   "sign with RSA-2048 or more, or ECDSA P-256)")
        resident = self.enrolled.get(fp)
        if resident is None:
            raise NotEnrolled(f"card certificate sha256 {short(fp)} chains to the drill's card CA but is not "
                              "enrolled in the drill-cards file; enrol it for a synthetic resident")
        return DrillCard(fp, resident,
                         max(cert.not_valid_before_utc, ca.not_valid_before_utc).timestamp(),
                         min(cert.not_valid_after_utc, ca.not_valid_after_utc).timestamp(), key,
                         cert.serial_number)


def _der(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
