"""The dashboard's precision control: replications in rounds until the headline KPIs are clear."""

from __future__ import annotations

from dashboards import compute
from dashboards.spec import MAX_REPS
from tests.dashboard.page import errors, fresh_page

TINY_PAYMENTS = ("duration_s=10\noffered_rate_per_s=10\npayer_pool=50\n"
                 "writer_kill_before_commit_at_s=[4.0]\nwriter_kill_after_commit_at_s=[]\n"
                 "network_drop_at_s=[]")


def test_a_precision_target_adds_rounds_and_the_page_says_per_kpi_whether_it_was_met():
    at = fresh_page()
    at.sidebar.multiselect(key="designs").set_value(["baseline", "full"])
    at.sidebar.multiselect(key="scenarios").set_value(["payments"])
    at.sidebar.number_input(key="reps").set_value(2)
    at.sidebar.number_input(key="precision").set_value(0.3)
    at.sidebar.text_area(key="overrides:payments").set_value(TINY_PAYMENTS)
    at.sidebar.button(key="run").click().run()
    assert not at.exception and not errors(at), errors(at)
    text = "\n".join(m.value for m in at.markdown)
    assert "Precision target: 95 % half-width ≤ 30% of the mean" in text
    again = compute.run_all(at.session_state["spec"], None, 0.3, MAX_REPS)  # cached: no rerun
    rows = {r["kpi"]: r for r in again["payments"].precision}
    assert set(rows) == {"throughput_per_s", "latency_p99_ms", "lost", "duplicated"}
    for r in rows.values():
        line = f"- {r['label']}: {r['reps']} replications"
        assert line in text and (r["met"] or r["reps"] == MAX_REPS)
    ready = [s.value for s in at.success if "replications ready" in s.value]
    assert ready and int(ready[0].split()[0]) == 2 * rows["lost"]["reps"]
