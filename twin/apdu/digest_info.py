"""PKCS#1 DigestInfo (RFC 8017, section 9.2): what a reader sends the card to sign."""

from __future__ import annotations

import hashlib

from twin.errors import ValidationError

# The DER prefix of DigestInfo for each hash, from RFC 8017 section 9.2, note 1.
PREFIXES: dict[str, bytes] = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}
SIZES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}


def encode(hash_name: str, digest: bytes) -> bytes:
    """The DigestInfo of a digest made with `hash_name`."""
    if hash_name not in PREFIXES:
        raise ValidationError(f"unknown hash {hash_name!r}; known: {', '.join(PREFIXES)}")
    if len(digest) != SIZES[hash_name]:
        raise ValidationError(f"a {hash_name} digest has {SIZES[hash_name]} bytes, not {len(digest)}")
    return PREFIXES[hash_name] + digest


def of_message(message: bytes, hash_name: str = "sha256") -> bytes:
    """Hash `message` and wrap the digest as DigestInfo."""
    return encode(hash_name, hashlib.new(hash_name, message).digest())


def decode(info: bytes) -> tuple[str, bytes]:
    """The hash name and digest inside a DigestInfo; a ValidationError if it is none of the four."""
    for name, prefix in PREFIXES.items():
        if info.startswith(prefix) and len(info) == len(prefix) + SIZES[name]:
            return name, info[len(prefix) :]
    raise ValidationError(
        f"{len(info)} bytes are not a DigestInfo for SHA-1/256/384/512 (RFC 8017 section 9.2)"
    )
