"""The twin card in a real pcscd through vpcd, spoken to with pyscard as any PC/SC program would."""

from __future__ import annotations

import pytest

from devices.pcsc import CardConnection
from devices.twin_card import TWIN_ATR
from twin.apdu import terminal
from twin.apdu.remote_chip import RemoteChip
from twin.identity import Assurance
from twin.reader import Reader
from twin.trust_errors import WrongPin

from .conftest import NOW, reader_name

pytestmark = pytest.mark.pcsc  # needs pcscd + vpcd + pyscard

JPKI_SELECT = bytes.fromhex("00A4040C0AD392F000260100000001")


def sw(conn: CardConnection, hexcmd: str) -> str:
    return conn.transmit(bytes.fromhex(hexcmd))[-2:].hex().upper()


def test_pcsc_programs_see_the_twin_card_with_its_atr(insert_card, serial):
    insert_card(serial)
    with CardConnection(reader_name(0)) as conn:
        assert conn.atr == TWIN_ATR


def test_three_wrong_pins_sent_as_apdus_lock_the_card(insert_card, registry, serial, wrong_pin, pins):
    insert_card(serial)
    with CardConnection(reader_name(0)) as conn:
        assert sw(conn, JPKI_SELECT.hex()) == "9000"
        assert sw(conn, "00A4020C020018") == "9000"
        assert sw(conn, "00200080") == "63C3"
        entries = [sw(conn, "0020008004" + wrong_pin.encode().hex()) for _ in range(3)]
        assert entries == ["63C2", "63C1", "6983"]
        assert sw(conn, "0020008004" + pins.user.encode().hex()) == "6983"
    assert registry.card(serial).is_locked("user")


@pytest.mark.parametrize("cmd, expected", [
    ("00990000", "6D00"),  # unknown instruction
    ("FFA4040C00", "6E00"),  # invalid class
    ("00A4040C05D392", "6700"),  # Lc says 5 bytes, 2 follow
    ("00A4040C0AA0000000000000000000", "6A82"),  # no such application
    ("00B0000007", "6986"),  # READ BINARY with no file selected
    ("802A00800400000000" + "00", "6986"),  # signing with no key selected
    ("00200080", "6986"),  # VERIFY with no PIN file selected
])
def test_malformed_and_out_of_order_apdus_get_status_words_through_pcscd(insert_card, serial, cmd, expected):
    insert_card(serial)
    with CardConnection(reader_name(0)) as conn:
        assert sw(conn, cmd) == expected
        assert sw(conn, JPKI_SELECT.hex()) == "9000"  # the card still answers afterwards


def test_the_twin_reader_authenticates_a_card_through_pcscd_with_high_assurance(
        insert_card, ca, registry, serial, pins):
    insert_card(serial)
    reader = Reader(ca, registry, reader_id="kiosk-pcsc")
    with CardConnection(reader_name(0)) as conn:
        ident = reader.authenticate(RemoteChip(conn.transmit), pins.user, NOW)
    assert ident.assurance is Assurance.HIGH and ident.method == "jpki_user_cert"
    assert (ident.card_serial, ident.resident_id) == (serial, registry.card(serial).resident_id)


def test_the_twin_reader_reads_the_serial_through_pcscd_without_a_pin(insert_card, ca, registry, serial):
    insert_card(serial)
    reader = Reader(ca, registry, reader_id="shelter-pcsc")
    with CardConnection(reader_name(0)) as conn:
        ident = reader.read_serial(RemoteChip(conn.transmit), NOW)
    assert ident.assurance is Assurance.MEDIUM and ident.card_serial == serial
    assert registry.card(serial).tries_left("user") == 3  # no PIN was touched


def test_a_wrong_pin_through_pcscd_is_the_twin_s_wrong_pin_with_tries_left(
        insert_card, ca, registry, serial, wrong_pin):
    insert_card(serial)
    reader = Reader(ca, registry, reader_id="kiosk-pcsc")
    with CardConnection(reader_name(0)) as conn, pytest.raises(WrongPin) as exc:
        reader.authenticate(RemoteChip(conn.transmit), wrong_pin, NOW)
    assert exc.value.tries_left == 2


def test_two_virtual_readers_hold_two_different_cards(insert_card, serial, other_serial):
    insert_card(serial, slot=0)
    insert_card(other_serial, slot=1)
    seen = []
    for slot in (0, 1):
        with CardConnection(reader_name(slot)) as conn:
            seen.append(terminal.read_card_id(conn.transmit).card_serial)
    assert seen == [serial, other_serial]
