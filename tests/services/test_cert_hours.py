"""Opening hours: national holidays, the year-end closure, kiosk, family-register and counter windows."""

from __future__ import annotations

import datetime as dt

import pytest

from twin.clock import jst
from twin.errors import ValidationError
from twin.services.certificate_rules import CertificateParams
from twin.services.hours import Window, is_business_day, is_year_end, japanese_holidays

D = dt.date


def test_the_2026_national_holidays_are_the_published_ones():
    assert sorted(japanese_holidays(2026)) == [
        D(2026, 1, 1), D(2026, 1, 12), D(2026, 2, 11), D(2026, 2, 23), D(2026, 3, 20), D(2026, 4, 29),
        D(2026, 5, 3), D(2026, 5, 4), D(2026, 5, 5), D(2026, 5, 6),  # 6 May: substitute for Sunday 3 May
        D(2026, 7, 20), D(2026, 8, 11), D(2026, 9, 21), D(2026, 9, 22),  # 22 Sep: between two holidays
        D(2026, 9, 23), D(2026, 10, 12), D(2026, 11, 3), D(2026, 11, 23)]


def test_the_2025_equinoxes_and_a_substitute_monday_are_found():
    h = japanese_holidays(2025)
    assert {D(2025, 3, 20), D(2025, 9, 23), D(2025, 2, 24), D(2025, 11, 24)} <= h  # 23 Feb and 23 Nov were Sundays
    assert D(2025, 9, 22) not in h


def test_the_year_end_closure_runs_from_29_december_to_3_january():
    assert [is_year_end(D(2026, 12, d)) for d in (28, 29, 31)] == [False, True, True]
    assert [is_year_end(D(2027, 1, d)) for d in (3, 4)] == [True, False]
    assert not is_business_day(D(2026, 12, 29)) and is_business_day(D(2026, 12, 28))


def test_kiosks_open_at_6_30_and_close_at_23_00_every_day_but_the_new_year():
    w = CertificateParams().windows()["kiosk"]
    assert not w.is_open(jst(2026, 4, 5, 6, 29)) and w.is_open(jst(2026, 4, 5, 6, 30))  # a Sunday
    assert w.is_open(jst(2026, 4, 5, 22, 59)) and not w.is_open(jst(2026, 4, 5, 23, 0))
    assert not w.is_open(jst(2026, 12, 30, 12)) and not w.is_open(jst(2027, 1, 3, 12))
    assert w.next_opening(jst(2026, 12, 30, 12)) == jst(2027, 1, 4, 6, 30)


def test_family_register_kiosk_hours_are_business_days_9_to_17_when_so_configured():
    w = CertificateParams().windows()["kiosk_family_register"]
    assert w.is_open(jst(2026, 4, 6, 9)) and not w.is_open(jst(2026, 4, 6, 17))
    assert not w.is_open(jst(2026, 4, 4, 10))  # Saturday
    assert not w.is_open(jst(2026, 4, 29, 10))  # Showa Day
    free = CertificateParams(family_register_weekdays_only=False).windows()["kiosk_family_register"]
    assert free.is_open(jst(2026, 4, 4, 21))


def test_counters_keep_office_hours_8_45_to_17_15_on_business_days():
    w = CertificateParams().windows()["counter"]
    assert not w.is_open(jst(2026, 4, 6, 8, 44)) and w.is_open(jst(2026, 4, 6, 8, 45))
    assert w.is_open(jst(2026, 4, 6, 17, 14)) and not w.is_open(jst(2026, 4, 6, 17, 15))
    assert not w.is_open(jst(2026, 5, 6, 10))  # substitute holiday
    assert w.next_opening(jst(2026, 5, 1, 18)) == jst(2026, 5, 7, 8, 45)


def test_a_closed_reason_says_when_it_opens_next():
    reason = CertificateParams().windows()["counter"].closed_reason(jst(2026, 4, 4, 10))
    assert reason == ("the ward counter is closed at 2026-04-04 10:00 JST (hours 8:45-17:15 on weekdays "
                      "except holidays and 29 Dec-3 Jan); next opening 2026-04-06 08:45 JST")


def test_maintenance_days_close_the_kiosks():
    w = CertificateParams(maintenance_days=(D(2026, 4, 12),)).windows()["kiosk"]
    assert not w.is_open(jst(2026, 4, 12, 12)) and w.is_open(jst(2026, 4, 13, 12))


def test_impossible_hours_are_refused():
    with pytest.raises(ValidationError, match="0 <= open < close <= 24"):
        Window("x", 18.0, 9.0, lambda d: True, "daily")
    with pytest.raises(ValidationError, match="0 <= open < close <= 24"):
        CertificateParams(counter_open_hour=8.0, counter_close_hour=25.0)
