"""A MAC card's key with its padded blocks hashed once answers exactly as `hmac.digest` (RFC 2104)."""

from __future__ import annotations

import hmac

import numpy as np

from twin.card_mac import MacKey, mac_checker, mac_signer


def test_a_mac_key_gives_the_hmac_of_every_message_under_keys_of_every_length():
    rng = np.random.default_rng(5)
    for length in (0, 1, 16, 31, 32, 33, 63, 64, 65, 100, 200):
        key = rng.bytes(length)
        mac = MacKey(key)
        for size in (0, 1, 32, 55, 56, 63, 64, 65, 119, 1000):
            message = rng.bytes(size)
            assert mac(message) == hmac.digest(key, message, "sha256"), (length, size)
            assert mac(message) == mac(message)  # the kept states are copied, never consumed


def test_a_signer_and_checker_agree_and_refuse_another_key_or_message():
    key, other = b"k" * 32, b"j" * 32
    sign, check = mac_signer(key), mac_checker(key)
    signature = sign(b"challenge")
    assert check(signature, b"challenge")
    assert not check(signature, b"challengf") and not check(mac_signer(other)(b"challenge"), b"challenge")
    assert not check(signature[:-1], b"challenge")
