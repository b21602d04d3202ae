"""The page's sections: results, review, map, report, design editor and scenario parameters.

Each function draws one section from values the cached functions in `compute` return; none
of them builds a model itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl
import streamlit as st

from dashboards import compute, editor, export, tables
from dashboards.spec import DesignChoice, RunSpec, upload_choice
from scenarios.precision import summary_lines
from scenarios.registry import names as scenario_names
from scenarios.registry import scenario as scenario_module
from scenarios.scaling import scale_line
from scenarios.sweep import SweepResult
from twin.errors import TwinError
from twin.policy import Review
from twin.policy_report import review_comparison, review_markdown

ROW_PX = 35  # Streamlit's data-grid row height


class ResultsTab:
    """The Results tab of one run, drawn as each scenario's sweep comes in, key figures last."""

    def __init__(self, spec: RunSpec, precision: float = 0.0) -> None:
        self.spec, self.precision = spec, precision
        if spec.scale < 1:  # the first line says the scale (docs/scenarios.md, 'Scale')
            st.warning(scale_line(spec.scale) + ".", icon="📏")
        st.subheader("Key figures")
        st.caption(f"{spec.label()}. Mean [95 % confidence interval] over replications; the last "
                   f"column(s) give each design minus **{spec.names[0]}**, paired by replication, "
                   "with 'better', 'worse' or 'no clear difference' when the interval says so.")
        self.headline = st.empty()
        self.headline.info("The key figures appear when every scenario's replications are in; "
                           "each scenario's comparison appears below as soon as its own are.")
        self.slots = {s: st.empty() for s in spec.scenarios}
        for s, slot in self.slots.items():
            slot.info(f"**{s}**: its replications are running…")

    def scenario(self, scenario: str, sweep: SweepResult, when: str = "") -> None:
        """One scenario's comparison, in its place; `when` says when it came in."""
        with self.slots.pop(scenario).container():
            _scenario_section(self.spec, scenario, sweep, when, self.precision)

    def finish(self, sweeps: Mapping[str, SweepResult], reviews: Sequence[Review]) -> None:
        """Key figures over every scenario, then the cost breakdown."""
        with self.headline.container():
            whole_table(compute.headline_table(spec=self.spec, precision=self.precision,
                                               _sweeps=sweeps, _reviews=reviews), key="headline")
        st.subheader("Cost breakdown")
        st.caption("One-off and yearly figures price the review's counts with each design's unit "
                   "costs (full city); scenario costs are means over replications at the run's "
                   "scale.")
        st.image(compute.cost_plot(spec=self.spec))

    def stopped(self) -> None:
        """The run stopped: clear the places of what did not come in (what did stays)."""
        self.headline.empty()
        for slot in self.slots.values():
            slot.empty()


def whole_table(frame: pl.DataFrame, key: str | None = None) -> None:
    """A table tall enough to show every row without scrolling."""
    st.dataframe(frame, hide_index=True, height=ROW_PX * (frame.height + 1) + 3, key=key)


def _scenario_section(spec: RunSpec, scenario: str, sweep: SweepResult, when: str = "",
                      precision: float = 0.0) -> None:
    """One scenario: KPI comparison, KPI meanings, plots and notes."""
    mod = scenario_module(scenario)
    st.subheader(f"{scenario}: {mod.TITLE}")
    st.caption(mod.__doc__.strip().splitlines()[0])
    if when:
        st.caption(when)
    whole_table(compute.comparison_table(spec=spec, scenario=scenario, precision=precision,
                                         _sweep=sweep), key=f"kpis:{scenario}")
    if sweep.precision:
        st.markdown("\n".join(summary_lines(sweep)))
    with st.expander("What each KPI means"):
        st.markdown("\n".join(f"- **{k.label or k.name}** (`{k.name}`, {k.unit}): {k.doc}"
                               for k in mod.KPIS))
    pngs = [compute.scenario_plot(spec=spec, scenario=scenario, index=i)
            for i in range(len(mod.PLOTS))]
    shown = [p for p in pngs if p is not None]
    for row in range(0, len(shown), 2):
        for col, png in zip(st.columns(2), shown[row:row + 2], strict=False):
            col.image(png, width="stretch")
    notes = sorted({n for _, _, r in sweep.results for n in r.notes})
    if notes:
        with st.expander("Assumptions and notes"):
            st.markdown("\n".join(f"- {n}" for n in notes))


def review(choices: Sequence[DesignChoice], city: str) -> None:
    """The review of the chosen designs side by side (verdicts, benefits beside costs, conditions), then each one in full."""
    if not choices:
        st.info("Pick designs in the sidebar to see their review.")
        return
    reviews = [compute.review_of(design_toml=c.toml, city=city) for c in choices]
    st.subheader("The review, side by side")
    st.caption("Every line states its basis: the report (quoted), the project's reading (with why), an "
               "assumption (with its source) or a law (numbered as on the legal baseline's date). "
               "ACCEPTED: no rule broken and no dependency unmet; CONDITIONAL: a service waits for "
               "action by the nation (or others); REFUSED: a rule broken.")
    verdicts = st.columns(len(reviews))
    for col, r in zip(verdicts, reviews, strict=True):
        if r.refused:
            col.error(f"**{r.design}**: refused, {len(r.refusals)} rule(s) broken")
        elif r.conditions:
            col.warning(f"**{r.design}**: conditional, {len(r.conditions)} dependenc{'ies' if len(r.conditions) != 1 else 'y'} unmet")
        else:
            col.success(f"**{r.design}**: accepted, no rule broken, no dependency unmet")
    whole_table(review_comparison(reviews), key="review")
    st.markdown("**Benefits beside costs** (costs from the design's unit costs, all assumptions; benefits "
                "are the report's main effects the twin computes from the population, valued in "
                "twin/policy_data/benefits.toml)")
    whole_table(tables.money_frame(reviews), key="money")
    st.markdown("**Main effects (主な効果), computed or not**")
    st.dataframe(tables.effects_frame(reviews), hide_index=True, key="effects")
    st.markdown("**Conditions: services waiting for others' action**")
    conditions = tables.conditions_frame(reviews)
    if conditions.height:
        st.dataframe(conditions, hide_index=True, key="conditions")
    else:
        st.write("No enabled service waits for an unmet dependency.")
    for title, frame in (("Ordinances to enact", tables.ordinances_frame(reviews)),
                         ("Privacy impact assessments (PIAs)", tables.pias_frame(reviews)),
                         ("Systems to build or change", tables.systems_frame(reviews))):
        st.markdown(f"**{title}**")
        whole_table(frame)
    st.markdown("**Refusals, with their reasons**")
    refusals = tables.refusals_frame(reviews)
    if refusals.height:
        st.dataframe(refusals, hide_index=True, key="refusals")
    else:
        st.write("No design breaks a rule.")
    for r in reviews:
        with st.expander(f"Full review of {r.design}"):
            st.markdown(review_markdown(r))


