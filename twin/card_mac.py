"""Key modes for simulated cards: HMAC credentials that keep every JPKI rule at a fraction of the cost.

A simulated visit needs what card authentication decides, not the RSA arithmetic behind it. In
key mode ``hmac`` each card's key is a per-card secret (an HMAC of the authority's secret and
the card's certificate serial), the card answers a challenge with an HMAC, and its
"certificate" is a compact record (card, purpose, generation, validity, holder) sealed by the
authority with an HMAC. The reader runs the same rules on it as on X.509: the pinned issuer,
the seal, the kind, the validity dates, the revocation list, the card serial the chip reports,
the challenge used once, the signature seen once. Only the cryptography is cheaper.

Simulation device, not a design: a relying party that holds the authority's MAC secret could
forge credentials; no simulated actor does. Key mode ``rsa2048`` keeps the real card's keys.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache

from twin.errors import ValidationError
from twin.trust_errors import ForgedData, UnknownIssuer

KEY_MODES = ("hmac", "ed25519", "p256", "rsa2048")
MAC_PREFIX = b"JPKI-MAC1|"  # what starts a MAC credential (X.509 DER starts with 0x30)
_MAC_BYTES = 32


def parse_key_mode(mode: str) -> str:
    """The key mode `mode`; an unknown one is an error listing the valid ones."""
    if mode not in KEY_MODES:
        raise ValidationError(f"unknown key mode {mode!r}; valid: {', '.join(KEY_MODES)}")
    return mode


def authority_algorithm(mode: str) -> str:
    """The algorithm of the authority's own key (lists, seals) in key mode `mode`."""
    return "ed25519" if parse_key_mode(mode) == "hmac" else mode


def authority_secret(seed: bytes) -> bytes:
    """The authority's MAC secret, derived from its seed (distinct from its signing key)."""
    return hashlib.sha256(b"myna-twin/card-mac/" + seed).digest()


def card_secret(secret: bytes, cert_serial: int) -> bytes:
    """The per-card secret behind one certificate (card, purpose, generation)."""
    return hmac.digest(secret, b"card|%d" % cert_serial, "sha256")


_IPAD = bytes(x ^ 0x36 for x in range(256))  # RFC 2104's inner and outer pads, as byte translations
_OPAD = bytes(x ^ 0x5C for x in range(256))
_BLOCK = 64  # SHA-256's block size


class MacKey:
    """HMAC-SHA256 (RFC 2104) under one key, with the key's padded blocks hashed once.

    `hmac.digest` sets up OpenSSL's HMAC on every call (~1.8 us here); a card answers and a reader
    checks one challenge per visit with the same key, so each key keeps its two padded-key hash
    states and a message costs two copies and two short updates (~0.6 us). Same bytes as
    `hmac.digest(key, message, "sha256")` (tested on keys and messages of every length class)."""

    __slots__ = ("_inner", "_outer", "key")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self.key = key  # the key as HMAC uses it (one block): equal keys give equal MACs of every message
        self._inner, self._outer = hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))

    def __call__(self, message: bytes) -> bytes:
        """The HMAC of `message`."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def matches(self, signature: bytes, data: bytes) -> bool:
        """Whether `signature` is the HMAC of `data` (compared in constant time)."""
        return hmac.compare_digest(signature, self(data))


def mac_signer(key: bytes) -> Callable[[bytes], bytes]:
    """A function answering a message with the HMAC-SHA256 of `key`."""
    return MacKey(key)


def mac_checker(key: bytes) -> Callable[[bytes, bytes], bool]:
    """A function (signature, data) -> whether `signature` is the HMAC of `data` under `key`."""
    return MacKey(key).matches


def encode_credential(secret: bytes, issuer: str, cert_serial: int, not_before: float, not_after: float,
                      holder: bytes = b"") -> bytes:
    """A card credential sealed by the authority: serial, validity (whole seconds), issuer, holder."""
    body = MAC_PREFIX + b"%d|%d|%d|%s|%s" % (cert_serial, int(not_before), int(not_after), issuer.encode(),
                                            holder)
    return body + hmac.digest(secret, body, "sha256")


def decode_credential(secret: bytes, issuer: str, blob: bytes) -> tuple[int, float, float]:
    """(cert serial, not_before, not_after) of a credential sealed by this authority, else a TrustError."""
    fields = blob[len(MAC_PREFIX):-_MAC_BYTES].split(b"|", 4)
    if not blob.startswith(MAC_PREFIX) or len(fields) != 5:
        raise ForgedData("the card returned bytes that are not a credential")
    try:
        serial, not_before, not_after = (int(f) for f in fields[:3])
    except ValueError:
        raise ForgedData("the card returned bytes that are not a credential") from None
    named = fields[3].decode(errors="replace")
    if named != issuer:
        raise UnknownIssuer(f"credential issued by {named!r}, not by the trusted authority {issuer!r}")
    if not hmac.compare_digest(blob[-_MAC_BYTES:], hmac.digest(secret, blob[:-_MAC_BYTES], "sha256")):
        raise ForgedData("the credential names the authority but its seal does not verify with the "
                         "authority's secret: forged or tampered")
    return serial, float(not_before), float(not_after)


@lru_cache(maxsize=1 << 16)
def checked_credential(secret: bytes, issuer: str, blob: bytes) -> tuple[int, float, float, bytes]:
    """`decode_credential` and the card's secret (for `mac_checker`), derived once per credential.

    A pure function of its arguments (the same sealed bytes under the same authority secret
    decode the same way), so each card's secret is derived once per process and held as bytes
    (~0.3 KB per card cached); a refused credential raises every time (errors are not cached)."""
    serial, not_before, not_after = decode_credential(secret, issuer, blob)
    return serial, not_before, not_after, card_secret(secret, serial)
