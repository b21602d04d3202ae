"""The reader's side of the conversation (端末側): APDU sequences that read and use a card.

Every function takes `transmit(command bytes) -> response bytes`, so the same sequences run
against the twin's chip directly (`ChipSession.respond`), through pcscd + vpcd with pyscard,
or against a real My Number card on real hardware. The sequences follow the open-source
readers (see `twin.apdu.layout` for provenance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509

from twin.apdu import digest_info
from twin.apdu.codec import SW, CommandApdu, ResponseApdu, parse_response
from twin.apdu.layout import (
    EF_AUTH_CERT,
    EF_AUTH_KEY,
    EF_AUTH_PIN,
    EF_BASIC_ITEMS,
    EF_FACE,
    EF_SUPPORT_PIN,
    INPUT_SUPPORT_AID,
    JPKI_AID,
    TWIN_FACE_AID,
    BasicItems,
    FaceRecord,
    decode_basic_items,
    decode_face,
)
from twin.apdu.tlv import TlvError, total_length
from twin.errors import Forbidden, TwinError

Transmit = Callable[[bytes], bytes]
HEAD = 7  # bytes read first to learn a DER/TLV file's size, as the open-source readers do


class CardRefused(TwinError):
    """The card answered a command with an error status word."""

    code = "card_refused"
    status = 422

    def __init__(self, what: str, sw: int) -> None:
        super().__init__(f"{what}: the card answered {sw:04X}")
        self.sw = sw


class PinRejected(Forbidden):
    """A wrong PIN: the card counted it and says how many tries remain."""

    code = "pin_rejected"

    def __init__(self, tries_left: int) -> None:
        super().__init__(f"wrong PIN; {tries_left} tries left before the card locks it")
        self.tries_left = tries_left


class PinBlocked(Forbidden):
    """The PIN is locked on the card (6983); only the city counter can unlock it."""

    code = "pin_blocked"

    def __init__(self) -> None:
        super().__init__("the PIN is locked on this card; it can be unlocked only at a city counter")


def send(transmit: Transmit, cmd: CommandApdu) -> ResponseApdu:
    """Send one command and decode the answer."""
    return parse_response(transmit(cmd.to_bytes()))


def _ok(transmit: Transmit, cmd: CommandApdu, what: str) -> bytes:
    r = send(transmit, cmd)
    if not r.ok:
        raise CardRefused(what, r.sw)
    return r.data


def select_app(transmit: Transmit, aid: bytes) -> bool:
    """SELECT an application by AID; False if the card has none (6A82)."""
    r = send(transmit, CommandApdu(0x00, 0xA4, 0x04, 0x0C, aid))
    if r.sw == SW.FILE_NOT_FOUND:
        return False
    if not r.ok:
        raise CardRefused(f"SELECT application {aid.hex().upper()}", r.sw)
    return True


def select_ef(transmit: Transmit, fid: int) -> None:
    """SELECT an EF of the current application by its 2-byte id."""
    _ok(transmit, CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")), f"SELECT EF {fid:04X}")


def read_binary(transmit: Transmit, size: int) -> bytes:
    """READ BINARY `size` bytes of the current EF, in chunks of at most 256."""
    out = b""
    while len(out) < size:
        n = min(256, size - len(out))
        cmd = CommandApdu(0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, ne=n)
        chunk = _ok(transmit, cmd, f"READ BINARY at offset {len(out)}")
        if not chunk:
            raise CardRefused(f"READ BINARY at offset {len(out)} returned nothing", SW.END_OF_FILE)
        out += chunk
    return out[:size]


def read_tlv_file(transmit: Transmit, fid: int) -> bytes:
    """Select an EF holding one TLV (a certificate, the basic items …) and read all of it."""
    select_ef(transmit, fid)
    head = read_binary(transmit, HEAD)
    try:
        size = total_length(head)
    except TlvError as exc:
        raise TlvError(f"EF {fid:04X} does not start with a TLV: {exc}") from exc
    return head + read_binary_from(transmit, HEAD, size - HEAD) if size > HEAD else head[:size]


def read_binary_from(transmit: Transmit, offset: int, size: int) -> bytes:
    """READ BINARY `size` bytes starting at `offset`."""
    out = b""
    while len(out) < size:
        pos = offset + len(out)
        n = min(256, size - len(out))
        chunk = _ok(transmit, CommandApdu(0x00, 0xB0, pos >> 8, pos & 0xFF, ne=n), f"READ BINARY at {pos}")
        if not chunk:
            raise CardRefused(f"READ BINARY at offset {pos} returned nothing", SW.END_OF_FILE)
        out += chunk
    return out


def pin_tries(transmit: Transmit, pin_ef: int) -> int | None:
    """Tries left on the PIN in `pin_ef` (VERIFY without data); None if already verified."""
    select_ef(transmit, pin_ef)
    r = send(transmit, CommandApdu(0x00, 0x20, 0x00, 0x80))
    if r.sw == SW.AUTH_METHOD_BLOCKED:
        return 0
    if r.sw & 0xFFF0 == 0x63C0:
        return r.sw & 0x0F
    if r.ok:
        return None
    raise CardRefused(f"VERIFY (tries left) on EF {pin_ef:04X}", r.sw)


def verify_pin(transmit: Transmit, pin_ef: int, pin: str) -> None:
    """Select the PIN EF and VERIFY `pin`; PinRejected / PinBlocked say what the card counted."""
    select_ef(transmit, pin_ef)
    r = send(transmit, CommandApdu(0x00, 0x20, 0x00, 0x80, pin.encode("latin-1")))
    if r.ok:
        return
    if r.sw == SW.AUTH_METHOD_BLOCKED:
        raise PinBlocked()
    if r.sw & 0xFFF0 == 0x63C0:
        raise PinRejected(r.sw & 0x0F)
    raise CardRefused(f"VERIFY on EF {pin_ef:04X}", r.sw)


def compute_signature(transmit: Transmit, key_ef: int, info: bytes) -> bytes:
    """Select the key EF and sign a DigestInfo (CLA 80 INS 2A P1 00 P2 80, Le 00)."""
    select_ef(transmit, key_ef)
    return _ok(transmit, CommandApdu(0x80, 0x2A, 0x00, 0x80, info, ne=256), "COMPUTE DIGITAL SIGNATURE")


@dataclass(frozen=True, slots=True)
class CardId:
    """What a PIN-less read tells: the twin card's sealed face record, or a real card's user certificate."""

    face: FaceRecord | None
    certificate: bytes | None  # the JPKI user-authentication certificate, DER

    @property
    def card_serial(self) -> int | None:
        """The card's serial number when the card gave it."""
        return self.face.serial if self.face else None

    @property
    def certificate_serial(self) -> int | None:
        """The user certificate's serial number when it was read."""
        if self.certificate is None:
            return None
        return x509.load_der_x509_certificate(self.certificate).serial_number


