"""The dashboard's tables as polars frames: key figures, KPI comparisons, the review and its benefits beside costs.

Cells are text ("mean [low, high]", "✓", "—") so the page and the report show the same
figures; the numeric tables stay available from `SweepResult.table()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from scenarios.registry import scenario as scenario_module
from scenarios.report import ci_text as report_ci_text
from scenarios.report import comparison_header, comparison_rows
from scenarios.sweep import SweepResult
from twin.policy import Review
from twin.policy_report import effect_words, ordinance_label, system_label
from twin.policy_rules import policy_data
from twin.policy_tables import design_money, service_money

YES, NO = "✓", "—"


@dataclass(frozen=True, slots=True)
class Headline:
    """One key figure the planners compare: which scenario's KPI, under what name."""

    scenario: str
    kpi: str
    label: str


# The list: waits, time to register evacuees, head-count accuracy, counter load, kiosk
# share, requests avoided by linkage, payment throughput, cost in yen (and, from the review,
# residents relying on the non-card path).
HEADLINES = (
    Headline("disaster", "checkin_wait_p95_min", "shelter check-in wait, 95th percentile"),
    Headline("disaster", "time_to_95pct_registered_h", "time until 95 % of evacuees are registered"),
    Headline("disaster", "hq_error_mean", "HQ head-count error, mean over time"),
    Headline("disaster", "households_found_all_share", "apart households that found every member"),
    Headline("certificates", "counter_wait_p95_min", "ward-counter wait, 95th percentile"),
    Headline("certificates", "counter_utilisation", "counter load (windows busy)"),
    Headline("certificates", "kiosk_share", "kiosk share of certificates issued"),
    Headline("certificates", "avoided_by_linkage", "certificate requests avoided by linkage"),
    Headline("payments", "throughput_per_s", "payment throughput"),
    Headline("payments", "latency_p99_ms", "payment latency, 99th percentile"),
    Headline("payments", "lost", "payments lost (must be 0)"),
    Headline("payments", "duplicated", "payments posted twice (must be 0)"),
    Headline("disaster", "cost_yen", "disaster check-in cost (staff and readers)"),
    Headline("certificates", "cost_yen", "certificate issuance cost over the period"),
)


def ci_text(mean: float, low: float, high: float, unit: str, needs: int = 0) -> str:
    """'mean [low, high]', or the mean and what is missing when there is no interval."""
    return report_ci_text(mean, low, high, unit, needs)


def comparison_frame(sweep: SweepResult) -> pl.DataFrame:
    """Every KPI of a scenario: each design's mean [95 % CI], each difference to the first."""
    header = comparison_header(sweep)
    rows = comparison_rows(sweep)
    return pl.DataFrame({h: [r[i] for r in rows] for i, h in enumerate(header)},
                        schema={h: pl.Utf8 for h in header})


def headline_frame(sweeps: Mapping[str, SweepResult], reviews: Sequence[Review]) -> pl.DataFrame:
    """The key figures of every design side by side, with 95 % CIs and differences to the first."""
    names = [r.design for r in reviews]
    rows = [_headline_row(h, sweeps[h.scenario], names) for h in HEADLINES
            if h.scenario in sweeps and _has_kpi(h)]
    rows += [_review_row("residents relying on the non-card path (today)",
                         [r.residents_on_non_card_path for r in reviews], names),
             _review_row("… at the card-ownership target",
                         [r.residents_on_non_card_path_at_target for r in reviews], names)]
    cols = ["figure", "scenario", "unit", *names, *[f"{n} − {names[0]}" for n in names[1:]]]
    return pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows],
                        schema={c: pl.Utf8 for c in cols})


def _has_kpi(h: Headline) -> bool:
    return any(k.name == h.kpi for k in scenario_module(h.scenario).KPIS)


def _headline_row(h: Headline, sweep: SweepResult, names: Sequence[str]) -> list[str]:
    """One key figure: label, scenario, unit, each design's interval, each difference."""
    table = sweep.table().filter(pl.col("kpi") == h.kpi)
    diffs = sweep.differences().filter(pl.col("kpi") == h.kpi)
    unit = table["unit"][0]
    row = [h.label, h.scenario, unit]
    for name in names:
        r = table.filter(pl.col("design") == name).row(0, named=True)
        row.append(ci_text(r["mean"], r["ci_low"], r["ci_high"], unit, r["needs_reps"]))
    for name in names[1:]:
        r = diffs.filter(pl.col("design") == name).row(0, named=True)
        verdict = f" {r['verdict']}" if r["verdict"] else ""
        row.append(ci_text(r["difference"], r["ci_low"], r["ci_high"], unit) + verdict)
    return row


def _review_row(label: str, values: Sequence[int], names: Sequence[str]) -> list[str]:
    """A figure from the review: exact counts, no interval."""
    diffs = [f"{v - values[0]:+,}" for v in values[1:]]
    return [label, "review", "people", *[f"{v:,}" for v in values], *diffs]


def _marks(keys: Sequence[str], labels: Sequence[str], has: Sequence[set[str]],
           names: Sequence[str], first: str) -> pl.DataFrame:
    """A table of items (rows) against designs (columns), marked ✓ or —."""
    data = {first: list(labels)} | {n: [YES if k in h else NO for k in keys]
                                    for n, h in zip(names, has, strict=True)}
    return pl.DataFrame(data, schema={first: pl.Utf8, **{n: pl.Utf8 for n in names}})


