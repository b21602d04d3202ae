"""The certificate authority (J-LIS's role, 地方公共団体情報システム機構): JPKI certificates, revocation.

Certificates are real X.509 signed by the authority's key; revocation lists are real X.509
CRLs published on a cadence (daily by default, list k at `list_epoch + k * list_interval`);
online status answers are signed records. A verifier that relies on the last list accepts a
certificate revoked after that list was published: `revocation_of` is the ground truth a
scenario uses to count those cases.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID, ObjectIdentifier

from twin import card_mac
from twin.clock import DAY, jst
from twin.errors import ValidationError
from twin.events import EventLog
from twin.keys import Algorithm, KeyCache, PrivateKey, PublicKey, derive_private_key, signer
from twin.trust_events import CertificateIssued, CertificateRevokedEvent, RevocationListPublished

USER, SIGNING = 0, 1  # user-authentication (利用者証明用) and signing (署名用) certificates
PURPOSES = ("user", "signing")
# Private OIDs of the twin under the UUID arc 2.25 (no registration needed): certificate policies.
_TWIN_ARC = "2.25.186718472635123876115530240553214017581"
POLICY_OIDS = (ObjectIdentifier(_TWIN_ARC + ".1"), ObjectIdentifier(_TWIN_ARC + ".2"))
OID_DATE_OF_BIRTH = ObjectIdentifier("1.3.6.1.5.5.7.9.1")  # RFC 3739 dateOfBirth
OID_GENDER = ObjectIdentifier("1.3.6.1.5.5.7.9.3")  # RFC 3739 gender
REVOCATION_REASONS = {
    "loss": x509.ReasonFlags.key_compromise,
    "address_change": x509.ReasonFlags.affiliation_changed,
    "name_change": x509.ReasonFlags.affiliation_changed,
    "death": x509.ReasonFlags.cessation_of_operation,
    "reissue": x509.ReasonFlags.superseded,
    "renewal": x509.ReasonFlags.superseded,
    "returned": x509.ReasonFlags.cessation_of_operation,
}
_DER = Encoding.DER
_GEN_BITS = 9  # certificate generations per card and purpose: 0 … 511


def cert_serial_of(card_serial: int, purpose: int, gen: int) -> int:
    """The certificate serial number for a card's certificate of `purpose`, generation `gen`."""
    return (int(card_serial) << (_GEN_BITS + 1)) | (int(gen) << 1) | int(purpose)


def split_cert_serial(cert_serial: int) -> tuple[int, int, int]:
    """(card serial, purpose, generation) of a certificate serial number."""
    return cert_serial >> (_GEN_BITS + 1), cert_serial & 1, (cert_serial >> 1) & ((1 << _GEN_BITS) - 1)


def utc(t: float) -> dt.datetime:
    """A POSIX instant as an aware UTC datetime (whole seconds, as X.509 stores it)."""
    return dt.datetime.fromtimestamp(int(t), dt.UTC)


@dataclass(frozen=True, slots=True)
class FaceData:
    """The card face's 4 basic items (基本4情報): name, address, birth date, sex (1 M / 2 F)."""

    name: str
    address: str
    birth_date: dt.date
    sex: int

    def encode(self) -> bytes:
        """A canonical byte encoding (what the authority signs)."""
        return "\x1f".join([self.name, self.address, self.birth_date.isoformat(), str(self.sex)]).encode()


