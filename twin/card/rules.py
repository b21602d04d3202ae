"""The card's published rules (FACTS.md): PIN shapes and tries, validity by birthday, age limits."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from twin.clock import DAY, local_date
from twin.trust_errors import PinFormatError

# The three PIN-protected chip apps, in the order of the registry's tries columns.
APP_USER, APP_SIGNING, APP_SUPPORT = 0, 1, 2
PIN_APPS = ("user", "signing", "support")  # 利用者証明用 / 署名用 / 券面事項入力補助
MAX_TRIES = (3, 5, 3)  # consecutive wrong entries before the app locks
CARD_YEARS_ADULT, CARD_YEARS_MINOR, ADULT_AGE = 10, 5, 18  # card validity: 10th / 5th birthday after issue
CERT_YEARS = 5  # both certificates: until the 5th birthday after issue, never past the card's
# own validity (J-LIS's rule as recalled, not re-checked against its pages: assumption)
SIGNING_MIN_AGE = 15  # no signing certificate under 15
# Card status codes (the registry's `status` column); "expired" is also computed from the date.
APPLIED, ACTIVE, SUSPENDED, RETIRED, EXPIRED = 0, 1, 2, 3, 4
STATUS_NAMES = ("applied", "active", "suspended", "retired", "expired")
NO_DAY = -(2**31)  # "no certificate" in the registry's int32 day columns
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


@lru_cache(maxsize=1 << 16)  # ~0.23 KB per PIN: ~15 MB when full
def derive_pin(secret: bytes, serial: int, app: int) -> str:
    """The PIN of one app of card `serial`, derived from the registry's secret seed (keyed BLAKE2b;
    a pure function, so each card's PINs are derived once per process)."""
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
    """(year, month, day) of day numbers, in integer arithmetic (H. Hinnant's civil_from_days)."""
    z = np.asarray(days, dtype=np.int64) + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    m = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (m <= 2), m, doy - (153 * mp + 2) // 5 + 1


def _days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Day numbers of (year, month, day), in integer arithmetic (H. Hinnant's days_from_civil)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) arrays of day numbers (compute once, reuse in the `*_ymd` rules)."""
    return _ymd(days)


def age_ymd(birth: tuple, on: tuple) -> np.ndarray:
    """Completed years of age on date `on` for people born on `birth` ((y, m, d) arrays)."""
    return on[0] - birth[0] - ((on[1] * 100 + on[2]) < (birth[1] * 100 + birth[2]))


def nth_birthday_ymd(issue: tuple, birth: tuple, n: np.ndarray | int) -> np.ndarray:
    """Day number of the n-th birthday strictly after `issue` ((y, m, d) arrays; 29 Feb -> 28 Feb)."""
    iy, im, idd = issue
    _, bm, bd = birth
    year = iy + np.asarray(n) - 1 + ((bm * 100 + bd) <= (im * 100 + idd))
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    return _days(year, bm, np.where((bm == 2) & (bd == 29) & ~leap, 28, bd))


def card_expiry_ymd(issue: tuple, birth: tuple) -> np.ndarray:
    """Last valid day of a card issued on `issue`: 10th birthday after it for 18+, else the 5th."""
    years = np.where(age_ymd(birth, issue) >= ADULT_AGE, CARD_YEARS_ADULT, CARD_YEARS_MINOR)
    return nth_birthday_ymd(issue, birth, years)


def age_on(birth_day: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Completed years of age on `day` for people born on `birth_day` (vectorised)."""
    return age_ymd(_ymd(birth_day), _ymd(day))


def nth_birthday_after(issue_day: np.ndarray, birth_day: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """Day number of the n-th birthday strictly after `issue_day` (29 Feb falls on 28 Feb)."""
    return nth_birthday_ymd(_ymd(issue_day), _ymd(birth_day), n)


def card_expiry_day(issue_day: np.ndarray, birth_day: np.ndarray) -> np.ndarray:
    """Last valid day of a card: 10th birthday after issue for 18+, else the 5th."""
    return card_expiry_ymd(_ymd(issue_day), _ymd(birth_day))


def cert_expiry_day(issue_day: np.ndarray, birth_day: np.ndarray) -> np.ndarray:
    """Last valid day of a certificate: the 5th birthday after issue."""
    return nth_birthday_after(issue_day, birth_day, CERT_YEARS)
