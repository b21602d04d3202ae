"""Login challenges the service can check without storing them (so no flood of asks can crowd out a resident's).

A challenge is its issue time, 16 random bytes and an HMAC-SHA256 tag over both (the first 16
bytes), keyed by the service's secret, 40 bytes in all. Any ingress replica checks a
challenge's tag and age alone; the trust actor then refuses a second answer to the same one
(its replay set holds used challenges for their lifetime only).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

from twin.trust_errors import ReplayedChallenge

CHALLENGE_TTL_S = 60.0  # twin.reader.Reader's default challenge lifetime
CLOCK_SKEW_S = 5.0  # replicas' clocks may differ this much
_TAG = 16
_LABEL = b"myna-twin login challenge v1"


class Challenges:
    """Issues and checks stateless login challenges under one key."""

    def __init__(self, secret: bytes, ttl: float = CHALLENGE_TTL_S) -> None:
        self._key = hmac.digest(secret, _LABEL, hashlib.sha256)  # its own key, derived from the service's secret
        self.ttl = float(ttl)

    def issue(self, now: float) -> str:
        """A fresh challenge (hex) valid for `ttl` seconds from `now`."""
        raw = struct.pack(">d", float(now)) + os.urandom(16)
        return (raw + self._tag(raw)).hex()

    def check(self, challenge_hex: str, now: float) -> float:
        """When a challenge this service issued expires; refuses a forged, malformed or expired one."""
        try:
            blob = bytes.fromhex(challenge_hex)
        except ValueError:
            blob = b""
        raw, tag = blob[:-_TAG], blob[-_TAG:]
        if len(blob) != 24 + _TAG or not hmac.compare_digest(tag, self._tag(raw)):
            raise ReplayedChallenge("a response to a challenge this service never issued")
        (issued,) = struct.unpack(">d", raw[:8])
        if not issued <= now + CLOCK_SKEW_S:
            raise ReplayedChallenge("a challenge dated in the future")
        if now > issued + self.ttl:
            raise ReplayedChallenge(f"the challenge expired {now - issued - self.ttl:.0f} s ago; ask for a new one")
        return issued + self.ttl

    def _tag(self, raw: bytes) -> bytes:
        return hmac.digest(self._key, raw, hashlib.sha256)[:_TAG]
