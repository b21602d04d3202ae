"""The dashboard's engine choice (the disaster's `engine` setting), through Streamlit's AppTest."""

from __future__ import annotations

from scenarios.disaster import KPIS
from tests.dashboard.page import errors, fresh_page, run_comparison


def disaster_table(at):
    """The disaster's KPI comparison table on the page."""
    names = [k.label or k.name for k in KPIS]  # the page names KPIs in words
    found = [d.value for d in at.dataframe
             if list(d.value.columns[:1]) == ["KPI"] and d.value["KPI"].tolist() == names]
    assert found, "no disaster KPI table on the page"
    return found[0]


def test_the_planner_can_run_the_disaster_on_either_engine_and_reads_the_same_kpis():
    tables, events = {}, {}
    for engine in ("simpy", "fast"):
        at = fresh_page()
        at.sidebar.text_area(key="overrides:disaster").set_value(f"engine={engine}")
        run_comparison(at, scenarios=["disaster"])
        assert not at.exception and not errors(at), errors(at)
        table = disaster_table(at)
        own = table["KPI"] == next(k.label or k.name for k in KPIS if k.name == "simulation_events")
        events[engine] = table[own].iloc[0, 1:].tolist()
        tables[engine] = table[~own].reset_index(drop=True)
    assert events["simpy"] != events["fast"]  # each engine really ran (they count differently)
    assert tables["simpy"].equals(tables["fast"])
    assert len(tables["fast"]) == len(KPIS) - 1
