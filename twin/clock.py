"""Time in the twin: POSIX seconds (float, UTC) passed in as `now`; local rules use JST."""

from __future__ import annotations

import datetime as dt

JST = dt.timezone(dt.timedelta(hours=9), "JST")
MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


def to_jst(now: float) -> dt.datetime:
    """The Japan local date-time of a POSIX instant."""
    return dt.datetime.fromtimestamp(now, JST)


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    """The POSIX instant of a Japan local date-time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=JST).timestamp()


def local_date(now: float) -> dt.date:
    """The Japan local calendar date of a POSIX instant."""
    return to_jst(now).date()
