"""The "Optimise" tab: the same search as `run.py optimise`, asked from the page and cached."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from scenarios.registry import names as scenario_names

DEFAULT_VARY = "safety.readers_per_shelter=1:6\nsafety.paper_form_staff_per_shelter=1:4"
DEFAULT_TARGETS = "checkin_wait_p95_min<=30"


def _lines(text: str) -> list[str]:
    """The non-empty lines of a text area."""
    return [s.strip() for s in text.splitlines() if s.strip()]


@st.cache_data(max_entries=16, show_spinner=False)
def optimise(*, base: str, city: str, scenarios: tuple[str, ...], scale: float,
             vary: tuple[str, ...], targets: tuple[str, ...], objective: str, trials: int,
             reps: int, seed: int) -> dict[str, Any]:
    """Run one search in this process (cached by its request) and keep its files' bytes."""
    import argparse

    from cli.optimise import build
    from scenarios.optimise import search
    from scenarios.optimise_report import write_outputs

    args = argparse.Namespace(vary=list(vary), base=base, city=city, scenarios=list(scenarios),
                              scale=scale, target=list(targets), param=[], pareto=None,
                              maximise=None, minimise=objective, trials=trials, reps=reps,
                              batch=4, finalists=2, final_reps=None, sequential=True)
    problem, tgt, obj = build(args)
    outcome = search(problem, tgt, obj, trials=trials, reps=reps, seed=seed, batch=4,
                     finalists=2)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_outputs(problem, outcome, Path(tmp), f"{city}, base {base}",
                              [f"Population scale {scale:g}."])
        files = {k: p.read_bytes() for k, p in paths.items()}
    return {"outcome": outcome, "files": files}


def optimise_tab(designs: list[str], city: str, scale: float) -> None:
    """Ask for fields, ranges and targets; show the cheapest design that meets them."""
    from scenarios.optimise_report import _headline
    from twin.errors import TwinError

    st.markdown("Search numeric design fields for the design that minimises an objective "
                "(default: **cost**, the scenarios' costs summed) while meeting every target. "
                "A target counts as met only when its 95 % interval's bad end meets it; the "
                "best designs are re-run with more replications before one is named. "
                f"Population scale **{scale:g}** (from the sidebar).")
    left, right = st.columns(2)
    base = left.selectbox("Base design", designs, index=designs.index("full")
                          if "full" in designs else 0, key="opt:base")
    chosen = left.multiselect("Scenarios run per trial", scenario_names(),
                              default=["disaster"], key="opt:scenarios")
    vary = left.text_area("Vary (FIELD=LOW:HIGH[:STEP], one per line)", DEFAULT_VARY,
                          key="opt:vary")
    targets = right.text_area("Targets (KPI<=VALUE or KPI>=VALUE, one per line)",
                              DEFAULT_TARGETS, key="opt:targets")
    objective = right.text_input("Minimise", "cost", key="opt:objective")
    trials = int(right.number_input("Trials", 2, 200, 12, key="opt:trials"))
    reps = int(right.number_input("Replications per trial", 3, 20, 3, key="opt:reps"))
    if not st.button("Search", type="primary", key="opt:run"):
        return
    try:
        with st.spinner("Searching (the scenarios run once per trial and replication)…"):
            got = optimise(base=base, city=city, scenarios=tuple(chosen), scale=scale,
                           vary=tuple(_lines(vary)), targets=tuple(_lines(targets)),
                           objective=objective.strip() or "cost", trials=trials, reps=reps,
                           seed=int(st.session_state.get("seed", 0)))
    except TwinError as exc:
        st.error(f"Cannot search: {exc}")
        return
    outcome, files = got["outcome"], got["files"]
    (st.success if outcome.feasible else st.warning)(_headline(outcome))
    shown = outcome.best or outcome.closest
    if shown is not None:
        st.dataframe([{"KPI": k, "mean": e.mean, "low": e.low, "high": e.high, "reps": e.n}
                      for k, e in shown.estimates.items()], hide_index=True)
    if "plot" in files:
        st.image(files["plot"])
    st.dataframe(outcome.trials_frame().to_pandas(), hide_index=True)
    if "design" in files:
        st.download_button("Download the best design (TOML)", files["design"], "best.toml",
                           key="opt:download")
    st.download_button("Download the report (Markdown)", files["report"], "optimise.md",
                       key="opt:report")
