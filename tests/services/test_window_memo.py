"""A window remembers the instants it is surely open on its last open day (a whole second inside the
day's open seconds), and still reads every instant exactly as the day-and-second rule, in any order:
at the opening and closing second, a microsecond's rounding either side, midnight and closed days."""

from __future__ import annotations

import numpy as np
import pytest

from tests.services.test_open_many import _instants
from twin.clock import jst, jst_day_second
from twin.services.certificates import CertificateParams
from twin.services.hours import Window


def _rule(window: Window, now: float) -> bool:
    """`is_open` without the remembered interval: the day allowed and the hour inside the window."""
    day, sec = jst_day_second(now)
    hour = sec // 3600 + sec % 3600 // 60 / 60 + sec % 60 / 3600
    return window._allows_day(day) and window.open_hour <= hour < window.close_hour


def _edges(window: Window) -> list[float]:
    out = []
    for k in range(9):
        for hour in (window.open_hour, window.close_hour):
            t = jst(2026, 3, 27) + k * 86400 + hour * 3600
            out += [t + d for d in (-1.0000001, -1.0, -0.9999999, -5e-7, -4e-7, -1e-7, 0.0, 1e-7, 4e-7, 5e-7,
                                    0.9999996, 1.0, 1.0000001, 2.0)]
    return out


WINDOWS = [*CertificateParams().windows().values(),
           *CertificateParams(family_register_weekdays_only=False, kiosk_open_hour=0.0).windows().values(),
           Window("odd", 7.123, 19.987, lambda d: d.day % 3 != 0, "odd days"),
           Window("all day", 0.0, 24.0, lambda d: d.weekday() < 5, "weekdays"),
           Window("one second", 9.0, 9.0 + 1 / 3600, lambda d: True, "daily")]


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: w.name)
def test_a_window_reads_every_instant_as_the_day_and_second_rule_in_any_order(window):
    rng = np.random.default_rng(7)
    nows = [*_instants().tolist(), *_edges(window)]
    for order in (nows, sorted(nows), [nows[j] for j in rng.permutation(len(nows))]):
        fresh = Window(window.name, window.open_hour, window.close_hour, window.allows, window.days_text)
        assert [fresh.is_open(t) for t in order] == [_rule(window, t) for t in order]
    assert any(_rule(window, t) for t in nows) and not all(_rule(window, t) for t in nows)
