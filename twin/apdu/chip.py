"""The card's APDU face (ICチップのコマンド応答): a session that answers command APDUs.

A thin codec: PIN counters, keys and file contents belong to the card (a `ChipBackend`, see
`twin.apdu.backend` for the one over `twin.card.Card`); the session only keeps what a real
chip keeps between commands of one power-up — the selected application and file, and which
PINs were verified — and turns every outcome into an ISO status word. No exception escapes
`respond`: anything unexpected is answered 6F00 and recorded as an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

from twin.apdu.codec import (
    SW,
    CommandApdu,
    MalformedApdu,
    ResponseApdu,
    parse_command,
    tries_left_sw,
)
from twin.apdu.layout import APPLICATIONS, EF, MF_FID, BinaryEF, Content, KeyEF, PinEF, PinRef
from twin.errors import Forbidden, TwinError, ValidationError
from twin.events import Event, EventLog


@dataclass(frozen=True, slots=True)
class PinCheck:
    """What the card says after a PIN entry: accepted or not, and the tries left."""

    accepted: bool
    tries_left: int


class SecurityNotSatisfied(Forbidden):
    """The card logic refused an operation for want of a verified PIN (answered 6982)."""

    code = "security_status_not_satisfied"


class ChipBackend(Protocol):
    """The card logic the APDU face speaks for (the same counters and keys as the rest of the twin)."""

    serial: int

    def reset(self) -> None:
        """Power-up or reset: forget any PIN verified in the previous session."""
        ...

    def tries_left(self, pin: PinRef, now: float) -> int:
        """Tries left on `pin` without using one."""
        ...

    def verify(self, pin: PinRef, value: str, now: float) -> PinCheck:
        """Check `value` against `pin`, counting a wrong entry."""
        ...

    def content(self, what: Content, now: float, pin: str | None = None) -> bytes | None:
        """A file's bytes (`pin`: the file's verified PIN, if it has one); None if the card holds none."""
        ...

    def sign(self, key: PinRef, pin: str, digest_info: bytes, now: float) -> bytes:
        """Sign a DigestInfo with the key behind `key` (its PIN `pin` was verified this session)."""
        ...


@dataclass(frozen=True, slots=True)
class ApduRefused(Event):
    """The chip answered a command with an error status word."""

    card_serial: int
    cla: int
    ins: int
    sw: int
    kind: ClassVar[str] = "apdu_refused"


@dataclass(frozen=True, slots=True)
class ApduFault(Event):
    """Something unexpected failed inside the chip; it answered 6F00."""

    card_serial: int
    ins: int
    error: str
    kind: ClassVar[str] = "apdu_fault"


Handler = Callable[["ChipSession", CommandApdu, float], ResponseApdu]


def _sw(sw: int) -> ResponseApdu:
    return ResponseApdu(b"", sw)


class ChipSession:
    """One card's chip while it is powered in a reader: answers APDUs through its backend."""

    def __init__(self, backend: ChipBackend, events: EventLog | None = None) -> None:
        self.backend = backend
        self.events = events if events is not None else EventLog()
        self.reset()

    def reset(self) -> None:
        """Power-up or reset: nothing selected, no PIN verified."""
        self.backend.reset()
        self._aid: bytes | None = None
        self._ef: EF | None = None
        self._verified: dict[PinRef, str] = {}

    power_off = reset

    def respond(self, raw: bytes, now: float) -> bytes:
        """The response APDU (data + status word) to one command APDU; never raises."""
        try:
            cmd = parse_command(raw)
        except MalformedApdu as exc:
            return self._refused(raw[1] if len(raw) > 1 else 0, raw[0] if raw else 0, exc.sw, now)
        try:
            response = self._dispatch(cmd, now)
        except Exception as exc:  # noqa: BLE001 — the chip must answer; the event keeps the cause
            self.events.append(ApduFault(now, self.backend.serial, cmd.ins, repr(exc)))
            response = _sw(SW.NO_PRECISE_DIAGNOSIS)
        if response.sw != SW.OK:
            self.events.append(ApduRefused(now, self.backend.serial, cmd.cla, cmd.ins, response.sw))
        return response.to_bytes()

    def _refused(self, ins: int, cla: int, sw: int, now: float) -> bytes:
        self.events.append(ApduRefused(now, self.backend.serial, cla, ins, sw))
        return _sw(sw).to_bytes()

    def _dispatch(self, cmd: CommandApdu, now: float) -> ResponseApdu:
        if cmd.cla == 0xFF:
            return _sw(SW.CLA_NOT_SUPPORTED)
        proprietary = bool(cmd.cla & 0x80)
        if not proprietary:
            if cmd.cla & 0x03:
                return _sw(SW.LOGICAL_CHANNEL_NOT_SUPPORTED)
            if cmd.cla & 0x0C:
                return _sw(SW.SECURE_MESSAGING_NOT_SUPPORTED)
            if cmd.cla & 0x10:
                return _sw(SW.CHAINING_NOT_SUPPORTED)
        handler = HANDLERS.get((proprietary, cmd.ins))
        if handler is not None:
            try:
                return handler(self, cmd, now)
            except ValidationError:
                return _sw(SW.WRONG_DATA)
            except SecurityNotSatisfied:
                return _sw(SW.SECURITY_NOT_SATISFIED)
            except TwinError:
                return _sw(SW.CONDITIONS_NOT_SATISFIED)
        if (not proprietary, cmd.ins) in HANDLERS:
            return _sw(SW.CLA_NOT_SUPPORTED)
        return _sw(SW.INS_NOT_SUPPORTED)

    # SELECT (A4) -----------------------------------------------------------------------------
    def _select(self, cmd: CommandApdu, now: float) -> ResponseApdu:
        if cmd.p2 not in (0x00, 0x04, 0x0C):
            return _sw(SW.INCORRECT_P1P2)
        if cmd.p1 == 0x04:
            return self._select_df(cmd.data)
        if cmd.p1 in (0x00, 0x02):
            if cmd.p1 == 0x00 and cmd.data in (b"", MF_FID.to_bytes(2, "big")):
                self._enter(None)
                return _sw(SW.OK)
            if len(cmd.data) != 2:
                return _sw(SW.WRONG_LENGTH)
            return self._select_ef(int.from_bytes(cmd.data, "big"))
        return _sw(SW.INCORRECT_P1P2)

    def _select_df(self, aid: bytes) -> ResponseApdu:
        if not 5 <= len(aid) <= 16:
            return _sw(SW.WRONG_LENGTH)
        if aid not in APPLICATIONS:
            return _sw(SW.FILE_NOT_FOUND)
        self._enter(aid)
        return _sw(SW.OK)

    def _enter(self, aid: bytes | None) -> None:
        if aid != self._aid:
            self._verified = {}  # PIN status is per application, as on the real card
        self._aid, self._ef = aid, None

    def _select_ef(self, fid: int) -> ResponseApdu:
        ef = APPLICATIONS.get(self._aid, {}).get(fid) if self._aid else None
        if ef is None:
            return _sw(SW.FILE_NOT_FOUND)
        self._ef = ef
        return _sw(SW.OK)

    # VERIFY (20) -----------------------------------------------------------------------------
    def _verify(self, cmd: CommandApdu, now: float) -> ResponseApdu:
        if cmd.p1 != 0x00 or cmd.p2 != 0x80:
            return _sw(SW.INCORRECT_P1P2)
        if not isinstance(self._ef, PinEF):
            return _sw(SW.NO_CURRENT_EF)
        if cmd.ne is not None:
            return _sw(SW.WRONG_LENGTH)
        ef = self._ef
        if not cmd.data:
            return self._pin_status(ef.pin, now)
        if not ef.min_len <= len(cmd.data) <= ef.max_len:
            return _sw(SW.WRONG_LENGTH)
        value = cmd.data.decode("latin-1")
        check = self.backend.verify(ef.pin, value, now)
        if check.accepted:
            self._verified[ef.pin] = value
            return _sw(SW.OK)
        self._verified.pop(ef.pin, None)
        # The entry that uses the last try answers 6983 (locked), as the twin's rule and the
        # issue ask; some real cards answer 63C0 first and 6983 only afterwards.
        return _sw(tries_left_sw(check.tries_left) if check.tries_left else SW.AUTH_METHOD_BLOCKED)

    def _pin_status(self, pin: PinRef, now: float) -> ResponseApdu:
        tries = self.backend.tries_left(pin, now)
        if tries == 0:
            return _sw(SW.AUTH_METHOD_BLOCKED)
        if pin in self._verified:
            return _sw(SW.OK)  # ISO 7816-4: no verification needed any more
        return _sw(tries_left_sw(tries))

    # READ BINARY (B0) ------------------------------------------------------------------------
    def _read_binary(self, cmd: CommandApdu, now: float) -> ResponseApdu:
        if cmd.p1 & 0x80:
            return _sw(SW.FUNCTION_NOT_SUPPORTED)  # short EF identifiers are not offered
        if cmd.data or cmd.ne is None:
            return _sw(SW.WRONG_LENGTH)
        if self._ef is None:
            return _sw(SW.NO_CURRENT_EF)
        if not isinstance(self._ef, BinaryEF):
            return _sw(SW.INCOMPATIBLE_FILE_STRUCTURE)
        pin = None
        if self._ef.requires is not None:
            pin = self._verified.get(self._ef.requires)
            if pin is None:
                return _sw(SW.SECURITY_NOT_SATISFIED)
        content = self.backend.content(self._ef.content, now, pin)
        if content is None:
            return _sw(SW.FILE_NOT_FOUND)
        offset = (cmd.p1 << 8) | cmd.p2
        if offset > len(content):
            return _sw(SW.WRONG_P1P2)
        chunk = content[offset : offset + cmd.ne]
        short = len(chunk) < cmd.ne and cmd.ne not in (256, 65536)  # Le=00: "as many as there are"
        return ResponseApdu(chunk, SW.END_OF_FILE if short else SW.OK)

    # COMPUTE DIGITAL SIGNATURE (80 2A 00 80) ----------------------------------------------------
    def _sign(self, cmd: CommandApdu, now: float) -> ResponseApdu:
        if (cmd.p1, cmd.p2) != (0x00, 0x80):
            return _sw(SW.INCORRECT_P1P2)
        if not cmd.data or cmd.ne is None:
            return _sw(SW.WRONG_LENGTH)
        if not isinstance(self._ef, KeyEF):
            return _sw(SW.NO_CURRENT_EF)
        pin = self._verified.get(self._ef.pin)
        if pin is None:
            return _sw(SW.SECURITY_NOT_SATISFIED)
        signature = self.backend.sign(self._ef.pin, pin, cmd.data, now)
        # The twin card's rule (`Card.sign`): one signature per PIN verification; VERIFY again.
        del self._verified[self._ef.pin]
        if len(signature) > cmd.ne:
            return _sw(SW.WRONG_LENGTH)
        return ResponseApdu(signature, SW.OK)


# (proprietary class?, INS) -> handler. INS 2A is offered in class 80 only, as the readers use it.
HANDLERS: dict[tuple[bool, int], Handler] = {
    (False, 0xA4): ChipSession._select,
    (False, 0x20): ChipSession._verify,
    (False, 0xB0): ChipSession._read_binary,
    (True, 0x2A): ChipSession._sign,
}
