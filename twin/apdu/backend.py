"""The APDU face's backend over the twin's own card (`twin.card.Card`): same counters, same keys.

Every PIN entry goes to `Card.verify_pin` (so the registry's retry counters move and the
card's events are recorded), signatures come from `Card.sign_digest` (the card's key, one
signature per verification), and the files are the card's certificate, sealed face record,
My Number and 4 basic items (`Card.read_input_support`, behind its PIN).
"""

from __future__ import annotations

from twin.apdu import digest_info
from twin.apdu.chip import PinCheck, SecurityNotSatisfied
from twin.apdu.layout import (
    BasicItems,
    Content,
    FaceRecord,
    PinRef,
    encode_basic_items,
    encode_face,
    encode_my_number,
    encode_token,
)
from twin.card import Card
from twin.errors import ValidationError
from twin.pki import SIGNING, USER, FaceData
from twin.trust_errors import NoSigningCertificate, PinLocked, PinRequired, WrongPin

APP_OF = {PinRef.AUTH: "user", PinRef.SIGN: "signing", PinRef.INPUT_SUPPORT: "support"}
PURPOSE_OF = {PinRef.AUTH: USER, PinRef.SIGN: SIGNING}
WHERE = "apdu"


def basic_items_of(face: FaceData) -> BasicItems:
    """The twin's face data in the card file's form (YYYYMMDD, ISO 5218 sex digit)."""
    return BasicItems(face.name, face.address, face.birth_date.strftime("%Y%m%d"), str(int(face.sex)))


class CardChip:
    """A `twin.card.Card` as the APDU session's backend."""

    def __init__(self, card: Card) -> None:
        self.card = card
        self.serial = card.serial

    def reset(self) -> None:
        """Power-up: a fresh view of the card, with no PIN verified in this session."""
        self.card = self.card.registry.card(self.serial)

    def tries_left(self, pin: PinRef, now: float) -> int:
        """Tries left on the card's counter for `pin`."""
        return self.card.tries_left(APP_OF[pin])

    def verify(self, pin: PinRef, value: str, now: float) -> PinCheck:
        """Enter `value` on the card; its counter decides."""
        try:
            self.card.verify_pin(APP_OF[pin], value, now, WHERE)
        except WrongPin as exc:
            return PinCheck(False, exc.tries_left)
        except PinLocked:
            return PinCheck(False, 0)
        return PinCheck(True, self.card.tries_left(APP_OF[pin]))

    def content(self, what: Content, now: float, pin: str | None = None) -> bytes | None:
        """The bytes of one file, built from the card's own records."""
        card, ca = self.card, self.card.registry.ca
        if what in (Content.AUTH_CERT, Content.SIGN_CERT):
            try:
                return card.certificate(USER if what is Content.AUTH_CERT else SIGNING)
            except NoSigningCertificate:
                return None  # under 15, or revoked after a move: the file holds no certificate
        if what in (Content.AUTH_CA_CERT, Content.SIGN_CA_CERT):
            return ca.root_der
        if what is Content.TOKEN:
            return encode_token()
        if what is Content.FACE:
            f = card.read_face()
            return encode_face(FaceRecord(f.serial, basic_items_of(f.face), int(f.expires_at), f.signature))
        data = card.read_input_support(pin or "", now, WHERE)
        if what is Content.MY_NUMBER:
            return encode_my_number(data.my_number)
        return encode_basic_items(basic_items_of(data.face))

    def sign(self, key: PinRef, pin: str, info: bytes, now: float) -> bytes:
        """The card's key signs the SHA-256 digest inside a DigestInfo."""
        name, digest = digest_info.decode(info)
        if name != "sha256":
            raise ValidationError(f"the twin card signs SHA-256 DigestInfo only, not {name}")
        try:
            return self.card.sign_digest(digest, now, PURPOSE_OF[key], WHERE)
        except PinRequired as exc:
            raise SecurityNotSatisfied(str(exc)) from exc