def read_card_id(transmit: Transmit) -> CardId:
    """PIN-less check-in read: the card-face record where the card has one, else the user certificate."""
    if select_app(transmit, TWIN_FACE_AID):
        return CardId(decode_face(read_tlv_file(transmit, EF_FACE)), None)
    if not select_app(transmit, JPKI_AID):
        raise CardRefused("this card has neither a card-face nor a JPKI application", SW.FILE_NOT_FOUND)
    return CardId(None, read_tlv_file(transmit, EF_AUTH_CERT))


def read_basic_items(transmit: Transmit, pin: str) -> BasicItems:
    """The 4 basic items from the input-support app, after its PIN."""
    if not select_app(transmit, INPUT_SUPPORT_AID):
        raise CardRefused("this card has no input-support application", SW.FILE_NOT_FOUND)
    verify_pin(transmit, EF_SUPPORT_PIN, pin)
    return decode_basic_items(read_tlv_file(transmit, EF_BASIC_ITEMS))


@dataclass(frozen=True, slots=True)
class SignedChallenge:
    """A challenge signed by the card's user-authentication key, with its certificate."""

    certificate: bytes
    challenge: bytes
    signature: bytes
    hash_name: str = "sha256"


def sign_challenge(transmit: Transmit, pin: str, challenge: bytes) -> SignedChallenge:
    """Kiosk authentication: user certificate, PIN, then the challenge's SHA-256 DigestInfo signed."""
    if not select_app(transmit, JPKI_AID):
        raise CardRefused("this card has no JPKI application", SW.FILE_NOT_FOUND)
    certificate = read_tlv_file(transmit, EF_AUTH_CERT)
    verify_pin(transmit, EF_AUTH_PIN, pin)
    signature = compute_signature(transmit, EF_AUTH_KEY, digest_info.of_message(challenge))
    return SignedChallenge(certificate, challenge, signature)
