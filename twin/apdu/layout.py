"""The chip's applications and files (カードAP・EF構成) and the byte layouts of their contents.

Where each part comes from:

* PUBLIC DOCUMENTATION — ISO/IEC 7816-4: the command and response APDU formats, the
  instructions SELECT (A4), VERIFY (20), READ BINARY (B0), the status words, and BER-TLV
  length encoding. RFC 5280: certificates are X.509 v3 in DER. J-LIS's public pages (see
  /work/shared/FACTS.md): the user-authentication PIN and the input-support PIN are 4 digits
  with 3 tries, the signing password 6-16 characters of A-Z/0-9 with 5 tries.
* OPEN-SOURCE READERS' UNDERSTANDING of the real card (jpki/myna `libmyna`, siketyan/jpki-rs,
  aokiapp's `mynacard` package; J-LIS does not publish the card's file system): the two
  application identifiers, every file id below, verifying a PIN by selecting its EF and sending
  VERIFY with P2=80, signing by selecting the key EF and sending CLA 80 INS 2A P1 00 P2 80 with
  a PKCS#1 DigestInfo, the token-info text, the My Number file (tag FF10) and the basic-4-items
  file (tag FF20 holding DF21 offsets, DF22 name, DF23 address, DF24 birth date, DF25 sex).
* TWIN ONLY — the card-face application (AID F0 "mynatwin"): one PIN-less file with the
  serial number (製造番号), the 4 basic items and the card's expiry under the authority's seal,
  i.e. the twin card's `read_face()`, the shelter check-in read the report proposes. The real
  chip offers no public PIN-less way to these (its card-face app wants the printed collation
  numbers), so on a real card SELECT of this AID answers 6A82 and readers fall back to the
  JPKI user certificate, which is readable without a PIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from twin.apdu.tlv import children, read_tlv, tlv
from twin.errors import ValidationError

JPKI_AID = bytes.fromhex("D392F000260100000001")  # 公的個人認証AP (open-source readers)
INPUT_SUPPORT_AID = bytes.fromhex("D3921000310001010408")  # 券面事項入力補助AP (open-source readers)
TWIN_FACE_AID = b"\xf0" + b"mynatwin"  # twin only: ISO 7816-5 proprietary 'F' AID
MF_FID = 0x3F00  # the master file (ISO/IEC 7816-4)

JPKI_TOKEN = b"JPKIAPICCTOKEN2"  # token-info EF text as open-source readers report it


class PinRef(Enum):
    """The card's reference data (PINs), each with its own retry counter on the card."""

    AUTH = "jpki_auth"  # 利用者証明用電子証明書の暗証番号, 4 digits, 3 tries
    SIGN = "jpki_sign"  # 署名用電子証明書のパスワード, 6-16 A-Z/0-9, 5 tries
    INPUT_SUPPORT = "input_support"  # 券面事項入力補助用暗証番号, 4 digits, 3 tries


class Content(Enum):
    """What a binary EF holds; the chip adapter supplies the bytes."""

    AUTH_CERT = "auth_cert"
    AUTH_CA_CERT = "auth_ca_cert"
    SIGN_CERT = "sign_cert"
    SIGN_CA_CERT = "sign_ca_cert"
    TOKEN = "token"
    MY_NUMBER = "my_number"
    BASIC_ITEMS = "basic_items"
    FACE = "face"


@dataclass(frozen=True, slots=True)
class BinaryEF:
    """A transparent file READ BINARY can read, once `requires` (if any) is verified."""

    content: Content
    requires: PinRef | None = None


@dataclass(frozen=True, slots=True)
class PinEF:
    """A PIN file: SELECT it, then VERIFY with P2=80."""

    pin: PinRef
    min_len: int
    max_len: int


@dataclass(frozen=True, slots=True)
class KeyEF:
    """A private-key file: SELECT it, then COMPUTE DIGITAL SIGNATURE once `pin` is verified."""

    pin: PinRef


EF = BinaryEF | PinEF | KeyEF

AUTH_PIN_EF = PinEF(PinRef.AUTH, 4, 4)
SIGN_PIN_EF = PinEF(PinRef.SIGN, 6, 16)
SUPPORT_PIN_EF = PinEF(PinRef.INPUT_SUPPORT, 4, 4)

APPLICATIONS: dict[bytes, dict[int, EF]] = {
    JPKI_AID: {
        0x0001: BinaryEF(Content.SIGN_CERT, PinRef.SIGN),  # 署名用電子証明書 (password first)
        0x0002: BinaryEF(Content.SIGN_CA_CERT),  # 署名用CA証明書
        0x0006: BinaryEF(Content.TOKEN),  # トークン情報
        0x000A: BinaryEF(Content.AUTH_CERT),  # 利用者証明用電子証明書 (no PIN)
        0x000B: BinaryEF(Content.AUTH_CA_CERT),  # 利用者証明用CA証明書
        0x0017: KeyEF(PinRef.AUTH),  # 利用者証明用秘密鍵
        0x0018: AUTH_PIN_EF,
        0x001A: KeyEF(PinRef.SIGN),  # 署名用秘密鍵
        0x001B: SIGN_PIN_EF,
    },
    INPUT_SUPPORT_AID: {
        0x0001: BinaryEF(Content.MY_NUMBER, PinRef.INPUT_SUPPORT),  # 個人番号
        0x0002: BinaryEF(Content.BASIC_ITEMS, PinRef.INPUT_SUPPORT),  # 基本4情報
        0x0011: SUPPORT_PIN_EF,
    },
    TWIN_FACE_AID: {
        0x0001: BinaryEF(Content.FACE),  # twin only: serial + 4 basic items + expiry, sealed
    },
}

