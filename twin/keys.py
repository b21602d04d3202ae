"""Deterministic signing keys: RSA-2048 as the real card uses, or P-256 / Ed25519 for large runs.

Every key is derived from (secret seed, label), so a 3.8 M-resident city derives a card's key
only when that card is first used, and any process derives the same key again.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from twin.errors import ValidationError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_E = 65537
_MR_BASES = (2, 3, 5, 7, 11)  # 5 rounds: FIPS 186-4 Table C.2 for 1024-bit primes of RSA-2048
_SIEVE_WINDOW = 4096  # odd candidates sieved at once


def _odd_primes_below(n: int) -> list[int]:
    """Odd primes below `n` (a sieve of Eratosthenes)."""
    flags = bytearray([1]) * n
    flags[:2] = b"\0\0"
    for i in range(2, int(n**0.5) + 1):
        if flags[i]:
            flags[i * i::i] = bytes(len(range(i * i, n, i)))
    return [i for i in range(3, n) if flags[i]]


_SIEVE_PRIMES = _odd_primes_below(1 << 16)


class Algorithm(StrEnum):
    """A signature algorithm for the authority and the cards."""

    RSA2048 = "rsa2048"  # SHA256withRSA, PKCS#1 v1.5, as the card uses (FACTS.md)
    P256 = "p256"  # ECDSA over P-256 with SHA-256
    ED25519 = "ed25519"  # fastest, for large simulations

    @classmethod
    def parse(cls, value: str | Algorithm) -> Algorithm:
        """The algorithm named `value`; an unknown name is an error listing the valid ones."""
        try:
            return cls(value)
        except ValueError:
            raise ValidationError(f"unknown algorithm {value!r}; valid: "
                                  f"{', '.join(a.value for a in cls)}") from None

    @property
    def x509_hash(self) -> hashes.SHA256 | None:
        """The hash X.509 signing uses with this algorithm (None for Ed25519)."""
        return None if self is Algorithm.ED25519 else hashes.SHA256()


def _stream(seed: bytes, label: bytes, n: int) -> bytes:
    """`n` deterministic bytes for (seed, label)."""
    return hashlib.shake_256(len(seed).to_bytes(2, "big") + seed + label).digest(n)


def _probably_prime(n: int) -> bool:
    """Miller–Rabin with fixed bases (candidates are pseudo-random, not adversarial)."""
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in _MR_BASES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(seed: bytes, label: bytes, bits: int) -> int:
    """A deterministic prime of exactly `bits` bits with gcd(p-1, 65537) = 1."""
    start = int.from_bytes(_stream(seed, label, bits // 8), "big")
    start |= (3 << (bits - 2)) | 1  # top two bits set: the product has 2 * bits bits
    while True:
        for i in _sieve(start):
            cand = start + 2 * i
            if (cand - 1) % _E and _probably_prime(cand):
                return cand
        start += 2 * _SIEVE_WINDOW


def _sieve(base: int) -> list[int]:
    """Offsets i < window for which base + 2i has no odd prime factor below 65536 (base odd)."""
    flags = bytearray([1]) * _SIEVE_WINDOW
    for p in _SIEVE_PRIMES:
        i0 = (-(base % p) * ((p + 1) // 2)) % p  # solves base + 2i = 0 (mod p)
        if i0 < _SIEVE_WINDOW:
            flags[i0::p] = bytes((_SIEVE_WINDOW - 1 - i0) // p + 1)
    return [i for i, f in enumerate(flags) if f]


def _rsa_key(seed: bytes, label: bytes) -> rsa.RSAPrivateKey:
    """A deterministic RSA-2048 key (two 1024-bit primes from the seed stream)."""
    p = _prime(seed, label + b"/p", 1024)
    q = _prime(seed, label + b"/q", 1024)
    if p == q:  # astronomically unlikely; keep the key valid anyway
        q = _prime(seed, label + b"/q2", 1024)
    p, q = max(p, q), min(p, q)
    d = pow(_E, -1, math.lcm(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                    rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(_E, p * q))
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def derive_private_key(seed: bytes, label: bytes, algorithm: Algorithm) -> PrivateKey:
    """The private key for (seed, label): the same inputs give the same key in any process."""
    if algorithm is Algorithm.ED25519:
        return ed25519.Ed25519PrivateKey.from_private_bytes(_stream(seed, label, 32))
    if algorithm is Algorithm.P256:
        scalar = int.from_bytes(_stream(seed, label, 48), "big") % (_P256_ORDER - 1) + 1
        return ec.derive_private_key(scalar, ec.SECP256R1())
    return _rsa_key(seed, label)


_PKCS1 = padding.PKCS1v15()
_ECDSA = ec.ECDSA(hashes.SHA256())
_ECDSA_DET = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


def signer(key: PrivateKey, deterministic: bool = False) -> Callable[[bytes], bytes]:
    """A function that signs bytes with `key` (SHA-256 based for RSA and P-256)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign
    if isinstance(key, ec.EllipticCurvePrivateKey):
        mode = _ECDSA_DET if deterministic else _ECDSA
        return lambda data: key.sign(data, mode)
    sha = hashes.SHA256()
    return lambda data: key.sign(data, _PKCS1, sha)


def digest_signer(key: PrivateKey) -> Callable[[bytes], bytes]:
    """A function that signs a SHA-256 digest computed elsewhere (RSA PKCS#1 v1.5 or ECDSA)."""
    pre = utils.Prehashed(hashes.SHA256())
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValidationError("Ed25519 keys sign whole messages, not digests; use an RSA-2048 or P-256 authority")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return lambda digest: key.sign(digest, ec.ECDSA(pre))
    return lambda digest: key.sign(digest, _PKCS1, pre)


def verifier(public: PublicKey) -> Callable[[bytes, bytes], bool]:
    """A function (signature, data) -> whether the signature verifies under `public`."""
    if isinstance(public, ed25519.Ed25519PublicKey):
        def check(sig: bytes, data: bytes) -> bool:
            try:
                public.verify(sig, data)
            except InvalidSignature:
                return False
            return True
    elif isinstance(public, ec.EllipticCurvePublicKey):
        def check(sig: bytes, data: bytes) -> bool:
            try:
                public.verify(sig, data, _ECDSA)
            except InvalidSignature:
                return False
            return True
    else:
        sha = hashes.SHA256()

        def check(sig: bytes, data: bytes) -> bool:
            try:
                public.verify(sig, data, _PKCS1, sha)
            except InvalidSignature:
                return False
            return True
    return check


class KeyCache:
    """A bounded least-recently-used cache of derived keys (RSA keys are slow to derive)."""

    __slots__ = ("_items", "capacity", "derived")

    def __init__(self, capacity: int = 65536) -> None:
        if capacity < 1:
            raise ValidationError(f"key cache capacity must be >= 1, got {capacity}")
        self._items: OrderedDict[object, object] = OrderedDict()
        self.capacity = capacity
        self.derived = 0  # how many keys were derived (cache misses)

    def get(self, key: object, make: Callable[[], object]) -> object:
        """The cached value for `key`, making (and caching) it on a miss."""
        items = self._items
        try:
            items.move_to_end(key)
            return items[key]
        except KeyError:
            pass
        value = make()
        self.derived += 1
        items[key] = value
        if len(items) > self.capacity:
            items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
