"""The card's APDU face, command by command, without a reader: exact status words."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.apdu import digest_info, terminal
from twin.apdu.chip import ApduFault, ApduRefused, ChipSession
from twin.apdu.codec import CommandApdu
from twin.apdu.layout import Content, PinRef

NOW = 1_750_000_000.0
JPKI = "D392F000260100000001"
SUPPORT = "D3921000310001010408"


@pytest.fixture
def chip(chip_backend):
    return ChipSession(chip_backend)


def sw(chip, hexcmd: str) -> str:
    """Send a command given in hex; the status word in hex."""
    return chip.respond(bytes.fromhex(hexcmd.replace(" ", "")), NOW)[-2:].hex().upper()


def data(chip, hexcmd: str) -> bytes:
    out = chip.respond(bytes.fromhex(hexcmd.replace(" ", "")), NOW)
    assert out[-2:] == b"\x90\x00", out[-2:].hex()
    return out[:-2]


def select(chip, aid: str) -> str:
    return sw(chip, f"00A4040C{len(aid) // 2:02X}{aid}")


def test_select_by_aid_finds_the_jpki_and_input_support_apps_and_not_others(chip):
    assert select(chip, JPKI) == "9000"
    assert select(chip, SUPPORT) == "9000"
    assert select(chip, "A0000000031010") == "6A82"


def test_select_by_file_id_needs_an_app_and_two_bytes(chip):
    assert sw(chip, "00A4020C02000A") == "6A82"  # no application selected yet
    select(chip, JPKI)
    assert sw(chip, "00A4020C02000A") == "9000"
    assert sw(chip, "00A4020C020099") == "6A82"
    assert sw(chip, "00A4020C03000A00") == "6700"
    assert sw(chip, "00A4090C02000A") == "6A86"


def test_verify_without_data_reports_the_tries_left(chip):
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    assert sw(chip, "00200080") == "63C3"


def test_three_wrong_pins_answer_63c2_63c1_then_6983_and_the_right_pin_no_longer_helps(chip, chip_backend):
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    wrong = b"9999".hex()
    assert [sw(chip, f"0020008004{wrong}") for _ in range(3)] == ["63C2", "63C1", "6983"]
    assert sw(chip, "0020008004" + b"1234".hex()) == "6983"
    assert sw(chip, "00200080") == "6983"
    assert chip_backend.tries_left(PinRef.AUTH, NOW) == 0  # the card's own counter, not a copy


def test_a_correct_pin_resets_the_counter(chip, chip_backend):
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    assert sw(chip, "0020008004" + b"0000".hex()) == "63C2"
    assert sw(chip, "0020008004" + b"1234".hex()) == "9000"
    assert chip_backend.tries_left(PinRef.AUTH, NOW) == 3
    assert sw(chip, "00200080") == "9000"  # already verified in this session


def test_a_pin_of_the_wrong_length_is_6700_and_costs_no_try(chip, chip_backend):
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    assert sw(chip, "0020008005" + b"12345".hex()) == "6700"
    assert chip_backend.tries_left(PinRef.AUTH, NOW) == 3


def test_verify_needs_a_pin_file_selected(chip):
    select(chip, JPKI)
    assert sw(chip, "0020008004" + b"1234".hex()) == "6986"
    sw(chip, "00A4020C02000A")
    assert sw(chip, "0020008004" + b"1234".hex()) == "6986"


def test_the_user_certificate_reads_without_a_pin(chip, chip_backend):
    select(chip, JPKI)
    cert = terminal.read_tlv_file(lambda c: chip.respond(c, NOW), 0x000A)
    assert cert == chip_backend.content(Content.AUTH_CERT, NOW)
    x509.load_der_x509_certificate(cert)


def test_the_basic_items_need_the_input_support_pin(chip):
    select(chip, SUPPORT)
    sw(chip, "00A4020C020002")
    assert sw(chip, "00B0000007") == "6982"
    items = terminal.read_basic_items(lambda c: chip.respond(c, NOW), "1234")
    assert (items.name, items.birth_date, items.sex) == ("山田 花子", "19900401", "2")


def test_a_pin_verified_in_one_app_does_not_open_another(chip):
    select(chip, SUPPORT)
    sw(chip, "00A4020C020011")
    assert sw(chip, "0020008004" + b"1234".hex()) == "9000"
    select(chip, JPKI)
    select(chip, SUPPORT)
    sw(chip, "00A4020C020002")
    assert sw(chip, "00B0000007") == "6982"


def test_read_binary_checks_lengths_offsets_and_file_kinds(chip):
    assert sw(chip, "00B0000007") == "6986"  # nothing selected
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    assert sw(chip, "00B0000007") == "6981"  # a PIN file is not readable
    sw(chip, "00A4020C020006")
    assert sw(chip, "00B00000") == "6700"  # no Le
    assert sw(chip, "00B0000001AA") == "6700"  # data where none belongs
    assert sw(chip, "00B0010000") == "6B00"  # offset 256 is past the 32-byte token file
    assert sw(chip, "00B0001E04") == "6282"  # 2 of 4 bytes left
    assert sw(chip, "00B0800000") == "6A81"  # short EF identifiers are not offered
    assert data(chip, "00B0000020").rstrip(b" ") == b"JPKIAPICCTOKEN2"


def test_signing_needs_the_key_selected_and_the_pin_verified(chip, chip_backend):
    info = digest_info.of_message(b"kiosk challenge").hex()
    select(chip, JPKI)
    assert sw(chip, f"802A0080{len(info) // 2:02X}{info}00") == "6986"
    sw(chip, "00A4020C020017")
    assert sw(chip, f"802A0080{len(info) // 2:02X}{info}00") == "6982"
    sw(chip, "00A4020C020018")
    sw(chip, "0020008004" + b"1234".hex())
    sw(chip, "00A4020C020017")
    assert sw(chip, f"802A0080{len(info) // 2:02X}{info}") == "6700"  # no Le
    assert sw(chip, "802A008003AABBCC00") == "6A80"  # not a DigestInfo
    sig = data(chip, f"802A0080{len(info) // 2:02X}{info}00")
    cert = x509.load_der_x509_certificate(chip_backend.content(
        Content.AUTH_CERT, NOW))
    cert.public_key().verify(sig, b"kiosk challenge", padding.PKCS1v15(), hashes.SHA256())


def test_a_reset_forgets_the_verified_pin(chip):
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    sw(chip, "0020008004" + b"1234".hex())
    chip.reset()
    select(chip, JPKI)
    sw(chip, "00A4020C020017")
    info = digest_info.of_message(b"x").hex()
    assert sw(chip, f"802A0080{len(info) // 2:02X}{info}00") == "6982"


@pytest.mark.parametrize("cmd, expected", [
    ("00990000", "6D00"),  # unknown instruction
    ("00C00000", "6D00"),  # GET RESPONSE is not offered
    ("FFA4040C00", "6E00"),  # invalid class
    ("002A0080", "6E00"),  # signing exists in class 80 only
    ("80A4040C00", "6E00"),  # SELECT exists in class 00 only
    ("01A4040C02AABB", "6881"),  # logical channel 1
    ("0CA4040C02AABB", "6882"),  # secure messaging
    ("10A4040C02AABB", "6884"),  # command chaining
    ("00A4", "6700"),  # too short to be a command
    ("00A4040C05D392", "6700"),  # Lc larger than the data
])
def test_hostile_commands_get_iso_status_words(chip, cmd, expected):
    assert sw(chip, cmd) == expected


def test_refusals_are_recorded_as_events(chip):
    sw(chip, "00990000")
    (event,) = chip.events.of(ApduRefused)
    assert (event.ins, event.sw, event.card_serial) == (0x99, 0x6D00, chip.backend.serial)


def test_a_failure_inside_the_card_logic_answers_6f00_and_is_recorded(chip, chip_backend):
    def broken(*_args):
        raise RuntimeError("disk on fire")

    chip_backend.tries_left = broken
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    assert sw(chip, "00200080") == "6F00"
    (fault,) = chip.events.of(ApduFault)
    assert "disk on fire" in fault.error


commands = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda cla, ins, p1, p2, body, ne: CommandApdu(cla, ins, p1, p2, body, ne).to_bytes(),
              st.sampled_from([0x00, 0x80, 0x0C, 0xFF]), st.sampled_from([0xA4, 0x20, 0xB0, 0x2A, 0x99]),
              st.integers(0, 255), st.integers(0, 255),
              st.one_of(st.binary(max_size=40), st.sampled_from([bytes.fromhex(JPKI), b"\x00\x0a",
                                                                 b"\x00\x18", b"\x00\x17", b"1234"])),
              st.none() | st.integers(1, 300)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(commands, max_size=12))
def test_no_sequence_of_byte_strings_makes_the_chip_raise(chip_backend, script):
    chip = ChipSession(chip_backend)
    for raw in script:
        out = chip.respond(raw, NOW)
        assert len(out) >= 2
    assert chip.events.of(ApduFault) == []  # hostile input is refused, never a fault
