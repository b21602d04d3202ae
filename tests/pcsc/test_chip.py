"""The twin card's APDU face, command by command, without a reader: exact status words."""

from __future__ import annotations

import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.apdu import digest_info, terminal
from twin.apdu.chip import ApduFault, ApduRefused, ChipSession
from twin.apdu.codec import CommandApdu
from twin.apdu.layout import PinRef
from twin.apdu.signing import verify_card_signature
from twin.card.rules import APP_USER
from twin.clock import jst
from twin.trust_events import PinRejected

NOW = jst(2026, 4, 1, 10)  # as in conftest.py: every card is valid then
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


def verify(chip, pin: str) -> str:
    return sw(chip, f"002000800{len(pin):X}" + pin.encode().hex())


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
    sw(chip, "00A4020C02001B")
    assert sw(chip, "00200080") == "63C5"  # the signing password allows 5


def test_three_wrong_pins_answer_63c2_63c1_then_6983_on_the_card_s_own_counter(
        chip, registry, serial, pins, wrong_pin):
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    assert [verify(chip, wrong_pin) for _ in range(3)] == ["63C2", "63C1", "6983"]
    assert verify(chip, pins.user) == "6983"
    assert sw(chip, "00200080") == "6983"
    card = registry.card(serial)
    assert card.tries_left("user") == 0 and card.is_locked("user")  # the registry's counter, not a copy
    rejected = [e for e in registry.events.of(PinRejected) if e.serial == serial]
    assert [e.tries_left for e in rejected] == [2, 1, 0]


def test_a_correct_pin_resets_the_counter(chip, registry, serial, pins, wrong_pin):
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    assert verify(chip, wrong_pin) == "63C2"
    assert verify(chip, pins.user) == "9000"
    assert registry.card(serial).tries_left("user") == 3
    assert sw(chip, "00200080") == "9000"  # already verified in this session


def test_a_pin_of_the_wrong_length_is_6700_and_costs_no_try(chip, registry, serial):
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    assert verify(chip, "12345") == "6700"
    assert verify(chip, "12") == "6700"
    assert registry.card(serial).tries_left("user") == 3


def test_a_pin_that_is_not_digits_is_6a80_and_costs_no_try(chip, registry, serial):
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    assert verify(chip, "12a4") == "6A80"
    assert registry.card(serial).tries_left("user") == 3


def test_verify_needs_a_pin_file_selected(chip, pins):
    select(chip, JPKI)
    assert verify(chip, pins.user) == "6986"
    sw(chip, "00A4020C02000A")
    assert verify(chip, pins.user) == "6986"


def test_the_user_certificate_reads_without_a_pin_and_is_the_card_s_own(chip, registry, serial, ca):
    select(chip, JPKI)
    cert = terminal.read_tlv_file(lambda c: chip.respond(c, NOW), 0x000A)
    assert cert == registry.card(serial).certificate()
    issued = x509.load_der_x509_certificate(cert)
    issued.verify_directly_issued_by(x509.load_der_x509_certificate(ca.root_der))
    sw(chip, "00A4020C02000B")
    assert terminal.read_tlv_file(lambda c: chip.respond(c, NOW), 0x000B) == ca.root_der


def test_the_signing_certificate_needs_the_signing_password(chip, registry, serial, pins):
    select(chip, JPKI)
    sw(chip, "00A4020C020001")
    assert sw(chip, "00B0000007") == "6982"
    sw(chip, "00A4020C02001B")
    assert verify(chip, pins.signing) == "9000"
    cert = terminal.read_tlv_file(lambda c: chip.respond(c, NOW), 0x0001)
    assert cert == registry.card(serial).certificate(1)


def test_the_basic_items_need_the_input_support_pin_and_match_the_card_face(chip, registry, serial, pins):
    select(chip, SUPPORT)
    sw(chip, "00A4020C020002")
    assert sw(chip, "00B0000007") == "6982"
    items = terminal.read_basic_items(lambda c: chip.respond(c, NOW), pins.support)
    face = registry.card(serial).face
    assert (items.name, items.address) == (face.name, face.address)
    assert (items.birth_date, items.sex) == (face.birth_date.strftime("%Y%m%d"), str(face.sex))


def test_the_my_number_file_needs_the_pin_and_holds_the_holder_s_number(chip, registry, serial, pins):
    from twin.apdu.layout import decode_my_number
    from twin.ids import format_my_number

    select(chip, SUPPORT)
    sw(chip, "00A4020C020011")
    assert verify(chip, pins.support) == "9000"
    raw = terminal.read_tlv_file(lambda c: chip.respond(c, NOW), 0x0001)
    resident = registry.card(serial).resident_id
    assert decode_my_number(raw) == format_my_number(int(registry.my_number[resident]))


