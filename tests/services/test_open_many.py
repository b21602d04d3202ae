"""Opening hours checked for many instants at once read exactly as one `is_open` per instant,
at the edges too: the opening and closing second, midnight, holidays and microsecond rounding."""

from __future__ import annotations

import numpy as np

from twin.clock import jst, jst_day_second, jst_days_seconds
from twin.services.certificates import CertificateParams


def _instants() -> np.ndarray:
    rng = np.random.default_rng(3)
    whole = np.floor(rng.uniform(1.76e9, 1.80e9, 3000))
    edges = [jst(2026, 3, 30, h, m) + d for h, m in ((6, 30), (8, 45), (9, 0), (17, 0), (17, 15), (23, 0), (0, 0))
             for d in (-1e-7, -4e-7, 0.0, 4e-7, 5e-7, 0.9999996, 86400.0 * 2, 86400.0 * 35)]  # 35 days on: May
    return np.concatenate([rng.uniform(1.76e9, 1.80e9, 20000), whole + 0.9999996, whole - 4e-7, whole + 5e-7,
                           whole + 86399.9999999, edges])


def test_jst_days_and_seconds_of_many_instants_are_those_of_each():
    nows = _instants()
    days, secs = jst_days_seconds(nows)
    assert list(zip(days.tolist(), secs.tolist(), strict=True)) == [jst_day_second(t) for t in nows.tolist()]


def test_every_window_is_open_at_many_instants_exactly_when_it_is_open_at_each():
    nows = _instants().tolist()
    for windows in (CertificateParams().windows(), CertificateParams(family_register_weekdays_only=False,
                                                                     kiosk_open_hour=0.0).windows()):
        for window in windows.values():
            expected = [window.is_open(t) for t in nows]
            assert window.open_many(nows) == expected and 0 < sum(expected) < len(nows), window.name
