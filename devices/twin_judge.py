"""The twin's trust checks on a posted tap: what an endpoint runs before it records one.

Kiosk taps: the user certificate's chain to the pinned authority, its kind and validity at
the time the card was read, the card key's signature over the tap's challenge, revocation,
the card's status in the registry (online, so a suspended card is refused at once) and the
holder (Assurance HIGH). Shelter taps: the authority's seal over the twin card's face
record, the card's expiry and status (Assurance MEDIUM), as `twin.reader.Reader.read_serial`;
a real card's certificate serial alone is resolved through the twin's serial scheme.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from devices import contract
from twin.card import SignedFace
from twin.identity import Assurance, Identity
from twin.pki import USER, CertificateAuthority, FaceData, split_cert_serial
from twin.reader import Reader
from twin.trust_errors import ForgedData


class _PostedFace:
    """A face record as posted by a reader, in the shape `Reader.read_serial` reads."""

    def __init__(self, card: contract.Card) -> None:
        f = card.face
        born = dt.datetime.strptime(f.birth_date, "%Y%m%d").date()
        self.serial = int(card.card_serial)
        self._face = SignedFace(self.serial, FaceData(f.name, f.address, born, int(f.sex)), float(f.expires_at),
                                base64.b64decode(f.seal))

    def read_face(self) -> SignedFace:
        return self._face

    def certificate(self, purpose: int = USER) -> bytes:
        raise ForgedData("a posted face record carries no certificate")


class TwinJudge:
    """Checks posted taps with the twin's authority and card registry; raises the twin's refusals."""

    def __init__(self, ca: CertificateAuthority, registry, revocation: str = "list") -> None:
        self.registry = registry
        self.reader = Reader(ca, registry, reader_id="endpoint", revocation=revocation)

    def __call__(self, tap: contract.Tap) -> dict[str, Any]:
        """The identity the tap establishes, as the JSON `result` of a recorded tap."""
        if tap.auth is not None:
            ident = self._kiosk(tap)
        elif tap.card.face is not None:
            ident = self.reader.read_serial(_PostedFace(tap.card), tap.at)
        else:
            serial = split_cert_serial(int(tap.card.certificate_serial, 16))[0]
            ident = Identity(self.registry.resident_of(serial, tap.at), "certificate_serial",
                             Assurance.MEDIUM, tap.at, serial)
        return {"resident_id": ident.resident_id, "card_serial": ident.card_serial, "method": ident.method,
                "assurance": ident.assurance.name}

    def _kiosk(self, tap: contract.Tap) -> Identity:
        v, now = self.reader.verifier, tap.at
        cc = v.certificate(base64.b64decode(tap.auth.certificate), USER, now)
        if not cc.check(base64.b64decode(tap.auth.signature), contract.challenge_of(tap)):
            raise ForgedData(f"the signature does not verify with card {cc.card_serial}'s certificate over this "
                             "tap's challenge: another card's key, or a tampered tap")
        v.check_revocation(cc, now, online=True)
        # the card's status online, as J-LIS answers a kiosk: a card reported lost is refused at once,
        # not only from the next daily revocation list
        self.registry.check_usable(self.registry.row_of(cc.card_serial), now, "kiosk")
        return Identity(self.registry.holder_of(cc.card_serial), "jpki_user_cert", Assurance.HIGH, now,
                        cc.card_serial)
