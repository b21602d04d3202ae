"""The card's published rules (FACTS.md): PIN shapes and tries, validity by birthday, age limits."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np

from twin.clock import DAY, local_date
from twin.trust_errors import PinFormatError

# The three PIN-protected chip apps, in the order of the registry's tries columns.
APP_USER, APP_SIGNING, APP_SUPPORT = 0, 1, 2
PIN_APPS = ("user", "signing", "support")  # 利用者証明用 / 署名用 / 券面事項入力補助
MAX_TRIES = (3, 5, 3)  # consecutive wrong entries before the app locks
CARD_YEARS_ADULT, CARD_YEARS_MINOR, ADULT_AGE = 10, 5, 18  # card validity: 10th / 5th birthday after issue
CERT_YEARS = 5  # both certificates: until the 5th birthday after issue
SIGNING_MIN_AGE = 15  # no signing certificate under 15
_JST_OFFSET = 9 * 3600.0
_EPOCH = dt.date(1970, 1, 1)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def app_index(app: str | int) -> int:
    """The index of a PIN app given its name or index; unknown names are an error."""
    if isinstance(app, int) and 0 <= app < len(PIN_APPS):
        return app
    if app in PIN_APPS:
        return PIN_APPS.index(app)
    raise PinFormatError(f"unknown card app {app!r}; PIN apps are {', '.join(PIN_APPS)}")


def normalise_pin(app: int, pin: object) -> str:
    """The PIN as the card compares it, or PinFormatError (no try is used for a malformed entry)."""
    if not isinstance(pin, str):
        raise PinFormatError(f"a {PIN_APPS[app]} PIN must be a str, got {type(pin).__name__}")
    if app != APP_SIGNING:
        if len(pin) != 4 or not (pin.isascii() and pin.isdigit()):
            raise PinFormatError(f"the {PIN_APPS[app]} PIN must be exactly 4 digits, got {len(pin)} characters")
        return pin
    up = pin.upper()
    if not 6 <= len(up) <= 16 or any(c not in _ALNUM for c in up):
        raise PinFormatError("the signing password must be 6–16 characters of A–Z and 0–9, "
                             f"got {len(pin)} characters")
    if up.isdigit() or up.isalpha():
        raise PinFormatError("the signing password must mix letters and digits")
    return up


@dataclass(frozen=True, slots=True)
class Pins:
    """A card's PINs: user-authentication PIN, signing password, input-support PIN."""

    user: str
    signing: str
    support: str

    def of(self, app: int) -> str:
        """The PIN of app index `app`."""
        return (self.user, self.signing, self.support)[app]


def _pin_digest(secret: bytes, serial: int) -> bytes:
    return hashlib.blake2b(int(serial).to_bytes(8, "big", signed=True), key=secret[:64], digest_size=32).digest()


def derive_pin(secret: bytes, serial: int, app: int) -> str:
    """The PIN of one app of card `serial`, derived from the registry's secret seed (keyed BLAKE2b)."""
    h = _pin_digest(secret, serial)
    if app != APP_SIGNING:
        return f"{int.from_bytes(h[4 * app:4 * app + 4], 'big') % 10000:04d}"
    n = 6 + h[12] % 5  # 6–10 characters
    body = [_ALNUM[b % 36] for b in h[13:13 + n]]
    body[0] = _ALNUM[h[24] % 26]  # at least one letter …
    body[-1] = str(h[25] % 10)  # … and one digit
    return "".join(body)


def derive_pins(secret: bytes, serial: int) -> Pins:
    """The PINs a resident set for card `serial`, derived from the registry's secret seed."""
    return Pins(*(derive_pin(secret, serial, app) for app in range(3)))


def mistype(pin: str, rng: np.random.Generator) -> str:
    """A wrong entry near `pin`: one character changed to another of the same kind."""
    i = int(rng.integers(len(pin)))
    pool = "0123456789" if pin[i].isdigit() else _ALNUM[:26]
    choice = pool[(pool.index(pin[i]) + 1 + int(rng.integers(len(pool) - 1))) % len(pool)]
    return pin[:i] + choice + pin[i + 1:]


def day_of(now: float) -> int:
    """The JST calendar day number (days since 1970-01-01) of a POSIX instant."""
    return (local_date(now) - _EPOCH).days


def day_start(day: int | np.ndarray) -> float | np.ndarray:
    """The POSIX instant at which JST day number `day` begins."""
    return day * DAY - _JST_OFFSET


def date_of_day(day: int) -> dt.date:
    """The calendar date of a day number."""
    return _EPOCH + dt.timedelta(days=int(day))


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    return (y.astype(np.int64) + 1970, (m - y.astype("datetime64[M]")).astype(np.int64) + 1,
            (d - m.astype("datetime64[D]")).astype(np.int64) + 1)


def age_on(birth_day: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Completed years of age on `day` for people born on `birth_day` (vectorised)."""
    by, bm, bd = _ymd(birth_day)
    y, m, d = _ymd(day)
    return y - by - ((m * 100 + d) < (bm * 100 + bd))


def nth_birthday_after(issue_day: np.ndarray, birth_day: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """Day number of the n-th birthday strictly after `issue_day` (29 Feb falls on 28 Feb)."""
    iy, im, idd = _ymd(issue_day)
    _, bm, bd = _ymd(birth_day)
    year = iy + np.asarray(n) - 1 + ((bm * 100 + bd) <= (im * 100 + idd))
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    bd = np.where((bm == 2) & (bd == 29) & ~leap, 28, bd)
    months = (year - 1970) * 12 + bm - 1
    return (months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + bd - 1).astype(np.int64)


def card_expiry_day(issue_day: np.ndarray, birth_day: np.ndarray) -> np.ndarray:
    """Last valid day of a card: 10th birthday after issue for 18+, else the 5th."""
    years = np.where(age_on(birth_day, issue_day) >= ADULT_AGE, CARD_YEARS_ADULT, CARD_YEARS_MINOR)
    return nth_birthday_after(issue_day, birth_day, years)


def cert_expiry_day(issue_day: np.ndarray, birth_day: np.ndarray) -> np.ndarray:
    """Last valid day of a certificate: the 5th birthday after issue."""
    return nth_birthday_after(issue_day, birth_day, CERT_YEARS)
