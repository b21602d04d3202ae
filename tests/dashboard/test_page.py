"""The page driven through Streamlit's AppTest: choose designs, run, read KPIs and the review."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from dashboards import compute
from dashboards.tables import HEADLINES
from scenarios.defaults import STUDY_CITY, STUDY_DESIGNS, STUDY_SCALE, overrides_text
from scenarios.registry import names as scenario_names
from scenarios.registry import scenario as scenario_module
from tests.dashboard.page import APP, REPS, SCALE, errors, fresh_page, run_comparison, widget_keys
from twin.design import design_fields, load_design
from twin.policy import review

INTERVAL = re.compile(r"^-?[\d,.]+(e[+-]?\d+)? \[-?[\d,.]+(e[+-]?\d+)?, -?[\d,.]+(e[+-]?\d+)?\]")


def frames(at, first_column: str) -> list:
    """The pandas frames of the page's tables whose first column is `first_column`."""
    return [d.value for d in at.dataframe if list(d.value.columns[:1]) == [first_column]]


def frame(at, first_column: str):
    """The first table whose first column is `first_column`."""
    found = frames(at, first_column)
    assert found, f"no table starting with {first_column!r} on the page"
    return found[0]


def kpi_table(at, scenario: str):
    """The KPI comparison table of one scenario (its rows are the scenario's KPIs)."""
    names = [k.label or k.name for k in scenario_module(scenario).KPIS]
    found = [f for f in frames(at, "KPI") if f["KPI"].tolist() == names]
    assert found, f"no KPI table for {scenario}"
    return found[0]


def test_the_page_opens_on_the_default_studys_city_designs_and_scale_with_nothing_run_yet():
    at = fresh_page(scale=None)
    assert not at.exception
    assert at.sidebar.selectbox(key="city").value == STUDY_CITY
    assert at.sidebar.multiselect(key="designs").value == list(STUDY_DESIGNS)
    assert at.sidebar.multiselect(key="scenarios").value == scenario_names()
    assert at.sidebar.number_input(key="scale").value == STUDY_SCALE
    assert at.sidebar.text_area(key="overrides:certificates").value == overrides_text(
        "certificates")
    assert any("press **Run the scenarios**" in i.value for i in at.info)


def test_the_results_say_a_reduced_scale_in_their_first_line(ran):
    assert ran.warning[0].value.startswith(f"Reduced scale: population scale {SCALE:g}")


def test_running_shows_key_figures_with_95pct_intervals_and_paired_differences(ran):
    table = frame(ran, "figure")
    assert list(table.columns) == ["figure", "scenario", "unit", "baseline", "phased",
                                   "phased − baseline"]
    shown = [h.label for h in HEADLINES if h.scenario in scenario_names()]
    assert table["figure"].tolist()[: len(shown)] == shown
    for cell in table["baseline"].tolist()[: len(shown)]:
        assert INTERVAL.match(cell), cell  # mean [low, high] over the replications
    assert any(v.endswith(("better", "worse", "no clear difference"))
               for v in table["phased − baseline"])


def test_the_non_card_path_row_counts_the_reviews_residents_without_a_card(ran):
    table = frame(ran, "figure")
    row = table[table["figure"] == "residents relying on the non-card path (today)"].iloc[0]
    for name in ("baseline", "phased"):
        expected = review(load_design(f"designs/{name}.toml"), "kumamoto").residents_on_non_card_path
        assert row[name] == f"{expected:,}"


def test_every_scenario_has_its_kpi_table_with_one_row_per_kpi_and_its_plots(ran):
    for name in scenario_names():
        table = kpi_table(ran, name)
        assert list(table.columns) == ["KPI", "unit", "baseline (mean [95% CI])",
                                       "phased (mean [95% CI])", "phased − baseline"]
    spec = ran.session_state["spec"]
    plots = [compute.scenario_plot(spec=spec, scenario=s, index=i) for s in spec.scenarios
             for i in range(len(scenario_module(s).PLOTS))]
    shown = [p for p in plots if p is not None]
    assert len(shown) >= len(plots) - 1
    assert len(ran.get("image")) == len(shown) + 2  # the scenarios' plots, the costs, the map


def test_the_review_tab_shows_the_designs_side_by_side_with_their_verdicts(ran):
    table = frame(ran, "item")
    assert list(table.columns) == ["item", "baseline", "phased"]
    items = dict(zip(table["item"], table["phased"], strict=True))
    assert items["verdict"] == "accepted"
    assert items["safety: enabled"].startswith("from FY")
    assert any("**phased**: accepted" in s.value for s in ran.success)


def test_the_review_tab_shows_benefits_beside_costs_and_each_effect_with_its_basis(ran):
    money = frame(ran, "service")
    phased = review(load_design("designs/phased.toml"), "kumamoto")
    mine = money[money["design"] == "phased"]
    assert mine["service"].tolist() == [*(s.service for s in phased.services), "(design)"]
    total = mine[mine["service"] == "(design)"].iloc[0]
    assert total["computed benefits to the horizon (¥M)"] > 0 and total["costs to the horizon (¥M)"] > 0
    effects = frame(ran, "effect")
    assert (effects["design"] == "phased").sum() == len(phased.effects)
    assert effects["the twin's figure"].str.startswith("not computed:").any()
    assert effects["basis"].str.startswith("report ").all()


