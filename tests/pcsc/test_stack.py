"""The real PC/SC stack on this machine: pcscd, vpcd's virtual readers, pyscard."""

from __future__ import annotations

import pytest

from devices.vpcd import VirtualCard, atr_with_checksum

pytestmark = pytest.mark.pcsc  # needs pcscd + vpcd + pyscard

TWIN_ATR = atr_with_checksum(b"mynatwin")


class EchoCard:
    """A minimal card: answers 9000 to SELECT and 6D00 to anything else."""

    def __init__(self) -> None:
        self.powered = 0

    def atr(self) -> bytes:
        return TWIN_ATR

    def power_on(self) -> None:
        self.powered += 1

    def power_off(self) -> None:
        pass

    def transmit(self, apdu: bytes) -> bytes:
        return b"\x90\x00" if apdu[1] == 0xA4 else b"\x6d\x00"


def test_an_atr_carries_a_correct_check_byte():
    assert TWIN_ATR.hex().upper() == "3B888001" + b"mynatwin".hex().upper() + "16"  # 88^80^01^(XOR of the text)
    assert atr_with_checksum(b"").hex() == "3b80800101"


def test_pcscd_shows_vpcd_s_two_virtual_readers(pcsc_stack):
    names = pcsc_stack.readers()
    assert "Virtual PCD 00 00" in names and "Virtual PCD 00 01" in names


def test_pyscard_connects_reads_the_atr_and_transmits_through_a_virtual_card(pcsc_stack, reader0):
    from smartcard.System import readers

    card = EchoCard()
    with VirtualCard(card, slot=0) as vc:
        assert pcsc_stack.wait_for(reader0, present=True)
        reader = next(r for r in readers() if str(r) == reader0)
        conn = reader.createConnection()
        conn.connect()
        assert bytes(conn.getATR()) == TWIN_ATR
        aid = list(bytes.fromhex("D392F000260100000001"))
        assert conn.transmit([0x00, 0xA4, 0x04, 0x0C, len(aid), *aid]) == ([], 0x90, 0x00)
        assert conn.transmit([0x00, 0x99, 0x00, 0x00]) == ([], 0x6D, 0x00)
        conn.disconnect()
        assert vc.exchanges == 2 and card.powered >= 1
    assert pcsc_stack.wait_for(reader0, present=False)
