"""What a relying party checks about a JPKI certificate: chain to the pinned authority, kind,
validity at `now`, and revocation by the last list it holds or by online status.

Certificate checks are cached by the exact DER bytes (the same bytes verify the same way), so a
kiosk that sees a card twice pays for the chain once. Revocation lists are verified once each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from twin import card_mac
from twin.clock import DAY
from twin.drill_cards import DrillCards, VirtualCardRefused
from twin.errors import ValidationError
from twin.events import EventLog
from twin.keys import KeyCache, verifier
from twin.pki import (
    POLICY_OIDS,
    PURPOSES,
    USER,
    CertificateAuthority,
    RevocationList,
    split_cert_serial,
)
from twin.trust_errors import (
    CardRevoked,
    CertificateExpired,
    CertificateNotYetValid,
    ForgedData,
    RevocationUnavailable,
    TrustError,
    UnknownCard,
    UnknownIssuer,
    WrongCertificate,
    when,
)
from twin.trust_events import RevokedAcceptedInWindow, refuse

REVOCATION_MODES = ("list", "online")


@dataclass(frozen=True, slots=True)
class CheckedCertificate:
    """A certificate whose chain, kind and holder binding verified (validity is checked per use)."""

    cert_serial: int
    card_serial: int
    purpose: int
    not_before: float
    not_after: float
    check: Callable[[bytes, bytes], bool]  # (signature, data) -> valid under the certificate's key
    resident: int = -1  # a drill card's synthetic resident (twin.drill_cards); -1: a twin-made card


@dataclass(frozen=True, slots=True)
class HeldList:
    """A revocation list a verifier fetched and verified: its number, times and revoked serials."""

    number: int
    published_at: float
    next_update: float
    revoked: dict[int, float]  # cert serial -> revocation time


class CertificateVerifier:
    """Checks certificates against a pinned authority and a revocation source, recording refusals."""

    drill: DrillCards | None = None  # a drill's own card CA and enrolled cards (`trust_drill_cards`)
    virtual = True  # whether the twin's own (virtual) cards are accepted
    card_of: Callable[[int], int | None] | None = None  # resident -> the serial of their card in the twin

    def __init__(self, ca: CertificateAuthority, *, where: str, events: EventLog,
                 revocation: str = "list", max_list_age: float = 7 * DAY, cache: int = 65536) -> None:
        if revocation not in REVOCATION_MODES:
            raise ValidationError(f"unknown revocation mode {revocation!r}; valid: {', '.join(REVOCATION_MODES)}")
        if not max_list_age > 0:
            raise ValidationError(f"max_list_age must be > 0 seconds, got {max_list_age!r}")
        self.ca = ca
        self.anchor = x509.load_der_x509_certificate(ca.root_der)  # pinned when the verifier is built
        self.anchor_check = verifier(self.anchor.public_key())
        self.mac_anchor = ca.mac_secret  # key mode hmac: the authority's MAC secret, pinned likewise
        self.issuer = self.anchor.subject.rfc4514_string()
        self.where, self.events = where, events
        self.revocation, self.max_list_age = revocation, float(max_list_age)
        self.held: HeldList | None = None
        self._checked = KeyCache(cache)

    def _refuse(self, err: TrustError, serial: int, now: float) -> TrustError:
        return refuse(self.events, err, serial, self.where, now)

    def trust_drill_cards(self, drill: DrillCards | None, card_of: Callable[[int], int | None], *,
                          virtual: bool = True) -> None:
        """Also accept the drill's cards, each as its resident's card; with `virtual=False`, only those."""
        self.drill, self.card_of, self.virtual = drill, card_of, bool(virtual)
        self._checked = KeyCache(self._checked.capacity)  # nothing checked under other rules stays cached

    # -- certificates -------------------------------------------------------------------------

    def certificate(self, der: bytes, purpose: int, now: float, serial_hint: int = 0) -> CheckedCertificate:
        """The checked certificate, or a recorded refusal (unknown issuer, forged, wrong kind, expired)."""
        cc = self.chain(der, now, serial_hint)
        if cc.purpose != purpose:
            raise self._refuse(WrongCertificate(f"a {PURPOSES[cc.purpose]} certificate was offered where a "
                                                f"{PURPOSES[purpose]} certificate is needed"), cc.card_serial, now)
        if now > cc.not_after:
            raise self._refuse(CertificateExpired(cc.cert_serial, cc.not_after, PURPOSES[purpose]),
                               cc.card_serial, now)
        if now < cc.not_before:
            raise self._refuse(CertificateNotYetValid(f"certificate {cc.cert_serial:#x} is not valid before "
                                                      f"{when(cc.not_before)}"), cc.card_serial, now)
        return cc

    def chain(self, der: bytes, now: float, serial_hint: int = 0) -> CheckedCertificate:
        """The certificate's chain and binding checked (cached), whatever its validity dates."""
        try:
            cc = self._lookup(der)
        except TrustError as err:
            raise self._refuse(err, serial_hint, now) from None
        return cc if cc.resident < 0 else self._drill_card(cc, now)

    def checked(self, der: bytes) -> CheckedCertificate | None:
        """The certificate's chain and binding checked (cached), or None when they fail; records nothing."""
        try:
            return self._lookup(der)
        except TrustError:
            return None

    def _lookup(self, der: bytes) -> CheckedCertificate:
        """`_check_chain(der)`, cached: a MAC credential accepted under these rules by `mac_certificate` (already a
        per-process cache of a pure function: a later run's verifier does not check the same bytes again), an
        X.509 certificate by this verifier's own cache."""
        if self.virtual and self.mac_anchor is not None and der.startswith(card_mac.MAC_PREFIX):
            return mac_certificate(self.mac_anchor, self.issuer, der)
        return self._checked.get(der, lambda: self._check_chain(der))

    def _drill_card(self, cc: CheckedCertificate, now: float) -> CheckedCertificate:
        """A drill card as its resident's card in the twin (looked up now: a reissued card counts)."""
        serial = self.card_of(cc.resident) if self.card_of is not None else None
        if serial is None:
            raise self._refuse(UnknownCard(f"resident {cc.resident}, whom this drill card plays, holds no card in "
                                           "the twin"), 0, now)
        return dataclasses.replace(cc, card_serial=int(serial))

    def _check_chain(self, der: bytes) -> CheckedCertificate:
        """Parse and verify one certificate against the anchor (raises TrustError subclasses)."""
        if der.startswith(card_mac.MAC_PREFIX):
            self._virtual_allowed()
            return self._check_credential(der)
        try:
            cert = x509.load_der_x509_certificate(der)
        except (ValueError, TypeError):
            raise ForgedData("the card returned bytes that are not a certificate") from None
        if cert.issuer != self.anchor.subject and self.drill is not None and self.drill.issues(cert):
            card = self.drill.check(der, cert)  # reads chain, dates, key and fingerprint; never the subject
            return CheckedCertificate(card.cert_serial, 0, USER, card.not_before, card.not_after,
                                      verifier(card.public_key), card.resident_id)
        if cert.issuer != self.anchor.subject:
            if self.drill is not None:
                raise UnknownIssuer("the certificate is issued neither by the drill's card CA nor by the twin's "
                                    "authority")
            raise UnknownIssuer(f"certificate issued by {cert.issuer.rfc4514_string()!r}, not by the trusted "
                                f"authority {self.anchor.subject.rfc4514_string()!r}")
        try:
            cert.verify_directly_issued_by(self.anchor)
        except (InvalidSignature, ValueError, TypeError):
            raise ForgedData("the certificate names the authority but its signature does not verify with the "
                             "authority's key: forged or tampered") from None
        self._virtual_allowed()
        return _checked(cert)

    def _virtual_allowed(self) -> None:
        if not self.virtual:
            raise VirtualCardRefused("this service accepts only the drill's own cards; a twin-made virtual card "
                                     "was offered")

    def _check_credential(self, blob: bytes) -> CheckedCertificate:
        """Verify a MAC credential (key mode hmac) against the pinned authority secret."""
        if self.mac_anchor is None:
            raise UnknownIssuer("a MAC credential was offered to a verifier whose authority issues X.509 "
                                "certificates")
        return mac_certificate(self.mac_anchor, self.issuer, blob)

    # -- revocation ---------------------------------------------------------------------------

    def refresh(self, now: float) -> HeldList:
        """Fetch, verify and hold the latest published list (needs the network)."""
        lst = self.ca.revocation_list(now)
        if self.held is not None and self.held.number == lst.number:
            return self.held
        self.held = self._verify_list(lst, now)
        return self.held

    def _verify_list(self, lst: RevocationList, now: float) -> HeldList:
        facts = _list_facts(self.anchor, lst.der)
        if facts is None:
            raise self._refuse(ForgedData(f"revocation list #{lst.number} is not signed by the authority"), 0, now)
        last, nxt, revoked = facts
        return HeldList(lst.number, last, nxt if nxt is not None else lst.next_update, dict(revoked))

    def check_revocation(self, cc: CheckedCertificate, now: float, online: bool, what: str = "card") -> None:
        """Refuse a revoked certificate; record when a stale list lets a revoked one through. (A drill card's
        status is its resident's card in the twin's registry, which callers check online; its CA's lists are
        not consulted.)"""
        if cc.resident >= 0:
            return None
        if online and self.revocation == "online":
            return self._check_online(cc, now, what)
        held = self._list_for(cc, now, online)
        if cc.cert_serial in held.revoked:
            reason = "listed"
            rec = self.ca.revocation_of(cc.cert_serial)
            if rec is not None:
                reason = rec.reason
            raise self._refuse(CardRevoked(cc.card_serial, held.revoked[cc.cert_serial], reason, what),
                               cc.card_serial, now)
        rec = self.ca.revocation_of(cc.cert_serial)  # ground truth the twin knows; the verifier does not
        if rec is not None and rec.revoked_at <= now:
            self.events.append(RevokedAcceptedInWindow(now, cc.card_serial, cc.cert_serial, rec.revoked_at,
                                                       held.published_at, self.where,
                                                       "list" if online else "offline"))

    def _list_for(self, cc: CheckedCertificate, now: float, online: bool) -> HeldList:
        if online and (self.held is None or now >= self.held.next_update):
            return self.refresh(now)
        if self.held is None:
            raise self._refuse(RevocationUnavailable("no revocation list is cached and the reader is offline; "
                                                     "connect once to fetch one"), cc.card_serial, now)
        if now - self.held.published_at > self.max_list_age:
            age = (now - self.held.published_at) / DAY
            raise self._refuse(RevocationUnavailable(f"the cached revocation list is {age:.1f} days old (limit "
                                                     f"{self.max_list_age / DAY:.1f}); reconnect to refresh it"),
                               cc.card_serial, now)
        return self.held

    def _check_online(self, cc: CheckedCertificate, now: float, what: str) -> None:
        resp = self.ca.status(cc.cert_serial, now)
        if resp.cert_serial != cc.cert_serial or not self.anchor_check(resp.signature, resp.payload()):
            raise self._refuse(ForgedData("the online status answer is not signed by the authority"),
                               cc.card_serial, now)
        if resp.revoked_at is not None:
            raise self._refuse(CardRevoked(cc.card_serial, resp.revoked_at, resp.reason, what), cc.card_serial, now)


