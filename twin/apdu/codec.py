"""ISO/IEC 7816-4 command and response APDUs (コマンド/レスポンスAPDU): parsing and encoding."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from twin.errors import ValidationError

SHORT_MAX = 256  # Le = 00 in a short APDU asks for up to 256 bytes
EXTENDED_MAX = 65536  # Le = 0000 in an extended APDU asks for up to 65,536 bytes


class SW(IntEnum):
    """The status words this card answers with (ISO/IEC 7816-4, section 5.6)."""

    OK = 0x9000
    END_OF_FILE = 0x6282  # fewer bytes than Le were available
    WRONG_LENGTH = 0x6700
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    CHAINING_NOT_SUPPORTED = 0x6884
    INCOMPATIBLE_FILE_STRUCTURE = 0x6981
    SECURITY_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    CONDITIONS_NOT_SATISFIED = 0x6985
    NO_CURRENT_EF = 0x6986
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    INCORRECT_P1P2 = 0x6A86
    WRONG_P1P2 = 0x6B00  # e.g. an offset beyond the end of the file
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00


def tries_left_sw(tries: int) -> int:
    """The status word 63Cx: a PIN check failed or was not done; x tries remain."""
    if not 0 <= tries <= 15:
        raise ValidationError(f"tries left must be 0..15 to fit 63Cx, not {tries}")
    return 0x63C0 | tries


class MalformedApdu(ValidationError):
    """Bytes that are not a well-formed command APDU; the card answers `sw`."""

    code = "malformed_apdu"

    def __init__(self, message: str, sw: int = SW.WRONG_LENGTH) -> None:
        super().__init__(message)
        self.sw = sw


@dataclass(frozen=True, slots=True)
class CommandApdu:
    """A command APDU: class, instruction, parameters, command data and Ne (None: no Le field)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValidationError(f"{name} must be one byte, not {getattr(self, name)}")
        if len(self.data) > EXTENDED_MAX - 1:
            raise ValidationError(f"command data of {len(self.data)} bytes exceeds 65,535")
        if self.ne is not None and not 1 <= self.ne <= EXTENDED_MAX:
            raise ValidationError(f"Ne must be 1..65536 or None, not {self.ne}")

    @property
    def extended(self) -> bool:
        """Whether this command needs the extended length encoding."""
        return len(self.data) > 255 or (self.ne is not None and self.ne > SHORT_MAX)

    def to_bytes(self) -> bytes:
        """The command as sent to a card (short encoding when it fits, else extended)."""
        head = bytes((self.cla, self.ins, self.p1, self.p2))
        if not self.extended:
            lc = bytes((len(self.data),)) + self.data if self.data else b""
            le = b"" if self.ne is None else bytes((self.ne % SHORT_MAX,))
            return head + lc + le
        lc = b"\x00" + len(self.data).to_bytes(2, "big") + self.data if self.data else b""
        if self.ne is None:
            return head + lc
        le = (self.ne % EXTENDED_MAX).to_bytes(2, "big")
        return head + (lc + le if self.data else b"\x00" + le)


def parse_command(raw: bytes) -> CommandApdu:
    """Decode a command APDU in any of the ISO cases 1, 2, 3, 4 (short or extended)."""
    raw = bytes(raw)
    if len(raw) < 4:
        raise MalformedApdu(f"a command APDU has at least 4 bytes (CLA INS P1 P2), got {len(raw)}")
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    if not body:
        return CommandApdu(cla, ins, p1, p2)
    if len(body) == 1:
        return CommandApdu(cla, ins, p1, p2, ne=body[0] or SHORT_MAX)
    if body[0] != 0:
        return _short_with_data(cla, ins, p1, p2, body)
    return _extended(cla, ins, p1, p2, body)


def _short_with_data(cla: int, ins: int, p1: int, p2: int, body: bytes) -> CommandApdu:
    lc = body[0]
    if len(body) == 1 + lc:
        return CommandApdu(cla, ins, p1, p2, body[1:])
    if len(body) == 2 + lc:
        return CommandApdu(cla, ins, p1, p2, body[1:-1], body[-1] or SHORT_MAX)
    raise MalformedApdu(f"Lc says {lc} data bytes but {len(body) - 1} follow it")


def _extended(cla: int, ins: int, p1: int, p2: int, body: bytes) -> CommandApdu:
    if len(body) < 3:
        raise MalformedApdu("an extended length field needs 3 bytes (00 and two length bytes)")
    n = int.from_bytes(body[1:3], "big")
    if len(body) == 3:
        return CommandApdu(cla, ins, p1, p2, ne=n or EXTENDED_MAX)
    if n == 0:
        raise MalformedApdu("extended Lc is 0000: command data cannot be empty")
    if len(body) == 3 + n:
        return CommandApdu(cla, ins, p1, p2, body[3:])
    if len(body) == 5 + n:
        return CommandApdu(cla, ins, p1, p2, body[3:-2], int.from_bytes(body[-2:], "big") or EXTENDED_MAX)
    raise MalformedApdu(f"extended Lc says {n} data bytes but {len(body) - 3} follow it")


@dataclass(frozen=True, slots=True)
class ResponseApdu:
    """A response APDU: response data and the status word."""

    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        """Whether the status word is 9000."""
        return self.sw == SW.OK

    @property
    def sw_hex(self) -> str:
        """The status word as four upper-case hex digits, e.g. '63C2'."""
        return f"{self.sw:04X}"

    def to_bytes(self) -> bytes:
        """The response as the card sends it: data then SW1 SW2."""
        return self.data + self.sw.to_bytes(2, "big")


def parse_response(raw: bytes) -> ResponseApdu:
    """Decode a response APDU (at least the two status bytes)."""
    raw = bytes(raw)
    if len(raw) < 2:
        raise MalformedApdu(f"a response APDU has at least 2 status bytes, got {len(raw)}")
    return ResponseApdu(raw[:-2], int.from_bytes(raw[-2:], "big"))
