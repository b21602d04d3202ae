"""The validation table: published figures, the twin's values, errors and verdicts."""

from __future__ import annotations

import math

import pytest

from calibration.checks import CANNOT, FAIL, PASS, Published, cannot, check
from calibration.fit import fit_all
from calibration.validate import frame, table_text, tally_of, validation_table


def test_relative_error_is_zero_inside_a_range_and_signed_outside():
    assert Published(120, 180).relative_error(150) == 0
    assert Published(120, 180).relative_error(90) == pytest.approx(-0.25)
    assert Published(120, 180).relative_error(198) == pytest.approx(0.1)
    assert Published(300, None).relative_error(400) == 0
    assert Published(300, None).relative_error(150) == pytest.approx(-0.5)
    assert Published(None, 180).relative_error(270) == pytest.approx(0.5)


def test_a_value_outside_the_tolerance_fails_and_inside_passes():
    assert check("a", "f", Published(10, 10), 12, "s", 0.2, "x", "src").verdict == PASS
    assert check("a", "f", Published(10, 10), 12.5, "s", 0.2, "x", "src").verdict == FAIL


def test_a_missing_twin_value_is_shown_as_not_reproducible_not_hidden():
    row = check("a", "f", Published(10, 10), math.nan, "s", 0.2, "x", "src")
    assert row.verdict == CANNOT and row.twin is None
    assert cannot("a", "f", Published(1, None), "s", "why", "src").published == ">= 1 s"


@pytest.fixture(scope="module")
def rows():
    return validation_table(fit_all(), seed=0, scenarios=False)


def test_every_check_in_trial_figure_has_a_row_with_its_source(rows):
    checkin = [r for r in rows if r.area == "check-in"]
    assert len(checkin) == 11
    assert all("FACTS.md" in r.source for r in checkin)


def test_the_kishiwada_card_time_is_reported_as_a_failure_not_dropped(rows):
    kishi = next(r for r in rows if r.figure == "kishiwada_2025: card_tap mean")
    assert kishi.verdict == FAIL and kishi.published == "9 s" and kishi.twin > 15


def test_the_sakai_guide_is_reproduced_by_the_scenarios_queue(rows):
    sakai = next(r for r in rows if r.area == "counter")
    assert sakai.verdict == PASS
    assert "ServicePoint" in sakai.computed_by
    assert sakai.twin == pytest.approx(2.0, rel=0.2)


def test_every_city_presets_card_ownership_is_checked(rows):
    assert len([r for r in rows if r.figure.endswith("card ownership")]) == 20


def test_the_same_seed_gives_the_same_table(rows):
    again = validation_table(fit_all(), seed=0, scenarios=False)
    assert frame(again).equals(frame(rows))


def test_the_text_table_ends_with_the_tally(rows):
    text = table_text(rows)
    t = tally_of(rows)
    assert text.rstrip().endswith(
        f"{t['pass']} pass, {t['fail']} fail, {t['cannot reproduce']} cannot reproduce (of {len(rows)} published figures)"
    )
    assert sum(t.values()) == len(rows)


def test_the_disaster_scenario_reproduces_kumamotos_peak_share():
    from calibration.validate_scenarios import disaster_checks

    share, hours = disaster_checks(seed=0)
    assert share.verdict == PASS and "disaster scenario" in share.computed_by
    assert share.twin == pytest.approx(183_882 / 1_786_170, rel=0.1)
    assert 0 < hours.twin < 48


@pytest.mark.slow
def test_a_simulated_peak_monday_gives_the_counter_wait_row_its_value():
    from calibration.validate_scenarios import counter_wait_checks

    (row,) = counter_wait_checks(seed=0, city="kumamoto", days={"2016-03 last week": "2026-03-30"})
    assert row.published == ">= 260 min"
    assert row.twin is not None and row.twin > 30  # a peak Monday queues for a long time
    assert row.verdict in (PASS, FAIL) and "certificates scenario" in row.computed_by


def test_the_counter_cost_is_listed_as_an_input_not_a_reproduction():
    from calibration.validate_scenarios import cost_rows

    (row,) = cost_rows()
    assert row.verdict == CANNOT and "input" in row.computed_by
