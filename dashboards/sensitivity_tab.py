"""The 'Sensitivity' tab: which assumptions a scenario's KPIs depend on, for the chosen design.

The analysis (`scenarios.sensitivity`) runs on demand behind `st.cache_data`, one run after
another in this process, with the sidebar's city, scale, seed and scenario settings; the tab
shows the ranked table of the chosen KPI and the tornado chart.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import polars as pl
import streamlit as st

from dashboards.spec import parse_scenario_overrides
from scenarios.registry import scenario as scenario_module
from scenarios.sensitivity import SensitivityResult, analyse, bases_for, factors_for, run_count
from scenarios.sensitivity_report import HEADER, headline, preamble, ranked_rows, title, tornado
from twin.errors import TwinError

SCENARIOS = ("disaster", "certificates")  # the payments scenario has one screened assumption


@st.cache_data(max_entries=16, show_spinner=False)
def analysis(*, scenario: str, design: str, versus: str, city: str, scale: float, seed: int,
             trajectories: int, samples: int, params: tuple[str, ...],
             overrides_json: str) -> SensitivityResult:
    """One analysis, computed once per set of inputs."""
    designs = [versus, design] if versus else [design]
    bases, fixed = bases_for(scenario, designs, city, scale, json.loads(overrides_json))
    return analyse(bases, trajectories, samples, top=3, seed=seed, only=list(params) or None,
                   executor="local", design_keys=fixed)


@st.cache_data(max_entries=64, show_spinner=False)
def tornado_png(request_json: str, kpi: str) -> bytes:
    """The tornado chart of one KPI of the analysis `request_json` asks for, as PNG bytes."""
    buf = io.BytesIO()
    tornado(analysis(**json.loads(request_json)), buf, [kpi])
    return buf.getvalue()


def _inputs(designs: Sequence[str]) -> dict:
    """The tab's own choices: scenario, design, reference, sizes and assumptions."""
    c1, c2, c3 = st.columns(3)
    scenario = c1.selectbox("Scenario", SCENARIOS, key="sens_scenario")
    design = c2.selectbox("Design", designs, index=designs.index("full") if "full" in designs
                          else 0, key="sens_design")
    versus = c3.selectbox("Difference against (optional)", ["", *designs], key="sens_versus",
                          help="Rank the assumptions by their effect on the difference between "
                          "the two designs instead of on one design's KPIs.")
    c4, c5 = st.columns(2)
    trajectories = int(c4.number_input("Morris trajectories", min_value=2, max_value=20, value=2,
                                       step=1, key="sens_trajectories"))
    samples = int(c5.number_input("Sobol base sample (0: none)", min_value=0, max_value=64,
                                  value=0, step=4, key="sens_samples"))
    names = [f.name for f in factors_for(scenario_module(scenario).Params(), ())[0]]
    params = st.multiselect("Assumptions to vary (empty: all)", names, key="sens_params")
    return {"scenario": scenario, "design": design, "versus": versus, "trajectories": trajectories,
            "samples": samples, "params": tuple(params)}


def show(designs: Sequence[str], city: str, scale: float, seed: int,
         overrides: dict[str, str]) -> None:
    """Draw the tab: inputs, the button, then the last analysis's table and tornado."""
    st.caption("Which of the twin's assumptions (calibration/data/assumption_ranges.csv) move "
               "the answer most: Morris screening, then Sobol indices for the top three, every "
               "run with the same seed. City, scale, seed and scenario settings come from the "
               "sidebar.")
    ask = _inputs(list(designs))
    try:
        over = parse_scenario_overrides(ask["scenario"], overrides.get(ask["scenario"], ""))
        bases, fixed = bases_for(ask["scenario"], [ask["design"]], city, scale, over)
        n = len(factors_for(bases[0], fixed, ask["params"] or None)[0])
    except TwinError as exc:
        st.error(f"Cannot analyse: {exc}")
        return
    runs = run_count(n, ask["trajectories"], ask["samples"], 3, 2 if ask["versus"] else 1)
    st.caption(f"{n} assumptions, {runs} scenario runs.")
    if st.button("Rank the assumptions", key="sens_run"):
        st.session_state["sens_request"] = ask | {"city": city, "scale": scale, "seed": seed,
                                                  "overrides_json": json.dumps(over, sort_keys=True)}
    request = st.session_state.get("sens_request")
    if request is None:
        st.info("Choose a scenario and design, then press **Rank the assumptions**.")
        return
    try:
        with st.spinner("Running the design points…"):
            result = analysis(**request)
    except TwinError as exc:
        st.error(f"The analysis stopped: {exc}")
        return
    _result(result, json.dumps(request, sort_keys=True))


def _result(result: SensitivityResult, request_json: str) -> None:
    """The ranked table and tornado of the chosen KPI, the method and the notes."""
    st.subheader(title(result))
    ranked = list(dict.fromkeys(result.morris["kpi"].to_list()))
    first = headline(result)[0] if ranked else None
    if first is None:
        st.warning("No KPI could be ranked (see the notes).")
    else:
        kpi = st.selectbox("KPI", ranked, index=ranked.index(first), key="sens_kpi")
        st.markdown("Overall ranking: " + ", ".join(result.top(len(result.factors))))
        rows = ranked_rows(result, kpi)
        st.dataframe(pl.DataFrame(rows, schema=HEADER, orient="row").to_pandas(),
                     hide_index=True)
        st.image(tornado_png(request_json, kpi))
    for line in preamble(result):
        st.caption(line)
    with st.expander("Notes (assumptions held fixed or not screened)"):
        for note in result.notes:
            st.markdown(f"- {note}")