def test_the_twin_face_record_reads_without_a_pin_and_carries_the_authority_s_seal(chip, registry, serial):
    card_id = terminal.read_card_id(lambda c: chip.respond(c, NOW))
    signed = registry.card(serial).read_face()
    assert card_id.card_serial == serial
    assert card_id.face.seal == signed.signature and card_id.face.expires_at == int(signed.expires_at)


def test_a_pin_verified_in_one_app_does_not_open_another(chip, pins):
    select(chip, SUPPORT)
    sw(chip, "00A4020C020011")
    assert verify(chip, pins.support) == "9000"
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


def sign_cmd(info: bytes, le: str = "00") -> str:
    return f"802A0080{len(info):02X}{info.hex()}{le}"


def test_signing_needs_the_key_selected_and_the_pin_verified(chip, registry, serial, pins):
    info = digest_info.of_message(b"kiosk challenge")
    select(chip, JPKI)
    assert sw(chip, sign_cmd(info)) == "6986"
    sw(chip, "00A4020C020017")
    assert sw(chip, sign_cmd(info)) == "6982"
    sw(chip, "00A4020C020018")
    verify(chip, pins.user)
    sw(chip, "00A4020C020017")
    assert sw(chip, sign_cmd(info, le="")) == "6700"  # no Le
    assert sw(chip, "802A008003AABBCC00") == "6A80"  # not a DigestInfo
    assert sw(chip, sign_cmd(digest_info.of_message(b"x", "sha1"))) == "6A80"  # SHA-256 only
    sig = data(chip, sign_cmd(info))
    public = x509.load_der_x509_certificate(registry.card(serial).certificate()).public_key()
    assert verify_card_signature(public, sig, b"kiosk challenge")
    assert sw(chip, sign_cmd(info)) == "6982"  # one signature per PIN verification, as the twin card


def test_a_signature_is_made_with_the_card_s_own_key_not_another_card_s(chip, registry, other_serial, pins):
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    verify(chip, pins.user)
    sw(chip, "00A4020C020017")
    sig = data(chip, sign_cmd(digest_info.of_message(b"c")))
    other = x509.load_der_x509_certificate(registry.card(other_serial).certificate()).public_key()
    assert not verify_card_signature(other, sig, b"c")


def test_a_reset_forgets_the_verified_pin(chip, pins):
    select(chip, JPKI)
    sw(chip, "00A4020C020018")
    verify(chip, pins.user)
    chip.reset()
    assert APP_USER not in chip.backend.card._open  # the card's own session state too
    select(chip, JPKI)
    sw(chip, "00A4020C020017")
    assert sw(chip, sign_cmd(digest_info.of_message(b"x"))) == "6982"


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


def test_refusals_are_recorded_as_events(chip, serial):
    sw(chip, "00990000")
    (event,) = chip.events.of(ApduRefused)
    assert (event.ins, event.sw, event.card_serial, event.at) == (0x99, 0x6D00, serial, NOW)


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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(commands, max_size=12))
def test_no_sequence_of_byte_strings_makes_the_chip_raise(chip_backend, script):
    chip = ChipSession(chip_backend)
    for raw in script:
        out = chip.respond(raw, NOW)
        assert len(out) >= 2
    assert chip.events.of(ApduFault) == []  # hostile input is refused, never a fault
    assert chip_backend.tries_left(PinRef.AUTH, NOW) >= 0


def test_an_rsa_2048_card_signs_a_challenge_as_sha256_with_rsa(small_city):
    """The real card's algorithm: the chip's signature verifies as SHA256withRSA of the challenge."""
    from twin.apdu.backend import CardChip
    from twin.card import CardRegistry
    from twin.pki import CertificateAuthority

    ca = CertificateAuthority(seed=5, algorithm="rsa2048")
    registry = CardRegistry.from_city(small_city, ca, NOW)
    serial = int(registry.serial[0])
    chip = ChipSession(CardChip(registry.card(serial)))
    signed = terminal.sign_challenge(lambda c: chip.respond(c, NOW), registry.pins(serial).user, b"nonce")
    public = x509.load_der_x509_certificate(signed.certificate).public_key()
    assert public.key_size == 2048 and len(signed.signature) == 256
    assert verify_card_signature(public, signed.signature, b"nonce")
    assert not verify_card_signature(public, signed.signature, b"other nonce")