def test_a_second_look_at_the_same_comparison_runs_no_scenario_again(ran):
    before = sum(compute.COMPUTED.values())
    ran.sidebar.button(key="run").click().run()
    assert sum(compute.COMPUTED.values()) == before
    ready = [s.value for s in ran.success if "replications ready" in s.value]
    assert ready and ready[0].startswith(f"{2 * REPS * len(scenario_names())} replications")


def test_a_link_opens_the_page_with_its_choices_and_a_run_writes_them_back():
    at = AppTest.from_file(str(APP), default_timeout=240)
    at.query_params.update({"city": "sendai", "reps": "2", "designs": "full,baseline",
                            "scenarios": "disaster", "scale": f"{SCALE:g}"})
    at.run()
    assert at.sidebar.selectbox(key="city").value == "sendai"
    assert at.sidebar.number_input(key="reps").value == 2
    assert at.sidebar.multiselect(key="designs").value == ["full", "baseline"]
    at.sidebar.number_input(key="seed").set_value(5)
    at.sidebar.button(key="run").click().run()
    assert not at.exception and not errors(at)
    query = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert query == {"city": "sendai", "designs": "full,baseline", "scenarios": "disaster",
                     "reps": "2", "seed": "5", "scale": f"{SCALE:g}"}


def test_one_design_is_not_a_comparison_and_nothing_runs():
    at = fresh_page()
    before = sum(compute.COMPUTED.values())
    run_comparison(at, designs=("phased",))
    assert "pick two or more designs to compare, got 1" in errors(at)
    assert sum(compute.COMPUTED.values()) == before


def test_a_misspelt_scenario_setting_is_refused_with_the_nearest_parameter():
    at = fresh_page()
    at.sidebar.text_area(key="overrides:payments").set_value("duraton_s=30")
    run_comparison(at)
    assert "unknown parameter 'duraton_s'" in errors(at)
    assert "did you mean 'duration_s'" in errors(at)


def test_a_design_field_in_the_scenario_settings_is_sent_to_the_editor():
    at = fresh_page()
    at.sidebar.text_area(key="overrides:disaster").set_value("safety.readers_per_shelter=4")
    run_comparison(at)
    assert "is a design field; change it in the design editor" in errors(at)


@pytest.mark.parametrize("value", [-1, 101])
def test_an_out_of_range_field_shows_the_loaders_error_and_cannot_be_added(value):
    at = fresh_page()
    at.number_input(key="edit:baseline:safety.readers_per_shelter").set_value(value).run()
    assert (f"safety.readers_per_shelter: expected an integer from 0 to 100 (readers per "
            f"shelter), got {value} (integer)") in errors(at)
    assert not [b for b in at.button if b.key == "edit_add"]


def test_a_rule_across_fields_is_checked_as_the_loader_checks_it():
    at = fresh_page()
    at.selectbox(key="edit_base").set_value("phased").run()
    at.number_input(key="edit:phased:certificates.kiosk_open_hour").set_value(23.5).run()
    assert ("certificates.kiosk_close_hour: expected an hour after kiosk_open_hour (23.5), "
            "got 23.0") in errors(at)


def test_phase_years_that_are_not_integers_are_reported_like_a_file_with_a_string():
    at = fresh_page()
    at.text_input(key="edit:baseline:rollout.phase_fiscal_years").set_value("2026, soon").run()
    assert ("rollout.phase_fiscal_years: expected a list of integers from 2015 to 2100 "
            "(fiscal year), got '2026, soon' (string)") in errors(at)


def test_an_edited_copy_joins_the_comparison_and_its_refusal_shows_with_the_reason():
    at = fresh_page()
    at.selectbox(key="edit_base").set_value("phased").run()
    at.selectbox(key="edit:phased:safety.check_in_key").set_value("my_number").run()
    assert not errors(at)
    at.button(key="edit_add").click().run()
    assert at.sidebar.multiselect(key="designs").value == [*STUDY_DESIGNS, "phased-edited"]
    assert any("**phased-edited**: refused" in e.value for e in at.error)
    refusals = frame(at, "design")
    row = refusals[refusals["design"] == "phased-edited"].iloc[0]
    assert row["service"] == "safety" and "My Number" in row["reason"]


def test_a_copy_may_not_take_the_name_of_a_shipped_design():
    at = fresh_page()
    at.text_input(key="edit:baseline:name").set_value("full").run()
    assert "name: 'full' is a shipped design; give the copy a new name" in errors(at)


def test_three_designs_give_two_difference_columns_against_the_first():
    at = fresh_page()
    at.selectbox(key="edit_base").set_value("baseline").run()
    at.number_input(key="edit:baseline:safety.readers_per_shelter").set_value(6).run()
    at.checkbox(key="edit:baseline:safety.enabled").check().run()
    at.button(key="edit_add").click().run()
    run_comparison(at, designs=("baseline", "phased", "baseline-edited"), scenarios=["disaster"])
    assert not at.exception, [e.value for e in at.exception]
    cols = list(frame(at, "figure").columns)
    assert cols[-2:] == ["phased − baseline", "baseline-edited − baseline"]


def test_the_page_shows_one_widget_per_design_field():
    at = fresh_page()
    keys = [k for k in widget_keys(at) if k.startswith("edit:baseline:")]
    assert sorted(keys) == sorted(f"edit:baseline:{s.key}" for s in design_fields())
    assert not at.exception
