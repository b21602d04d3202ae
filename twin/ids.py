"""Identifiers: the My Number (個人番号) and the corporate number (法人番号), and synthetic generators."""

from __future__ import annotations

import numpy as np

MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)  # MIC Ordinance No. 85 of 2014, Art. 5
_MY_W = np.array(MY_NUMBER_WEIGHTS, dtype=np.int64)
_POW10_11 = 10**11


def _digits(s: object, length: int, what: str) -> str:
    """Return `s` if it is a str of exactly `length` ASCII digits, else raise naming the problem."""
    if not isinstance(s, str):
        raise TypeError(f"{what} must be a str of {length} digits, got {type(s).__name__}")
    if len(s) != length:
        raise ValueError(f"{what} must have {length} digits, got {len(s)} characters: {s!r}")
    if not (s.isascii() and s.isdigit()):
        bad = next(c for c in s if not ("0" <= c <= "9"))
        raise ValueError(f"{what} must be digits only, found {bad!r} in {s!r}")
    return s


def my_number_check_digit(base: str) -> int:
    """The check digit of an 11-digit My Number base."""
    _digits(base, 11, "My Number base")
    r = sum(int(d) * w for d, w in zip(base, MY_NUMBER_WEIGHTS, strict=True)) % 11
    return 0 if r <= 1 else 11 - r


def is_valid_my_number(s: str) -> bool:
    """Whether a 12-digit My Number carries the right check digit (malformed input raises)."""
    _digits(s, 12, "My Number")
    return my_number_check_digit(s[:11]) == int(s[11])


def corporate_number_check_digit(base: str) -> int:
    """The check digit (the first digit) over a 12-digit corporate number base."""
    _digits(base, 12, "corporate number base")
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base), start=1))
    return 9 - total % 9


def is_valid_corporate_number(s: str) -> bool:
    """Whether a 13-digit corporate number carries the right leading check digit."""
    _digits(s, 13, "corporate number")
    return corporate_number_check_digit(s[1:]) == int(s[0])


def local_government_corporate_number(lg_code: str) -> str:
    """The corporate number of a local government from its 6-digit local-government code."""
    _digits(lg_code, 6, "local-government code")
    base = "000020" + lg_code
    return f"{corporate_number_check_digit(base)}{base}"


def my_number_check_digits(bases: np.ndarray) -> np.ndarray:
    """Vectorised check digits for an int64 array of 11-digit bases (0 … 10**11 - 1)."""
    bases = np.asarray(bases, dtype=np.int64)
    total = np.zeros(bases.shape, dtype=np.int64)
    rest = bases.copy()
    for w in _MY_W[::-1]:  # least significant base digit has the last weight
        total += (rest % 10) * w
        rest //= 10
    r = total % 11
    return np.where(r <= 1, 0, 11 - r)


def synthetic_my_numbers(n: int, seed: int) -> np.ndarray:
    """`n` distinct valid synthetic My Numbers as int64 (format with `format_my_number`).

    The bases are an affine permutation of 0 … 10**11 - 1 keyed by the seed, so they are
    unique without a set, deterministic per seed, and cost O(n) vectorised work.
    """
    if n < 0 or n > _POW10_11:
        raise ValueError(f"cannot make {n} distinct My Numbers (0 … {_POW10_11})")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x4D4E]))
    # a multiplier coprime to 10**11: odd and not divisible by 5
    a = int(rng.integers(10**9, 10**10)) | 1
    if a % 5 == 0:
        a += 2
    b = int(rng.integers(0, _POW10_11))
    i = np.arange(n, dtype=np.int64)
    # (a * i + b) mod 10**11 without int64 overflow: split a into high and low parts
    a_hi, a_lo = divmod(a, 10**5)
    bases = ((((a_hi * i) % _POW10_11) * 10**5) % _POW10_11 + (a_lo * i) % _POW10_11 + b) % _POW10_11
    return bases * 10 + my_number_check_digits(bases)


def format_my_number(value: int) -> str:
    """A synthetic My Number int as its 12-digit string."""
    return f"{int(value):012d}"


def synthetic_corporate_numbers(n: int, seed: int) -> list[str]:
    """`n` distinct valid synthetic corporate numbers, deterministic per seed."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x434E]))
    bases = rng.choice(10**12 // 10**4, size=n, replace=False) * 10**4 + rng.integers(0, 10**4, n)
    out = []
    for b in bases:
        base = f"{int(b):012d}"
        out.append(f"{corporate_number_check_digit(base)}{base}")
    return out
