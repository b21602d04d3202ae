"""PC/SC through pyscard: list readers, watch for presented cards, talk to a card.

Works the same with a real reader (e.g. a Sony PaSoRi) and with vpcd's virtual readers.
pyscard is the project's optional extra `pcsc` (`uv sync --all-extras`); it is imported here
lazily so the rest of the project runs without it.
"""

from __future__ import annotations

import time
from types import ModuleType

from twin.errors import TwinError


class PcscUnavailable(TwinError):
    """No PC/SC service: pyscard is not installed or pcscd is not running."""

    code = "pcsc_unavailable"
    status = 503


class CardGone(TwinError):
    """The card left the reader (or the reader vanished) in the middle of an exchange."""

    code = "card_gone"
    status = 409


def _scard() -> ModuleType:
    try:
        from smartcard import scard
    except ImportError as exc:
        raise PcscUnavailable("pyscard is not installed; run `uv sync --extra pcsc` "
                              "(needs Debian's libpcsclite-dev and swig)") from exc
    return scard


class PcscContext:
    """A PC/SC resource-manager context (SCardEstablishContext) and the calls made through it."""

    def __init__(self) -> None:
        self.scard = _scard()
        rc, self.handle = self.scard.SCardEstablishContext(self.scard.SCARD_SCOPE_USER)
        if rc != self.scard.SCARD_S_SUCCESS:
            raise PcscUnavailable(f"cannot reach pcscd ({self.scard.SCardGetErrorMessage(rc).strip()}); "
                                  "start it: `sudo systemctl start pcscd` or `bash .ci/start-pcsc.sh`")

    def close(self) -> None:
        """Release the context."""
        if self.handle is not None:
            self.scard.SCardReleaseContext(self.handle)
            self.handle = None

    def __enter__(self) -> PcscContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def readers(self) -> list[str]:
        """The names of the readers pcscd knows now (empty when there are none)."""
        s = self.scard
        rc, names = s.SCardListReaders(self.handle, [])
        if rc == s.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if rc != s.SCARD_S_SUCCESS:
            raise PcscUnavailable(f"listing readers failed: {s.SCardGetErrorMessage(rc)}")
        return list(names)

    def present(self, timeout: float = 0.0, readers: list[str] | None = None) -> dict[str, bool]:
        """Whether each reader holds a card, waiting up to `timeout` seconds for a change."""
        s = self.scard
        names = self.readers() if readers is None else readers
        if not names:
            time.sleep(timeout)
            return {}
        states = [(n, s.SCARD_STATE_UNAWARE) for n in names]
        rc, states = s.SCardGetStatusChange(self.handle, 0, states)
        if rc == s.SCARD_S_SUCCESS and timeout > 0:
            current = [(n, st & ~s.SCARD_STATE_CHANGED) for n, st, _ in states]
            rc2, changed = s.SCardGetStatusChange(self.handle, int(timeout * 1000), current)
            if rc2 == s.SCARD_S_SUCCESS:
                states = changed
        if rc != s.SCARD_S_SUCCESS:
            raise PcscUnavailable(f"reading reader states failed: {s.SCardGetErrorMessage(rc)}")
        return {n: bool(st & s.SCARD_STATE_PRESENT) and not st & s.SCARD_STATE_MUTE
                for n, st, _ in states}

    def wait_for(self, reader: str, present: bool, timeout: float = 5.0) -> bool:
        """Wait until `reader` does (or does not) hold a card; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.present(0.0, [reader]).get(reader, False) == present:
                return True
            time.sleep(0.05)
        return False


class CardConnection:
    """An exclusive connection to the card in one reader; `transmit` speaks raw APDU bytes."""

    def __init__(self, reader: str) -> None:
        from smartcard.Exceptions import CardConnectionException, NoCardException
        from smartcard.pcsc.PCSCReader import PCSCReader

        self.reader = reader
        self._errors = (CardConnectionException, NoCardException)
        self._conn = PCSCReader(reader).createConnection()
        try:
            self._conn.connect(mode=_scard().SCARD_SHARE_EXCLUSIVE)
        except self._errors as exc:
            raise CardGone(f"no card to connect to in {reader!r}: {exc}") from exc

    @property
    def atr(self) -> bytes:
        """The card's answer to reset."""
        return bytes(self._conn.getATR())

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; the response data followed by SW1 SW2."""
        try:
            data, sw1, sw2 = self._conn.transmit(list(apdu))
        except self._errors as exc:
            raise CardGone(f"the card left {self.reader!r} mid-exchange: {exc}") from exc
        return bytes(data) + bytes((sw1, sw2))

    def close(self) -> None:
        """Disconnect (leaving the card in the reader); never raises."""
        try:
            self._conn.disconnect()
        except self._errors:
            pass
        try:
            self._conn.release()
        except (AttributeError, *self._errors):
            pass

    def __enter__(self) -> CardConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