@lru_cache(maxsize=256)
def _list_facts(anchor: x509.Certificate, der: bytes) -> tuple[float, float | None, tuple[tuple[int, float], ...]] | None:
    """A revocation list's issue time, next update and revoked serials with their times, if `anchor` signed it
    (else None): a pure function of the pinned certificate and the list's bytes, so checked once per process
    (a later run's fresh reader does not verify the same list again)."""
    crl = x509.load_der_x509_crl(der)
    if crl.issuer != anchor.subject or not crl.is_signature_valid(anchor.public_key()):
        return None
    revoked = tuple((r.serial_number, r.revocation_date_utc.timestamp()) for r in crl)
    nxt = crl.next_update_utc.timestamp() if crl.next_update_utc else None
    return crl.last_update_utc.timestamp(), nxt, revoked


@lru_cache(maxsize=1 << 16)
def mac_certificate(mac_anchor: bytes, issuer: str, blob: bytes) -> CheckedCertificate:
    """The checked facts of a MAC credential: a pure function of the pinned secret, the issuer and the
    bytes, so kept per process (later runs' readers reuse it); a forged one raises and is never kept."""
    serial, not_before, not_after, secret = card_mac.checked_credential(mac_anchor, issuer, blob)
    card, purpose, _ = split_cert_serial(serial)
    return CheckedCertificate(serial, card, purpose, not_before, not_after, card_mac.mac_checker(secret))


def _checked(cert: x509.Certificate) -> CheckedCertificate:
    """The facts of a chain-verified certificate; the subject must bind it to one card."""
    try:
        policy = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value[0].policy_identifier
        purpose = POLICY_OIDS.index(policy)
        card = int(cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value)
    except (x509.ExtensionNotFound, ValueError, IndexError):
        raise ForgedData("the certificate lacks the JPKI policy or the card serial number") from None
    card_of_serial, purpose_of_serial, _ = split_cert_serial(cert.serial_number)
    if (card_of_serial, purpose_of_serial) != (card, purpose):
        raise ForgedData(f"certificate serial {cert.serial_number:#x} does not belong to card {card}")
    return CheckedCertificate(cert.serial_number, card, purpose, cert.not_valid_before_utc.timestamp(),
                              cert.not_valid_after_utc.timestamp(), verifier(cert.public_key()))
