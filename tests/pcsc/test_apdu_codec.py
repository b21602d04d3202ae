"""ISO 7816-4 command/response APDU encoding, TLV and DigestInfo: exact bytes and hostile input."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.apdu import digest_info
from twin.apdu.codec import CommandApdu, MalformedApdu, parse_command, parse_response, tries_left_sw
from twin.apdu.layout import (
    BasicItems,
    FaceRecord,
    decode_basic_items,
    decode_face,
    decode_my_number,
    encode_basic_items,
    encode_face,
    encode_my_number,
)
from twin.apdu.tlv import TlvError, read_tlv, tlv, total_length
from twin.errors import ValidationError


def test_a_case_1_command_has_no_data_and_no_le():
    assert parse_command(bytes.fromhex("00200080")) == CommandApdu(0x00, 0x20, 0x00, 0x80)


def test_le_00_in_a_short_command_asks_for_256_bytes():
    assert parse_command(bytes.fromhex("00B0000000")).ne == 256
    assert parse_command(bytes.fromhex("00B0000007")).ne == 7


def test_a_short_case_4_command_carries_data_and_le():
    cmd = parse_command(bytes.fromhex("802A008003AABBCC00"))
    assert (cmd.cla, cmd.ins, cmd.data, cmd.ne) == (0x80, 0x2A, b"\xaa\xbb\xcc", 256)


def test_extended_lengths_are_parsed():
    cmd = parse_command(bytes.fromhex("00B00000") + b"\x00\x01\x00")
    assert cmd.ne == 256 and cmd.data == b""
    cmd = parse_command(bytes.fromhex("802A0080") + b"\x00\x01\x2c" + bytes(300) + b"\x00\x00")
    assert len(cmd.data) == 300 and cmd.ne == 65536


def test_the_select_the_readers_send_encodes_to_the_published_bytes():
    cmd = CommandApdu(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("D392F000260100000001"))
    assert cmd.to_bytes().hex().upper() == "00A4040C0AD392F000260100000001"


@pytest.mark.parametrize("raw", ["", "00", "00A404", "00A4040C05D392", "00A4040C02AABBCCDD",
                                 "00B00000000002AA", "00B000000000", "00B0000000000300"])
def test_malformed_commands_are_refused_with_6700(raw):
    with pytest.raises(MalformedApdu) as exc:
        parse_command(bytes.fromhex(raw))
    assert exc.value.sw == 0x6700


@given(cla=st.integers(0, 255), ins=st.integers(0, 255), p1=st.integers(0, 255), p2=st.integers(0, 255),
       data=st.binary(max_size=600), ne=st.none() | st.integers(1, 65536))
def test_every_command_survives_an_encode_parse_round_trip(cla, ins, p1, p2, data, ne):
    cmd = CommandApdu(cla, ins, p1, p2, data, ne)
    assert parse_command(cmd.to_bytes()) == cmd


def test_a_response_splits_into_data_and_status_word():
    r = parse_response(bytes.fromhex("AABB63C2"))
    assert r.data == b"\xaa\xbb" and r.sw == 0x63C2 and r.sw_hex == "63C2" and not r.ok
    with pytest.raises(MalformedApdu):
        parse_response(b"\x90")


def test_tries_left_fit_the_63cx_status_word():
    assert tries_left_sw(2) == 0x63C2
    with pytest.raises(ValidationError):
        tries_left_sw(16)


def test_tlv_lengths_use_the_short_and_long_forms():
    assert tlv(b"\xdf\x22", b"x") == bytes.fromhex("DF220178")
    assert tlv(b"\x30", bytes(200))[:3] == bytes.fromhex("3081C8")
    assert tlv(b"\x30", bytes(1000))[:4] == bytes.fromhex("308203E8")
    assert total_length(bytes.fromhex("308203E8000000")) == 1004


def test_a_truncated_tlv_is_an_error_not_a_crash():
    with pytest.raises(TlvError):
        read_tlv(bytes.fromhex("DF2205AABB"))
    with pytest.raises(TlvError):
        total_length(bytes.fromhex("30"))


def test_the_basic_items_file_has_the_layout_the_open_source_readers_parse():
    items = BasicItems("山田 花子", "熊本市中央区手取本町1-1", "19900401", "2")
    raw = encode_basic_items(items)
    assert raw[:2] == b"\xff\x20"
    tag, body, end = read_tlv(raw)
    assert end == len(raw)
    tag, offsets, _ = read_tlv(body)
    assert tag == b"\xdf\x21" and len(offsets) == 8
    first = int.from_bytes(offsets[:2], "big")
    assert body[first : first + 2] == b"\xdf\x22"  # the offsets point at each field's TLV
    assert decode_basic_items(raw) == items


def test_basic_items_refuse_a_malformed_birth_date_or_sex():
    with pytest.raises(ValidationError):
        BasicItems("a", "b", "1990-04-01", "2")
    with pytest.raises(ValidationError):
        BasicItems("a", "b", "19900401", "F")


def test_the_my_number_file_is_ff10_with_twelve_ascii_digits():
    assert encode_my_number("123456789018").hex().upper() == "FF100C" + b"123456789018".hex().upper()
    assert decode_my_number(encode_my_number("123456789018")) == "123456789018"


def test_the_twin_face_record_round_trips_and_refuses_other_files():
    record = FaceRecord(42, BasicItems("a", "b", "20000101", "1"), 1_900_000_000, b"\x01" * 64)
    raw = encode_face(record)
    assert raw[:2] == b"\xff\x40" and decode_face(raw) == record
    with pytest.raises(ValidationError):
        decode_face(encode_my_number("123456789018"))


def test_digest_info_wraps_a_sha256_digest_with_the_rfc_8017_prefix():
    info = digest_info.of_message(b"challenge")
    assert info.hex().startswith("3031300d060960864801650304020105000420")
    assert digest_info.decode(info) == ("sha256", hashlib.sha256(b"challenge").digest())
    with pytest.raises(ValidationError):
        digest_info.decode(b"\x30\x00" + bytes(32))