def service_map(choices: Sequence[DesignChoice], city: str, scale: float) -> None:
    """Shelters, kiosks and counters of the city as each design equips them."""
    if not choices:
        st.info("Pick designs in the sidebar to see their service points.")
        return
    whole = st.toggle("Whole city (scale 1)", value=False, key="map_whole",
                      help="Off: the synthetic city at the run's scale (facilities scale with "
                      "the population). On: the whole city, which may take a few seconds.")
    used = 1.0 if whole else scale
    st.caption(f"{city} at scale {used:g}, city seed 0. Public kiosks fill the candidate sites "
               "of each ward up to the design's kiosks per ward; store kiosks appear when the "
               "design offers convenience-store issuance.")
    st.image(compute.map_plot(city=city, seed=0, scale=used,
                              design_tomls=tuple(c.toml for c in choices)))


def report(spec: RunSpec) -> None:
    """Download buttons for the council report (zip with PNGs, or one self-contained file)."""
    st.subheader("Report for the council")
    st.caption("Markdown with the plots: the setting, key figures, the review side by side, "
               "costs, the map, every scenario's KPIs and plots, and each design's full review. "
               "The files are made when you click.")
    st.download_button("Download report (.zip: report.md, plots, designs)",
                       data=lambda: export.report_zip(spec, *compute.report_parts(spec=spec)),
                       file_name="report.zip", mime="application/zip", on_click="ignore",
                       key="download_zip", type="primary")
    st.download_button("Download report.md with the plots embedded",
                       data=lambda: export.inline_images(*compute.report_parts(spec=spec)),
                       file_name="report.md", mime="text/markdown", on_click="ignore",
                       key="download_md")


def design_editor(pool: Mapping[str, DesignChoice], shipped: Sequence[str]) -> None:
    """Edit a copy of a design (one widget per field) or upload one; add it to the comparison."""
    st.caption("Every design field is a widget (hover the ? for its unit, valid range and "
               "source); the copy is checked exactly as a design file is. Runs use the city "
               "picked in the sidebar; the design's own city field is kept in its file.")
    base_name = st.selectbox("Start from", list(pool), key="edit_base")
    base = pool[base_name].design()
    values = editor.editor(base, base_name, f"{base_name}-edited")
    design, problems = editor.validate(values)
    if design is not None and design.name in shipped:
        problems = [f"name: {design.name!r} is a shipped design; give the copy a new name"]
        design = None
    if problems:
        st.error("The edited design is not valid:\n\n" + "\n".join(f"- {p}" for p in problems))
    else:
        st.success(f"Valid. Services: {', '.join(design.enabled_services()) or 'none'}.")
        choice = DesignChoice.of(design, "edited in the dashboard")
        st.button(f"Add {design.name!r} to the designs", on_click=_add_design, args=(choice,),
                  key="edit_add", type="primary")
        st.download_button("Download as TOML", data=choice.toml,
                           file_name=f"{design.name}.toml", key="edit_download")
    upload = st.file_uploader("Or add a design file (TOML)", type=["toml"], key="edit_upload")
    if upload is not None:
        try:
            choice = upload_choice(upload.name, upload.getvalue())
        except TwinError as exc:
            st.error(str(exc))
        else:
            st.button(f"Add {choice.name!r} from {upload.name}", on_click=_add_design,
                      args=(choice,), key="upload_add")


def _add_design(choice: DesignChoice) -> None:
    """Callback: keep the design for this session and select it for comparison."""
    st.session_state.setdefault("custom_designs", {})[choice.name] = choice
    picked = list(st.session_state.get("designs", []))
    if choice.name not in picked:
        st.session_state["designs"] = [*picked, choice.name]


def parameters() -> None:
    """Every scenario's parameters with units, defaults and ranges (what the settings may set)."""
    st.caption("Set any of these per scenario in the sidebar's scenario settings, one KEY=VALUE "
               "per line (lists as [1, 2]). Design fields are set in the design editor.")
    for name in scenario_names():
        rows = [{"parameter": f["name"], "type": f["type"], "default": str(f["default"]),
                 "unit": f["unit"], "range": _range(f.get("lo"), f.get("hi")), "meaning": f["doc"]}
                for f in scenario_module(name).Params.describe()]
        with st.expander(f"{name}: {scenario_module(name).TITLE}"):
            st.dataframe(pl.DataFrame(rows), hide_index=True)


def _range(lo: object, hi: object) -> str:
    if lo is None and hi is None:
        return ""
    return f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
