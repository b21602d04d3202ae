"""BER-TLV data objects (ISO/IEC 7816-4 annex; DER for certificates): encode and decode."""

from __future__ import annotations

from twin.errors import ValidationError


class TlvError(ValidationError):
    """Bytes that are not the TLV data object they were expected to be."""

    code = "bad_tlv"


def ber_length(n: int) -> bytes:
    """A BER-TLV length field (short form below 128, else 81 xx or 82 xx xx)."""
    if n < 0x80:
        return bytes((n,))
    if n <= 0xFF:
        return bytes((0x81, n))
    if n <= 0xFFFF:
        return b"\x82" + n.to_bytes(2, "big")
    raise ValidationError(f"TLV value of {n} bytes is too long for this card")


def tlv(tag: bytes, value: bytes) -> bytes:
    """One BER-TLV data object."""
    return tag + ber_length(len(value)) + value


def _tag_end(buf: bytes, pos: int) -> int:
    if pos >= len(buf):
        raise TlvError("TLV ends before its tag")
    end = pos + 1
    if buf[pos] & 0x1F == 0x1F:  # the tag number continues in following bytes
        while end < len(buf) and buf[end] & 0x80:
            end += 1
        end += 1
    if end > len(buf):
        raise TlvError("TLV ends inside its tag")
    return end


def header(buf: bytes, pos: int = 0) -> tuple[bytes, int, int]:
    """The tag, the value length and the value's start of the TLV at `pos`."""
    tag_end = _tag_end(buf, pos)
    if tag_end >= len(buf):
        raise TlvError("TLV ends before its length")
    first = buf[tag_end]
    if first < 0x80:
        return buf[pos:tag_end], first, tag_end + 1
    count = first & 0x7F
    if count == 0 or count > 3 or tag_end + 1 + count > len(buf):
        raise TlvError(f"unsupported or truncated TLV length field (first byte {first:02X})")
    n = int.from_bytes(buf[tag_end + 1 : tag_end + 1 + count], "big")
    return buf[pos:tag_end], n, tag_end + 1 + count


def total_length(head: bytes) -> int:
    """How many bytes the whole TLV takes, from its first few bytes (a DER certificate's size)."""
    _, n, start = header(head)
    return start + n


def read_tlv(buf: bytes, pos: int = 0) -> tuple[bytes, bytes, int]:
    """The tag and value of the TLV at `pos`, and the position after it."""
    tag, n, start = header(buf, pos)
    if start + n > len(buf):
        raise TlvError(f"TLV value needs {n} bytes but only {len(buf) - start} remain")
    return tag, buf[start : start + n], start + n


def children(value: bytes) -> dict[bytes, bytes]:
    """The TLVs inside a constructed value, by tag (the last wins on repeats)."""
    out, pos = {}, 0
    while pos < len(value):
        tag, v, pos = read_tlv(value, pos)
        out[tag] = v
    return out
