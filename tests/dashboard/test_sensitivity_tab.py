"""The Sensitivity tab through Streamlit's AppTest: pick a design and assumptions, rank, read."""

from __future__ import annotations

from tests.dashboard.page import errors, fresh_page

PICKED = ["card_carried_share", "household_together_share"]


def tab(at):
    """The Sensitivity tab of the page."""
    return next(t for t in at.tabs if t.label == "Sensitivity")


def test_the_tab_waits_for_the_button_and_says_what_a_run_will_cost():
    at = fresh_page()
    assert at.selectbox(key="sens_design").value == "full"
    assert not tab(at).get("image")
    assert any("Rank the assumptions" in i.value for i in at.info)
    assert any("scenario runs" in c.value for c in at.caption)


def test_ranking_two_assumptions_shows_their_table_and_tornado_for_the_chosen_design():
    at = fresh_page()
    at.sidebar.number_input(key="scale").set_value(0.01)
    at.selectbox(key="sens_scenario").set_value("disaster")
    at.multiselect(key="sens_params").set_value(PICKED)
    at.number_input(key="sens_trajectories").set_value(2)
    at.button(key="sens_run").click().run()
    assert not at.exception and not errors(at)
    assert any(h.value.startswith("Sensitivity of disaster on full, kumamoto, scale 0.01 (reduced")
               for h in at.subheader)
    table = [d.value for d in at.dataframe if list(d.value.columns[:2]) == ["rank", "assumption"]]
    assert table and sorted(table[0]["assumption"]) == sorted(PICKED)
    assert table[0]["rank"].tolist() == ["1", "2"]
    assert at.selectbox(key="sens_kpi").value == "checkin_wait_p95_min"
    assert len(tab(at).get("image")) == 1  # the tornado chart
    at.selectbox(key="sens_kpi").set_value("cost_yen").run()
    assert not at.exception
    assert len(tab(at).get("image")) == 1


def test_a_bad_scenario_setting_is_named_instead_of_running():
    at = fresh_page()
    at.sidebar.text_area(key="overrides:disaster").set_value("no_such_parameter=1").run()
    assert "no_such_parameter" in errors(at)
