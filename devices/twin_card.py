"""The twin's card as a vpcd virtual card: its chip session answers the reader's APDUs."""

from __future__ import annotations

import time
from collections.abc import Callable

from devices.vpcd import ApduHandler, VirtualCard, atr_with_checksum
from twin.apdu.chip import ChipSession

# T=1 ATR with the historical bytes "mynatwin" (twin only; a real card's ATR differs).
TWIN_ATR = atr_with_checksum(b"mynatwin")


class TwinCardHandler(ApduHandler):
    """Answers vpcd for one `ChipSession`, stamping each command with the wall clock."""

    def __init__(self, session: ChipSession, clock: Callable[[], float] = time.time) -> None:
        self.session = session
        self.clock = clock

    def atr(self) -> bytes:
        """The twin card's ATR."""
        return TWIN_ATR

    def power_on(self) -> None:
        """Power-up: nothing selected, no PIN verified."""
        self.session.reset()

    def power_off(self) -> None:
        """Power cut: the chip forgets its session state."""
        self.session.power_off()

    def transmit(self, apdu: bytes) -> bytes:
        """The chip's answer at the current time."""
        return self.session.respond(apdu, self.clock())


def virtual_twin_card(session: ChipSession, slot: int = 0,
                      clock: Callable[[], float] = time.time) -> VirtualCard:
    """A not-yet-inserted virtual card in vpcd slot `slot` that answers with `session`."""
    return VirtualCard(TwinCardHandler(session, clock), slot=slot)
