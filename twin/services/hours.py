"""Opening hours of kiosks and ward counters (窓口): national holidays, the year-end closure.

Times are JST. Kiosks: 6:30-23:00 daily, closed 29 Dec - 3 Jan and on maintenance days;
family-register certificates at kiosks often weekdays 9:00-17:00 only (FACTS.md). Counters:
weekdays 8:45-17:15 except national holidays and the year-end closure (the usual office hours).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from twin.clock import JST, jst_date, jst_day_second, jst_days_seconds, to_jst
from twin.errors import ValidationError

FIXED_HOLIDAYS = ((1, 1), (2, 11), (2, 23), (4, 29), (5, 3), (5, 4), (5, 5), (8, 11), (11, 3), (11, 23))
HAPPY_MONDAYS = ((1, 2), (7, 3), (9, 3), (10, 2))  # (month, n-th Monday): Coming of Age, Marine, Aged, Sports


def _nth_monday(year: int, month: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))


def _equinoxes(year: int) -> tuple[dt.date, dt.date]:
    """Vernal and autumnal equinox days by the standard approximation (valid 1980-2099)."""
    k = year - 1980
    spring = int(20.8431 + 0.242194 * k - k // 4)
    autumn = int(23.2488 + 0.242194 * k - k // 4)
    return dt.date(year, 3, spring), dt.date(year, 9, autumn)


@cache
def japanese_holidays(year: int) -> frozenset[dt.date]:
    """National holidays (国民の祝日) of a year under the rules in force since 2020.

    Includes substitute holidays (a holiday on Sunday moves to the next non-holiday) and
    citizens' holidays (a day between two holidays). 2020-2021's Olympic moves are not modelled.
    """
    if not 2000 <= year <= 2099:
        raise ValidationError(f"holidays are computed for 2000-2099, got {year}")
    days = {dt.date(year, m, d) for m, d in FIXED_HOLIDAYS}
    days |= {_nth_monday(year, m, n) for m, n in HAPPY_MONDAYS}
    days |= set(_equinoxes(year))
    for d in sorted(days):
        if d.weekday() == 6:
            sub = d + dt.timedelta(days=1)
            while sub in days:
                sub += dt.timedelta(days=1)
            days.add(sub)
    between = {d + dt.timedelta(days=1) for d in days
               if d + dt.timedelta(days=2) in days and d + dt.timedelta(days=1) not in days
               and (d + dt.timedelta(days=1)).weekday() != 6}
    return frozenset(days | between)


def is_year_end(day: dt.date) -> bool:
    """29 Dec - 3 Jan, when kiosks and counters close (年末年始)."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_business_day(day: dt.date) -> bool:
    """A weekday that is neither a national holiday nor in the year-end closure."""
    return day.weekday() < 5 and day not in japanese_holidays(day.year) and not is_year_end(day)


def _hm(hour: float) -> str:
    return f"{int(hour)}:{round((hour % 1) * 60):02d}"


@dataclass(frozen=True)
class Window:
    """A daily opening window (hours as JST fractions, 6.5 = 6:30) on the days `allows` accepts."""

    name: str
    open_hour: float
    close_hour: float
    allows: Callable[[dt.date], bool]
    days_text: str

    def __post_init__(self) -> None:
        if not 0.0 <= self.open_hour < self.close_hour <= 24.0:
            raise ValidationError(f"{self.name}: opening hours must satisfy 0 <= open < close <= 24, "
                                  f"got {self.open_hour}-{self.close_hour}")
        object.__setattr__(self, "_days", {})  # day number -> allows(date): `allows` is a rule of dates
        # instants surely open: the last open day's, a second in (one tuple, replaced whole, so a
        # reader on another thread never sees one day's start with another day's end)
        object.__setattr__(self, "_sure", (0.0, 0.0))

    def _allows_day(self, day: int) -> bool:
        days = self._days  # type: ignore[attr-defined]
        ok = days.get(day)
        if ok is None:
            ok = days[day] = bool(self.allows(jst_date(day)))
        return ok

    def is_open(self, now: float) -> bool:
        """Whether the window is open at the instant `now`."""
        lo, hi = self._sure  # type: ignore[attr-defined]
        if lo <= now < hi:
            return True
        day, sec = jst_day_second(now)
        hour = sec // 3600 + sec % 3600 // 60 / 60 + sec % 60 / 3600
        if not (self._allows_day(day) and self.open_hour <= hour < self.close_hour):
            return False
        # the day's open seconds are [first, last) (`hour` grows with the second); an instant a whole
        # second inside them reads as one of them however it rounds to the microsecond
        base = day * 86400 - 9 * 3600  # the JST midnight of `day` (as `jst_day_second` counts days)
        object.__setattr__(self, "_sure", (base + self._first_second(self.open_hour) + 1.0,
                                           base + self._first_second(self.close_hour) - 1.0))
        return True

    @staticmethod
    def _first_second(hour: float) -> int:
        """The first whole second of a day whose hour (as `is_open` reads it) is at least `hour` (86400 if none)."""
        s = max(min(int(hour * 3600) - 2, 86400), 0)
        while s < 86400 and s // 3600 + s % 3600 // 60 / 60 + s % 60 / 3600 < hour:
            s += 1
        return s

    def open_many(self, nows: Sequence[float]) -> list[bool]:
        """`is_open` at many instants at once."""
        days, secs = jst_days_seconds(np.asarray(nows, dtype=np.float64))
        hours = secs // 3600 + secs % 3600 // 60 / 60 + secs % 60 / 3600
        inside = ((self.open_hour <= hours) & (hours < self.close_hour)).tolist()
        allows = self._allows_day
        return [fine and allows(day) for fine, day in zip(inside, days.tolist(), strict=True)]

    def next_opening(self, now: float, horizon_days: int = 30) -> float | None:
        """`now` if open, else the next instant it opens (None if not within the horizon)."""
        if self.is_open(now):
            return now
        day = to_jst(now).date()
        for k in range(horizon_days + 1):
            d = day + dt.timedelta(days=k)
            if not self.allows(d):
                continue
            start = dt.datetime(d.year, d.month, d.day, tzinfo=JST) + dt.timedelta(hours=self.open_hour)
            if start.timestamp() > now:
                return start.timestamp()
        return None

    def describe(self) -> str:
        """The hours in words, e.g. '6:30-23:00 daily except 29 Dec-3 Jan'."""
        return f"{_hm(self.open_hour)}-{_hm(self.close_hour)} {self.days_text}"

    def closed_reason(self, now: float) -> str | None:
        """None when open; else why closed and when it opens next."""
        if self.is_open(now):
            return None
        nxt = self.next_opening(now)
        when = to_jst(nxt).strftime("%Y-%m-%d %H:%M JST") if nxt is not None else "not within 30 days"
        return (f"{self.name} is closed at {to_jst(now).strftime('%Y-%m-%d %H:%M JST')} "
                f"(hours {self.describe()}); next opening {when}")