def ordinances_frame(reviews: Sequence[Review]) -> pl.DataFrame:
    """Ordinances to enact (rows) for each design (columns), with the law they rest on."""
    keys = list(dict.fromkeys(o for r in reviews for o in r.ordinances_to_enact))
    labels = [f"{ordinance_label(k)} [{policy_data()['ordinances'][k]['law']}]" for k in keys]
    return _marks(keys, labels, [set(r.ordinances_to_enact) for r in reviews],
                  [r.design for r in reviews], "ordinance")


def systems_frame(reviews: Sequence[Review]) -> pl.DataFrame:
    """Systems to build or change (rows) for each design (columns)."""
    keys = list(dict.fromkeys(x for r in reviews for x in r.systems_touched))
    labels = [system_label(k) for k in keys]
    return _marks(keys, labels, [set(r.systems_touched) for r in reviews],
                  [r.design for r in reviews], "system")


def pias_frame(reviews: Sequence[Review]) -> pl.DataFrame:
    """Privacy impact assessments (rows: services holding a specific-personal-information file)."""
    keys = list(dict.fromkeys(s for r in reviews for s in r.pias_needed))
    names = {s.service: f"{s.service}: {s.name}" for r in reviews for s in r.services}
    return _marks(keys, [names[k] for k in keys], [set(r.pias_needed) for r in reviews],
                  [r.design for r in reviews], "PIA for")


def refusals_frame(reviews: Sequence[Review]) -> pl.DataFrame:
    """Every refusal of every design: which service, which rule, why, and its basis (report, reading or law)."""
    rows = [{"design": r.design, "service": x.service, "rule": x.rule, "reason": x.reason,
             "basis": x.basis.label(), "lines": x.ref} for r in reviews for x in r.refusals]
    return pl.DataFrame(rows, schema={c: pl.Utf8 for c in
                                      ("design", "service", "rule", "reason", "basis", "lines")})


def conditions_frame(reviews: Sequence[Review]) -> pl.DataFrame:
    """Every unmet dependency of every design: the service, what it waits for, who must act, the basis."""
    rows = [{"blocked until": d.until, "design": r.design, "service": d.service, "who must act": d.who,
             "basis": d.basis.label()} for r in reviews for d in r.conditions]
    return pl.DataFrame(rows, schema={c: pl.Utf8 for c in
                                      ("blocked until", "design", "service", "who must act", "basis")})


def money_frame(reviews: Sequence[Review]) -> pl.DataFrame:
    """Costs beside computed benefits per design and service over each design's timeline (yen, millions)."""
    rows = []
    for r in reviews:
        for s in r.services:
            m = service_money(r, s.service)
            rows.append({"service": s.service, "design": r.design, "to FY": str(r.horizon),
                         "costs once (¥M)": m["costs_once_yen"] / 1e6,
                         "costs per year (¥M)": m["costs_per_year_yen"] / 1e6,
                         "costs to the horizon (¥M)": m["costs_over_timeline_yen"] / 1e6,
                         "computed benefits per year (¥M)": m["benefits_per_year_at_horizon_yen"] / 1e6,
                         "computed benefits to the horizon (¥M)": m["benefits_over_timeline_yen"] / 1e6,
                         "effects not computed": f"{sum(1 for e in s.effects if not e.computed)} of {len(s.effects)}"})
        d = design_money(r)
        rows.append({"service": "(design)", "design": r.design, "to FY": str(r.horizon), "costs once (¥M)": None,
                     "costs per year (¥M)": None, "costs to the horizon (¥M)": d["costs_over_timeline_yen"] / 1e6,
                     "computed benefits per year (¥M)": None,
                     "computed benefits to the horizon (¥M)": d["benefits_over_timeline_yen"] / 1e6,
                     "effects not computed": str(d["effects_not_computed"])})
    money = {c: pl.Float64 for c in ("costs once (¥M)", "costs per year (¥M)", "costs to the horizon (¥M)",
                                     "computed benefits per year (¥M)", "computed benefits to the horizon (¥M)")}
    return pl.DataFrame(rows, schema={"service": pl.Utf8, "design": pl.Utf8, "to FY": pl.Utf8, **money,
                                      "effects not computed": pl.Utf8})


def effects_frame(reviews: Sequence[Review]) -> pl.DataFrame:
    """Each main effect (主な効果) of each design's services: the twin's figure, or why it has none, and the report's words."""
    rows = [{"effect": e.text, "design": r.design, "service": e.service,
             "the twin's figure": effect_words(e), "basis": e.basis.label()} for r in reviews for e in r.effects]
    return pl.DataFrame(rows, schema={c: pl.Utf8 for c in ("effect", "design", "service", "the twin's figure", "basis")})


def markdown(frame: pl.DataFrame) -> str:
    """A frame as a GitHub-flavoured Markdown table (pipes escaped)."""
    cols = frame.columns
    esc = lambda v: ("" if v is None else str(v)).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    out = ["| " + " | ".join(map(esc, cols)) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(esc(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(out)
