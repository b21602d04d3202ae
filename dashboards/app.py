"""The planners' page: pick a city and designs, run the three scenarios, compare, export.

Start it with `run.py dashboard` (or `streamlit run dashboards/app.py`). The page only reads
and asks (STYLE.md rule 11): every run, review, city and plot comes from a cached function
in `dashboards.compute`, so a rerun of the script rebuilds nothing it has built before.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboards/app.py` puts only dashboards/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboards import compute, hq_view, links, optimise_view, sensitivity_tab, views  # noqa: E402
from dashboards.spec import (  # noqa: E402
    MAX_REPS,
    DesignChoice,
    SpecError,
    make_spec,
    shipped_choice,
)
from scenarios.designs import available  # noqa: E402
from scenarios.registry import names as scenario_names  # noqa: E402
from twin.errors import TwinError  # noqa: E402
from twin.presets import presets  # noqa: E402

SETTINGS_NOTE = ("The page starts with a quick setting: certificates over the peak Monday only "
                 "(days=7 for the whole peak week), payments over a minute with its faults inside "
                 "it. Clear a box for the scenario's own defaults; see 'Scenario parameters'.")
TABS = ("Results", "Review", "Map", "Report", "Sensitivity", "Optimise", "HQ live", "Edit a design",
        "Scenario parameters")


@st.cache_data(show_spinner=False)
def _shipped(name: str) -> DesignChoice:
    """A shipped design, read and validated once."""
    return shipped_choice(name)


def design_pool() -> dict[str, DesignChoice]:
    """Shipped designs, then the ones edited or uploaded in this session."""
    pool = {name: _shipped(name) for name in available()}
    return pool | st.session_state.get("custom_designs", {})


def sidebar(pool: dict[str, DesignChoice]) -> dict:
    """The planner's choices: city, designs, scenarios, replications, seed, scale, settings."""
    sb = st.sidebar
    sb.header("Compare designs")
    cities = sorted(presets())
    start = links.initial(st.query_params.to_dict(), designs=list(pool), cities=cities,
                          scenarios=scenario_names())
    for why in start.ignored:
        sb.warning(f"Ignored from the link: {why}")
    inputs = {"city": sb.selectbox("City", cities, index=cities.index(start.city), key="city")}
    inputs["designs"] = sb.multiselect("Designs (the first is the reference)", list(pool),
                                       default=list(start.designs), key="designs")
    inputs["scenarios"] = sb.multiselect("Scenarios", scenario_names(),
                                         default=list(start.scenarios), key="scenarios")
    inputs["reps"] = int(sb.number_input("Replications per design", min_value=1,
                                         max_value=MAX_REPS, value=start.reps, step=1,
                                         key="reps"))
    inputs["precision"] = float(sb.number_input(
        "Precision target (± share of the mean)", min_value=0.0, max_value=0.5, value=0.0,
        step=0.01, format="%g", key="precision",
        help="0 runs the replications above. Above 0, replications are added in rounds until "
        f"every headline KPI's 95 % interval is within ± this share of its mean (at most "
        f"{MAX_REPS} per design); the tables then say, per KPI, how many it took."))
    inputs["seed"] = int(sb.number_input("Seed", min_value=0, value=start.seed, step=1,
                                         key="seed"))
    inputs["scale"] = float(sb.number_input(
        "Population scale", min_value=0.001, max_value=1.0, value=start.scale, step=0.01,
        format="%g", key="scale",
        help="Share of the city's residents to build (1 is the whole city). Evacuees and "
        "shelters scale with it; the certificate peak keeps the whole city's demand."))
    with sb.expander("Scenario settings (KEY=VALUE per line)"):
        inputs["overrides"] = {s: st.text_area(s, value=start.overrides[s], key=f"overrides:{s}")
                               for s in scenario_names()}
        st.caption(SETTINGS_NOTE)
    inputs["run"] = sb.button("Run the scenarios", type="primary", key="run", width="stretch")
    return inputs


def _request(inputs: dict, pool: dict[str, DesignChoice]) -> tuple:
    """What the inputs ask for, comparable between reruns."""
    return (inputs["city"], tuple(pool[d].toml for d in inputs["designs"]),
            tuple(inputs["scenarios"]), inputs["reps"], inputs["seed"], inputs["scale"],
            tuple(sorted(inputs["overrides"].items())), inputs.get("precision", 0.0))


