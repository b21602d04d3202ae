"""Time in the twin: POSIX seconds (float, UTC) passed in as `now`; local rules use JST."""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

import numpy as np

JST = dt.timezone(dt.timedelta(hours=9), "JST")
MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


def to_jst(now: float) -> dt.datetime:
    """The Japan local date-time of a POSIX instant."""
    return dt.datetime.fromtimestamp(now, JST)


def jst_day_second(now: float) -> tuple[int, int]:
    """(JST day number since 1970-01-01, whole second of that day) of a POSIX instant, exactly as
    `to_jst(now)` reads them (the instant rounded half-even to the microsecond, as datetime does)."""
    frac, whole = math.modf(now)
    us = round(frac * 1e6)
    if us >= 1_000_000:
        whole += 1.0
    elif us < 0:
        whole -= 1.0
    local = int(whole) + 32400  # JST is UTC+9 all year
    return local // 86400, local % 86400


def jst_days_seconds(nows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`jst_day_second` of many instants at once (the same arithmetic, element by element)."""
    frac, whole = np.modf(np.asarray(nows, dtype=np.float64))
    us = np.round(frac * 1e6)  # half-even, as round() and datetime
    whole = whole + (us >= 1_000_000) - (us < 0)
    local = whole.astype(np.int64) + 32400
    return local // 86400, local % 86400


@lru_cache(maxsize=4096)
def jst_date(day: int) -> dt.date:
    """The calendar date of JST day number `day` (see `jst_day_second`)."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    """The POSIX instant of a Japan local date-time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=JST).timestamp()


def local_date(now: float) -> dt.date:
    """The Japan local calendar date of a POSIX instant."""
    return jst_date(jst_day_second(now)[0])