@dataclass(frozen=True, slots=True)
class CertRequest:
    """What the authority needs to issue one card certificate."""

    card_serial: int
    purpose: int
    gen: int
    not_before: float
    not_after: float
    holder: FaceData | None = None  # the signing certificate carries the 4 basic items

    @property
    def cert_serial(self) -> int:
        """The serial number the certificate will carry."""
        return cert_serial_of(self.card_serial, self.purpose, self.gen)


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revoked certificate: when it took effect, why, and from when lists carry it."""

    cert_serial: int
    revoked_at: float
    reason: str
    listed_from: float = float("-inf")  # lists published at or after this carry it (>= revoked_at)


@dataclass(frozen=True, slots=True)
class RevocationList:
    """A published revocation list (CRL): number, publication time, next update, DER bytes."""

    number: int
    published_at: float
    next_update: float
    der: bytes


@dataclass(frozen=True, slots=True)
class StatusResponse:
    """A signed online status answer (the OCSP role): revoked_at is None when good."""

    cert_serial: int
    revoked_at: float | None
    reason: str
    produced_at: float
    signature: bytes = field(repr=False)

    def payload(self) -> bytes:
        """The bytes the authority signs."""
        return f"status|{self.cert_serial}|{self.revoked_at}|{self.reason}|{self.produced_at!r}".encode()


def _name(common: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _subject(req: CertRequest) -> x509.Name:
    """The user certificate names only the card; the signing certificate carries the 4 items."""
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
             x509.NameAttribute(NameOID.SERIAL_NUMBER, str(req.card_serial))]
    if req.purpose == SIGNING and req.holder is not None:
        h = req.holder
        attrs += [x509.NameAttribute(NameOID.COMMON_NAME, h.name),
                  x509.NameAttribute(NameOID.POSTAL_ADDRESS, h.address),
                  x509.NameAttribute(OID_DATE_OF_BIRTH, h.birth_date.strftime("%Y%m%d")),
                  x509.NameAttribute(OID_GENDER, "M" if h.sex == 1 else "F")]
    else:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, f"JPKI {PURPOSES[req.purpose]} {req.card_serial}"))
    return x509.Name(attrs)


class CertificateAuthority:
    """Issues card certificates signed by its own key, revokes them, publishes lists, answers status."""

    def __init__(self, seed: int | bytes = 0, algorithm: str | Algorithm = Algorithm.P256, *,
                 name: str = "JPKI Twin Root CA", organization: str = "J-LIS (synthetic twin)",
                 list_interval: float = DAY, list_epoch: float | None = None,
                 events: EventLog | None = None, key_cache: int = 65536, cert_cache: int = 65536,
                 mac_cards: bool = False) -> None:
        if not list_interval > 0:
            raise ValidationError(f"list_interval must be > 0 seconds, got {list_interval!r}")
        self.algorithm = Algorithm.parse(algorithm)
        self.seed = seed if isinstance(seed, bytes) else f"myna-twin-ca/{int(seed)}".encode()
        self.name = _name(name, organization)
        self.list_interval = float(list_interval)
        self.list_epoch = jst(2016, 1, 1) if list_epoch is None else float(list_epoch)
        self.events = events if events is not None else EventLog()
        self._key = derive_private_key(self.seed, b"ca/root", self.algorithm)
        self._seal = signer(self._key, deterministic=True)
        self.root = self._self_signed()
        self.root_der = self.root.public_bytes(_DER)
        self.card_keys = KeyCache(key_cache)
        self._certs = KeyCache(cert_cache)
        self._revoked: dict[int, Revocation] = {}
        self._order: list[tuple[float, int]] = []  # (listed_from, cert serial), time order
        self._lists: OrderedDict[int, RevocationList] = OrderedDict()
        # key mode hmac: cards hold per-card secrets and MAC credentials (twin.card_mac)
        self.mac_secret = card_mac.authority_secret(self.seed) if mac_cards else None
        self.issuer = self.name.rfc4514_string()

    @classmethod
    def for_key_mode(cls, seed: int | bytes, key_mode: str, **kwargs) -> CertificateAuthority:
        """An authority whose cards use key mode `key_mode` (hmac, ed25519, p256, rsa2048)."""
        return cls(seed, card_mac.authority_algorithm(key_mode), mac_cards=key_mode == "hmac", **kwargs)

    @property
    def key_mode(self) -> str:
        """The cards' key mode: hmac, or the algorithm of their keys."""
        return "hmac" if self.mac_secret is not None else self.algorithm.value

    @property
    def public_key(self) -> PublicKey:
        """The authority's public key (the trust anchor verifiers pin)."""
        return self._key.public_key()

    def _self_signed(self) -> x509.Certificate:
        b = (x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
             .public_key(self._key.public_key()).serial_number(1)
             .not_valid_before(utc(jst(2014, 1, 1))).not_valid_after(utc(jst(2064, 1, 1)))
             .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True))
        return self._sign_x509(b)

    def _sign_x509(self, builder):
        det = True if self.algorithm is Algorithm.P256 else None
        return builder.sign(self._key, self.algorithm.x509_hash, ecdsa_deterministic=det)

    def seal(self, payload: bytes) -> bytes:
        """The authority's signature over a record (card face data, status answers)."""
        return self._seal(payload)

    def card_private_key(self, card_serial: int, purpose: int, gen: int) -> PrivateKey:
        """The card's private key for one certificate (derived once, then cached)."""
        if self.mac_secret is not None:
            raise ValidationError("in key mode hmac a card holds a secret, not a private key; use an "
                                  "authority in key mode p256 or rsa2048 for the APDU path")
        return self._card_key(card_serial, purpose, gen)[0]

    def card_signer(self, card_serial: int, purpose: int, gen: int) -> Callable[[bytes], bytes]:
        """A function signing with the card's key for one certificate (cached with the key)."""
        if self.mac_secret is not None:  # the card's secret derived once, its signer (hashed pads) kept
            mac = self.mac_secret
            return self.card_keys.get((card_serial, purpose, gen), lambda: card_mac.mac_signer(card_mac.card_secret(
                mac, cert_serial_of(card_serial, purpose, gen))))  # type: ignore[return-value]
        return self._card_key(card_serial, purpose, gen)[1]

    def _card_key(self, card_serial: int, purpose: int, gen: int) -> tuple[PrivateKey, Callable[[bytes], bytes]]:
        def make() -> tuple[PrivateKey, Callable[[bytes], bytes]]:
            label = f"card/{int(card_serial)}/{int(purpose)}/{int(gen)}".encode()
            key = derive_private_key(self.seed, label, self.algorithm)
            return key, signer(key)

        return self.card_keys.get((card_serial, purpose, gen), make)

    def certificate(self, req: CertRequest) -> bytes:
        """The DER certificate for `req` (issued on first use, then cached; deterministic)."""
        return self._certs.get((req.cert_serial, req.not_after, req.holder), lambda: self._build(req))

    def user_certificates(self, card_serials: list[int], gens: list[int], not_befores: list[float],
                          not_afters: list[float]) -> list[bytes]:
        """`certificate` of many user-certificate requests given as columns (the same bytes, the same cache)."""
        get, build = self._certs.get, self._build
        return [get((cert_serial_of(s, USER, g), a, None), lambda s=s, g=g, b=b, a=a: build(CertRequest(s, USER, g, b, a)))
                for s, g, b, a in zip(card_serials, gens, not_befores, not_afters, strict=True)]

    def _build(self, req: CertRequest) -> bytes:
        if not 0 <= req.gen < (1 << _GEN_BITS):
            raise ValidationError(f"certificate generation {req.gen} is out of range 0…{(1 << _GEN_BITS) - 1}")
        if self.mac_secret is not None:
            holder = req.holder.encode() if req.holder is not None else b""
            return card_mac.encode_credential(self.mac_secret, self.issuer, req.cert_serial, req.not_before,
                                              req.not_after, b"%d|%d|" % (req.card_serial, req.purpose) + holder)
        public = self.card_private_key(req.card_serial, req.purpose, req.gen).public_key()
        usage = dict(digital_signature=True, content_commitment=req.purpose == SIGNING, key_encipherment=False,
                     data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                     encipher_only=False, decipher_only=False)
        b = (x509.CertificateBuilder().subject_name(_subject(req)).issuer_name(self.name)
             .public_key(public).serial_number(req.cert_serial)
             .not_valid_before(utc(req.not_before)).not_valid_after(utc(req.not_after))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(**usage), critical=True)
             .add_extension(x509.CertificatePolicies([x509.PolicyInformation(POLICY_OIDS[req.purpose], None)]),
                            critical=False))
        return self._sign_x509(b).public_bytes(_DER)

    def issue(self, req: CertRequest, now: float) -> bytes:
        """Issue a certificate now (records the event) and return its DER bytes."""
        der = self.certificate(req)
        self.events.append(CertificateIssued(now, req.card_serial, req.cert_serial, PURPOSES[req.purpose],
                                             req.not_after))
        return der

    def revoke(self, cert_serial: int, now: float, reason: str, recorded_at: float | None = None) -> Revocation:
        """Revoke a certificate from `now` (idempotent: a second revocation keeps the first).

        The authority learns of it at `recorded_at` (default `now`); a revocation dated before a list
        already published is effective from `now` for online status and carried by the next list."""
        if reason not in REVOCATION_REASONS:
            raise ValidationError(f"unknown revocation reason {reason!r}; valid: {', '.join(REVOCATION_REASONS)}")
        if cert_serial in self._revoked:
            return self._revoked[cert_serial]
        listed = max(float(now), float(now if recorded_at is None else recorded_at))
        last = next(reversed(self._lists.values()), None)
        if last is not None and listed <= last.published_at:  # a published list never changes
            listed = math.nextafter(last.published_at, math.inf)
        rec = Revocation(int(cert_serial), float(now), reason, listed)
        self._revoked[rec.cert_serial] = rec
        bisect.insort(self._order, (rec.listed_from, rec.cert_serial))
        card, purpose, _ = split_cert_serial(rec.cert_serial)
        self.events.append(CertificateRevokedEvent(now, card, rec.cert_serial, PURPOSES[purpose], reason))
        return rec

    def revocation_of(self, cert_serial: int) -> Revocation | None:
        """Ground truth: the certificate's revocation, whatever any list says (None if never revoked)."""
        return self._revoked.get(cert_serial)

    def list_number(self, now: float) -> int:
        """The number of the latest list published at or before `now`."""
        return int((now - self.list_epoch) // self.list_interval)

    def revocation_list(self, now: float) -> RevocationList:
        """The latest revocation list published at or before `now` (built once per number)."""
        k = self.list_number(now)
        if k not in self._lists:
            self._lists[k] = self._publish(k)
            while len(self._lists) > 8:
                self._lists.popitem(last=False)
        return self._lists[k]

    def _publish(self, k: int) -> RevocationList:
        published = self.list_epoch + k * self.list_interval
        nxt = published + self.list_interval
        cut = bisect.bisect_right(self._order, (published, float("inf")))
        b = (x509.CertificateRevocationListBuilder().issuer_name(self.name)
             .last_update(utc(published)).next_update(utc(nxt))
             .add_extension(x509.CRLNumber(max(k, 0)), critical=False))
        for _, serial in self._order[:cut]:
            rec = self._revoked[serial]
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(utc(rec.revoked_at))
                .add_extension(x509.CRLReason(REVOCATION_REASONS[rec.reason]), critical=False).build())
        der = self._sign_x509(b).public_bytes(_DER)
        self.events.append(RevocationListPublished(published, k, cut, nxt))
        return RevocationList(k, published, nxt, der)

    def status(self, cert_serial: int, now: float) -> StatusResponse:
        """A signed online status answer for a certificate at `now`."""
        rec = self._revoked.get(cert_serial)
        live = rec if rec is not None and rec.revoked_at <= now else None
        unsigned = StatusResponse(int(cert_serial), live.revoked_at if live else None,
                                  live.reason if live else "", float(now), b"")
        return StatusResponse(unsigned.cert_serial, unsigned.revoked_at, unsigned.reason, unsigned.produced_at,
                              self.seal(unsigned.payload()))

    @property
    def revoked_count(self) -> int:
        """How many certificates have been revoked so far."""
        return len(self._revoked)