def start_run(inputs: dict, pool: dict[str, DesignChoice]) -> None:
    """Validate the inputs and remember them as the run to show (errors shown, nothing run)."""
    try:
        spec = make_spec(city=inputs["city"], designs=[pool[d] for d in inputs["designs"]],
                         scenarios=inputs["scenarios"], reps=inputs["reps"], seed=inputs["seed"],
                         scale=inputs["scale"], overrides=inputs["overrides"])
    except SpecError as exc:
        st.error("Cannot run:\n\n" + "\n".join(f"- {p}" for p in exc.problems))
        return
    st.session_state["spec"] = spec
    st.session_state["run_precision"] = inputs["precision"]
    st.session_state["spec_request"] = _request(inputs, pool)
    st.query_params.from_dict(links.query_of(inputs, available()))


def show_results(spec, fresh: bool) -> dict | None:
    """The run's results, each scenario drawn as soon as its replications are in (cached: at
    once); with progress when `fresh`. None when the run stopped (the error shown)."""
    status = st.empty()
    bar = status.progress(0.0, text="starting") if fresh else None
    precision = st.session_state.get("run_precision", 0.0)
    tab = views.ResultsTab(spec, precision)
    t = time.perf_counter()
    count = {"done": 0, "total": 0}

    def progress(done: int, total: int, label: str) -> None:
        count.update(done=done, total=total)
        if bar is not None:
            bar.progress(done / total, text=f"{done}/{total} replications: {label}")

    sweeps = {}
    try:
        for scenario, sweep in compute.ready(spec, progress, precision, MAX_REPS):
            when = (f"In {time.perf_counter() - t:.1f} s after Run, with {count['done']} of "
                    f"{count['total']} replications done." if fresh else "")
            tab.scenario(scenario, sweep, when)
            sweeps[scenario] = sweep
    except TwinError as exc:
        st.session_state.pop("spec", None)
        tab.stopped()
        status.error(f"The run stopped: {exc}")
        return None
    sweeps = {s: sweeps[s] for s in spec.scenarios}  # the spec's order, whatever came first
    tab.finish(sweeps, compute.reviews(spec))
    if fresh:
        status.success(f"{sum(len(s.results) for s in sweeps.values())} replications ready "
                       f"in {time.perf_counter() - t:.1f} s ({spec.label()}).")
    return sweeps


def main() -> None:
    """Draw the page."""
    st.set_page_config(page_title="myna-twin: compare rollout designs", layout="wide")
    st.title("Compare My Number card rollout designs")
    st.caption("A digital twin of a designated city's My Number card services: run the disaster "
               "check-in, certificate peak and payment scenarios on two or more rollout designs, "
               "and read the review of each.")
    pool = design_pool()
    compute.pool()  # the worker processes start (and warm) while the planner chooses
    inputs = sidebar(pool)
    if inputs["run"]:
        start_run(inputs, pool)
    spec = st.session_state.get("spec")
    chosen = [pool[d] for d in inputs["designs"]]
    tabs = dict(zip(TABS, st.tabs(list(TABS)), strict=True))
    with tabs["Results"]:
        if spec is None:
            st.info("Pick a city and two or more designs in the sidebar, then press "
                    "**Run the scenarios**.")
        else:
            if st.session_state.get("spec_request") != _request(inputs, pool):
                st.caption("The sidebar has changed since this run: press Run to update.")
            if show_results(spec, fresh=inputs["run"]) is None:
                spec = None
    with tabs["Review"]:
        views.review(chosen, inputs["city"])
    with tabs["Map"]:
        views.service_map(chosen, inputs["city"], inputs["scale"])
    with tabs["Report"]:
        if spec is None:
            st.info("Run the scenarios first; the report covers the last run.")
        else:
            views.report(spec)
    with tabs["Sensitivity"]:
        sensitivity_tab.show(available(), inputs["city"], inputs["scale"], inputs["seed"],
                             inputs["overrides"])
    with tabs["Optimise"]:
        optimise_view.optimise_tab(available(), inputs["city"], inputs["scale"])
    with tabs["HQ live"]:
        hq_view.hq_tab()
    with tabs["Edit a design"]:
        views.design_editor(pool, available())
    with tabs["Scenario parameters"]:
        views.parameters()


# Streamlit runs this file as __main__; the page's worker processes (spawned) import it as
# __mp_main__ and must not draw the page.
if __name__ == "__main__":
    main()
