"""A virtual card in a real PC/SC reader: a client of vsmartcard's vpcd driver inside pcscd.

pcscd's vpcd driver (Debian package vsmartcard-vpcd) listens on 127.0.0.1:35963 for the first
virtual reader ("Virtual PCD 00 00") and 35964 for the second. A card "is inserted" while a
TCP client is connected. Each message is a 2-byte big-endian length and a payload; a 1-byte
payload is a control (0 power off, 1 power on, 2 reset, 4 send the ATR); a longer payload is a
command APDU, answered with the response APDU. Any PC/SC program on the machine (pyscard,
opensc, a browser plug-in) then sees a reader with a card in it.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from typing import Protocol

log = logging.getLogger(__name__)

VPCD_HOST = "127.0.0.1"
VPCD_PORT = 35963  # slot 0; slot n listens on VPCD_PORT + n
POWER_OFF, POWER_ON, RESET, GET_ATR = 0, 1, 2, 4
NO_PRECISE_DIAGNOSIS = b"\x6f\x00"
# pcscd polls a vpcd reader's presence every 0.4 s. A card that reconnects before a poll has
# seen the slot empty is taken for the old card (and, after a pull mid-command, is not seen at
# all), so a new insertion waits until this long after the slot was last vacated.
SETTLE = 1.0
_vacated: dict[tuple[str, int], float] = {}


def atr_with_checksum(historical: bytes) -> bytes:
    """A T=1 ATR (3B 8K 80 01 hist TCK, the PC/SC contactless form) with its check byte."""
    if len(historical) > 15:
        raise ValueError(f"at most 15 historical bytes, got {len(historical)}")
    body = bytes((0x80 | len(historical), 0x80, 0x01)) + historical
    tck = 0
    for b in body:
        tck ^= b
    return b"\x3b" + body + bytes((tck,))


class CardRemoved(Exception):
    """Raised by a handler to pull the card out in the middle of a command (no answer is sent)."""


class ApduHandler(Protocol):
    """What answers for the card: its ATR, power events and command APDUs."""

    def atr(self) -> bytes:
        """The answer-to-reset bytes."""
        ...

    def power_on(self) -> None:
        """The reader powered the card (or reset it)."""
        ...

    def power_off(self) -> None:
        """The reader cut the card's power."""
        ...

    def transmit(self, apdu: bytes) -> bytes:
        """The response APDU to a command APDU."""
        ...


def slot_port(slot: int) -> int:
    """The vpcd TCP port of virtual reader `slot` (0: 'Virtual PCD 00 00')."""
    if not 0 <= slot < 16:
        raise ValueError(f"vpcd slot must be 0..15, got {slot}")
    return VPCD_PORT + slot


class VirtualCard:
    """A card inserted into vpcd slot `slot` while `insert()`ed; answers with `handler`."""

    def __init__(self, handler: ApduHandler, slot: int = 0, host: str = VPCD_HOST) -> None:
        self.handler = handler
        self.address = (host, slot_port(slot))
        self.exchanges = 0  # command APDUs answered
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def inserted(self) -> bool:
        """Whether the card is connected to the reader."""
        return self._thread is not None and self._thread.is_alive()

    def insert(self, timeout: float = 5.0) -> VirtualCard:
        """Connect to the reader slot (pcscd then reports a card present)."""
        with self._lock:
            if self.inserted:
                return self
            wait = _vacated.get(self.address, 0.0) + SETTLE - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            sock = socket.create_connection(self.address, timeout=timeout)
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
            self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True,
                                            name=f"vpcd-card-{self.address[1]}")
            self._thread.start()
        return self

    def remove(self, timeout: float = 5.0) -> None:
        """Disconnect from the reader (pcscd then reports the slot empty)."""
        with self._lock:
            sock, thread = self._sock, self._thread
            self._sock = None
        if sock is not None:
            _close(sock)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def __enter__(self) -> VirtualCard:
        return self.insert()

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                payload = _recv_message(sock)
                if payload is None:
                    return
                reply = self._answer(payload)
                if reply is not None:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)
        except CardRemoved:
            log.info("card pulled out of %s:%d mid-command", *self.address)
        except OSError as exc:
            log.debug("vpcd connection %s:%d ended: %s", *self.address, exc)
        finally:
            _close(sock)
            _vacated[self.address] = time.monotonic()

    def _answer(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            return self._control(payload[0])
        self.exchanges += 1
        try:
            return self.handler.transmit(payload)
        except CardRemoved:
            raise
        except Exception:  # noqa: BLE001 — a card always answers; the log keeps the cause
            log.exception("virtual card handler failed on %s", payload.hex())
            return NO_PRECISE_DIAGNOSIS

    def _control(self, code: int) -> bytes | None:
        if code == GET_ATR:
            return self.handler.atr()
        if code == POWER_OFF:
            self.handler.power_off()
        elif code in (POWER_ON, RESET):
            self.handler.power_on()
        else:
            log.warning("unknown vpcd control byte %d", code)
        return None


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        _quick_ack(sock)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _recv_message(sock: socket.socket) -> bytes | None:
    head = _recv_exact(sock, 2)
    if head is None:
        return None
    (n,) = struct.unpack(">H", head)
    return _recv_exact(sock, n) if n else b""


def _quick_ack(sock: socket.socket) -> None:
    """Acknowledge at once (Linux): Debian's vpcd sends the length and the APDU as two writes, and a
    delayed ACK of the first would hold the second back by Nagle's algorithm for ~40 ms."""
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        except OSError:
            pass


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