# Well-known EF ids, named for the host side (the reader client) that selects them.
EF_SIGN_CERT, EF_TOKEN, EF_AUTH_CERT, EF_AUTH_CA_CERT = 0x0001, 0x0006, 0x000A, 0x000B
EF_AUTH_KEY, EF_AUTH_PIN, EF_SIGN_KEY, EF_SIGN_PIN = 0x0017, 0x0018, 0x001A, 0x001B
EF_MY_NUMBER, EF_BASIC_ITEMS, EF_SUPPORT_PIN, EF_FACE = 0x0001, 0x0002, 0x0011, 0x0001


@dataclass(frozen=True, slots=True)
class BasicItems:
    """The 4 basic items (基本4情報) as the input-support app holds them."""

    name: str
    address: str
    birth_date: str  # YYYYMMDD
    sex: str  # ISO 5218: "1" male, "2" female, "9" not applicable

    def __post_init__(self) -> None:
        b = self.birth_date
        if not (len(b) == 8 and b.isascii() and b.isdigit()):
            raise ValidationError(f"birth date must be YYYYMMDD digits, not {b!r}")
        if self.sex not in ("0", "1", "2", "9"):
            raise ValidationError(f"sex must be an ISO 5218 code 0/1/2/9, not {self.sex!r}")


@dataclass(frozen=True, slots=True)
class FaceRecord:
    """The twin-only card-face file: serial, 4 basic items, card expiry, the authority's seal."""

    serial: int
    items: BasicItems
    expires_at: int  # POSIX seconds
    seal: bytes


def encode_basic_items(items: BasicItems) -> bytes:
    """The basic-4-items file: FF20 { DF21 offsets, DF22 name, DF23 address, DF24 birth, DF25 sex }."""
    fields = [
        tlv(b"\xdf\x22", items.name.encode()),
        tlv(b"\xdf\x23", items.address.encode()),
        tlv(b"\xdf\x24", items.birth_date.encode()),
        tlv(b"\xdf\x25", items.sex.encode()),
    ]
    offsets_len = len(tlv(b"\xdf\x21", bytes(2 * len(fields))))
    starts, pos = [], offsets_len
    for f in fields:
        starts.append(pos)
        pos += len(f)
    body = tlv(b"\xdf\x21", b"".join(s.to_bytes(2, "big") for s in starts)) + b"".join(fields)
    return tlv(b"\xff\x20", body)


def encode_my_number(my_number: str) -> bytes:
    """The My Number file: FF10 with the 12 digits as ASCII."""
    if not (len(my_number) == 12 and my_number.isascii() and my_number.isdigit()):
        raise ValidationError("a My Number is 12 digits")
    return tlv(b"\xff\x10", my_number.encode())


def encode_token() -> bytes:
    """The token-info file: the token text padded with spaces to 32 bytes."""
    return JPKI_TOKEN.ljust(32, b" ")


def _expect(raw: bytes, tag: bytes, what: str) -> bytes:
    got, value, _ = read_tlv(raw)
    if got != tag:
        raise ValidationError(f"the {what} file starts with tag {got.hex().upper()}, not {tag.hex().upper()}")
    return value


def decode_basic_items(raw: bytes) -> BasicItems:
    """Parse a basic-4-items file (the layout open-source readers report)."""
    fields = children(_expect(raw, b"\xff\x20", "basic-4-items"))
    try:
        text = [fields[bytes((0xDF, t))].decode() for t in (0x22, 0x23, 0x24, 0x25)]
    except (KeyError, UnicodeDecodeError) as exc:
        raise ValidationError(f"the basic-4-items file lacks or garbles a field: {exc}") from exc
    return BasicItems(*text)


def decode_my_number(raw: bytes) -> str:
    """Parse a My Number file."""
    return _expect(raw, b"\xff\x10", "My Number").decode("ascii", "replace")


def encode_face(record: FaceRecord) -> bytes:
    """The card-face file: FF40 { DF41 serial, FF20 basic items, DF42 expiry, DF43 seal }."""
    if record.serial < 0:
        raise ValidationError(f"a card serial is not negative, got {record.serial}")
    return tlv(b"\xff\x40", tlv(b"\xdf\x41", str(record.serial).encode()) + encode_basic_items(record.items)
               + tlv(b"\xdf\x42", str(int(record.expires_at)).encode()) + tlv(b"\xdf\x43", record.seal))


def decode_face(raw: bytes) -> FaceRecord:
    """Parse the twin-only card-face file."""
    fields = children(_expect(raw, b"\xff\x40", "card-face"))
    try:
        serial, expires = fields[b"\xdf\x41"].decode("ascii"), fields[b"\xdf\x42"].decode("ascii")
        items = decode_basic_items(tlv(b"\xff\x20", fields[b"\xff\x20"]))
        seal = fields[b"\xdf\x43"]
    except (KeyError, UnicodeDecodeError) as exc:
        raise ValidationError(f"the card-face file lacks or garbles a field: {exc}") from exc
    if not (serial.isdigit() and expires.isdigit()):
        raise ValidationError(f"the card-face file's serial {serial!r} or expiry {expires!r} is not digits")
    return FaceRecord(int(serial), items, int(expires), seal)
