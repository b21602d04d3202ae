"""The dashboard page under Streamlit's AppTest, driven as a planner would, small and quick."""

from __future__ import annotations

from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
REPS = 2  # replications in the tests (the page defaults to the study's 10)
SCALE = 0.05  # population scale in the tests (the page defaults to the study's whole city)
# A quarter of the peak Monday's certificate demand keeps each replication to a few seconds.
LIGHT_CERTIFICATES = "days=1\nrequests_per_resident_per_year=0.25"
# A shorter payment load (the page starts from the study's 120 s) with the same three faults.
LIGHT_PAYMENTS = ("duration_s=60\npayer_pool=500\nnetwork_drop_at_s=[25]\n"
                  "writer_kill_before_commit_at_s=[12]\nwriter_kill_after_commit_at_s=[40]")


def fresh_page(scale: float | None = SCALE):
    """The page, run once, as a planner first sees it; the scale input set to `scale` (None: left
    at the page's default) for the next run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=240)
    at.run()
    if scale is not None:
        at.sidebar.number_input(key="scale").set_value(scale)
    return at


def run_comparison(at, designs=("baseline", "phased"), reps: int = REPS, scenarios=None):
    """Pick designs, replications (and scenarios) in the sidebar and press Run."""
    at.sidebar.multiselect(key="designs").set_value(list(designs))
    at.sidebar.number_input(key="reps").set_value(reps)
    at.sidebar.text_area(key="overrides:certificates").set_value(LIGHT_CERTIFICATES)
    from dashboards.spec import QUICK_OVERRIDES

    payments = at.sidebar.text_area(key="overrides:payments")
    if payments.value == QUICK_OVERRIDES["payments"]:  # a test's own setting stays
        payments.set_value(LIGHT_PAYMENTS)
    if scenarios is not None:
        at.sidebar.multiselect(key="scenarios").set_value(list(scenarios))
    at.sidebar.button(key="run").click().run()
    return at


def widget_keys(at) -> list[str]:
    """The keys of every input widget on the page."""
    kinds = ("checkbox", "number_input", "selectbox", "multiselect", "text_input", "text_area",
             "toggle")
    return [w.key for kind in kinds for w in getattr(at, kind) if w.key]


def errors(at) -> str:
    """Every error message on the page, one per line."""
    return "\n".join(e.value for e in at.error)
