"""A card reached only through APDUs, in the shape the twin's `Reader` expects of a chip.

With it, `twin.reader.Reader.authenticate` / `read_serial` run their full checks (PIN, signed
challenge, chain, validity, revocation; the authority's seal on the face record) against a
card in a PC/SC reader — the twin's virtual card through pcscd + vpcd, or a real one.
"""

from __future__ import annotations

import datetime as dt

from twin.apdu import digest_info, terminal
from twin.apdu.codec import SW
from twin.apdu.layout import (
    EF_AUTH_CERT,
    EF_AUTH_KEY,
    EF_AUTH_PIN,
    EF_SIGN_CERT,
    EF_SIGN_KEY,
    EF_SIGN_PIN,
    EF_SUPPORT_PIN,
    INPUT_SUPPORT_AID,
    JPKI_AID,
)
from twin.apdu.terminal import CardRefused, PinBlocked, PinRejected, Transmit
from twin.card import SignedFace
from twin.pki import USER, FaceData, split_cert_serial
from twin.trust_errors import PinLocked, PinRequired, WrongPin

_PIN_EF = {"user": (JPKI_AID, EF_AUTH_PIN), "signing": (JPKI_AID, EF_SIGN_PIN),
           "support": (INPUT_SUPPORT_AID, EF_SUPPORT_PIN)}


class RemoteChip:
    """`twin.reader.Chip` over a `transmit` function: each call becomes an APDU sequence."""

    def __init__(self, transmit: Transmit) -> None:
        self.transmit = transmit
        self._serial: int | None = None

    @property
    def serial(self) -> int:
        """The card serial: from the face record if the card has one, else from the user certificate."""
        if self._serial is None:
            card_id = terminal.read_card_id(self.transmit)
            if card_id.card_serial is not None:
                self._serial = card_id.card_serial
            else:  # the twin's certificate serials carry the card serial (twin.pki.cert_serial_of)
                self._serial = split_cert_serial(card_id.certificate_serial)[0]
        return self._serial

    def _app(self, aid: bytes) -> None:
        if not terminal.select_app(self.transmit, aid):
            raise CardRefused(f"the card has no application {aid.hex().upper()}", SW.FILE_NOT_FOUND)

    def verify_pin(self, app: str, pin: str, now: float, where: str = "reader") -> None:
        """VERIFY through APDUs; the twin's WrongPin / PinLocked on refusal."""
        aid, ef = _PIN_EF[app]
        self._app(aid)
        try:
            terminal.verify_pin(self.transmit, ef, pin)
        except PinRejected as exc:
            raise WrongPin(self.serial, app, exc.tries_left) from exc
        except PinBlocked as exc:
            raise PinLocked(self.serial, app) from exc

    def sign(self, message: bytes, now: float, purpose: int = USER, where: str = "reader") -> bytes:
        """COMPUTE DIGITAL SIGNATURE over DigestInfo(SHA-256(message)) with the purpose's key."""
        self._app(JPKI_AID)
        key = EF_AUTH_KEY if purpose == USER else EF_SIGN_KEY
        try:
            return terminal.compute_signature(self.transmit, key, digest_info.of_message(message))
        except CardRefused as exc:
            if exc.sw == SW.SECURITY_NOT_SATISFIED:
                raise PinRequired(f"the card refused to sign without its PIN ({exc})") from exc
            raise

    def certificate(self, purpose: int = USER) -> bytes:
        """READ BINARY of the purpose's certificate file."""
        self._app(JPKI_AID)
        return terminal.read_tlv_file(self.transmit, EF_AUTH_CERT if purpose == USER else EF_SIGN_CERT)

    def read_face(self) -> SignedFace:
        """The twin card's sealed face record, as `Card.read_face` returns it."""
        card_id = terminal.read_card_id(self.transmit)
        if card_id.face is None:
            raise CardRefused("this card has no twin card-face application", SW.FILE_NOT_FOUND)
        f = card_id.face
        born = dt.datetime.strptime(f.items.birth_date, "%Y%m%d").date()
        face = FaceData(f.items.name, f.items.address, born, int(f.items.sex))
        return SignedFace(f.serial, face, float(f.expires_at), f.seal)
