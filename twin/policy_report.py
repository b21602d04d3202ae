"""The review as values a reader can take away: a JSON-ready dict, text and Markdown, each line with its basis.

The flat CSV frame and the side-by-side comparison live in twin/policy_tables.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from twin.policy import Review, ServiceReview
from twin.policy_basis import article_label, as_of, laws
from twin.policy_benefits import benefit_values
from twin.policy_rules import POINTS, SYSTEM_RUNNERS, policy_data
from twin.policy_tables import design_money, review_comparison, review_frame, service_money

__all__ = ["review_comparison", "review_dict", "review_frame", "review_markdown", "review_text", "verdict_line"]

STATUS_WORDS = {
    "allowed": "allowed under the law as of {date}",
    "ordinance": "allowed once an ordinance is enacted (law as of {date})",
    "not_allowed": "NOT allowed under the law as of {date}",
}
RUNNER_WORDS = {"city": "the city itself", "other_local": "other local governments (incl. J-LIS)", "nation": "the nation", "private": "private bodies"}
BASIS_NOTE = (
    "Every line gives its basis: **report** (the report's own words, quoted, with its lines), **reading** (the project's "
    "interpretation of the lines named, and why), **assumption** (a figure or rule from elsewhere, with its source) or "
    "**law** (an article as numbered on the legal baseline's date). Lines Lnnn are lines of "
    "reference/000_fcce5ae4be52a8e2.txt (指定都市市長会「マイナンバー制度の独自活用について」)."
)


def status_words(s: ServiceReview) -> str:
    """The service's legal status in words, dated; 'blocked until ...' when a dependency is unmet."""
    words = STATUS_WORDS[s.legal_status].format(date=as_of())
    return f"{s.status} ({words})" if s.blocked else words


def ordinance_label(key: str) -> str:
    """The ordinance's label from the review data."""
    return policy_data()["ordinances"][key]["label"]


def system_label(key: str) -> str:
    """The system's label from the review data."""
    return policy_data()["systems"][key]["label"]


def systems_by_runner(r: Review) -> dict[str, list[str]]:
    """The systems the design touches, sorted by who runs them (city, other local governments, nation, private; L149-152)."""
    systems = policy_data()["systems"]
    return {who: [x for x in r.systems_touched if systems[x]["runs"] == who] for who in SYSTEM_RUNNERS}


def baseline_line() -> str:
    """The legal baseline: its date and why (a reading)."""
    b = laws()["baseline"]
    return f"legal baseline: statutes as numbered on {b['as_of']} (reading of {b['ref']}: {b['why']})"


def review_dict(r: Review) -> dict[str, Any]:
    """JSON-ready review: verdict, services keyed by the design's service keys, totals, refusals, conditions."""
    return {
        "design": r.design,
        "city": dataclasses.asdict(r.city),
        "verdict": r.verdict,
        "accepted": r.verdict == "ACCEPTED",
        "legal_baseline": {"as_of": as_of(), **{k: laws()["baseline"][k] for k in ("basis", "ref", "why")}},
        "refusals": [dataclasses.asdict(x) for x in r.refusals],
        "conditions": [dataclasses.asdict(d) | {"status": d.status()} for d in r.conditions],
        "services": {s.service: _service_dict(s) for s in r.services},
        "disabled": list(r.disabled),
        "common": [dataclasses.asdict(f) for f in r.common],
        "totals": {
            "ordinances_to_enact": [
                {"key": o, "label": ordinance_label(o), "kind": policy_data()["ordinances"][o]["kind"], "ref": policy_data()["ordinances"][o]["ref"]}
                for o in r.ordinances_to_enact
            ],
            "pias_needed": list(r.pias_needed),
            "systems_touched": list(r.systems_touched),
            "systems_by_runner": systems_by_runner(r),
            "residents_on_non_card_path": r.residents_on_non_card_path,
            "residents_on_non_card_path_at_target": r.residents_on_non_card_path_at_target,
            "costs": dataclasses.asdict(r.costs),
            "timeline": {"horizon_fiscal_year": r.horizon, **design_money(r)},
        },
    }


def _service_dict(s: ServiceReview) -> dict[str, Any]:
    return {
        "name": s.name,
        "name_ja": s.name_ja,
        "proposals": {"count": s.proposals, "of": 74, "counts": "proposals, not cities", "basis": dataclasses.asdict(s.proposals_basis) if s.proposals_basis else None},
        "start_fiscal_year": s.start_fiscal_year,
        "legal_status": s.legal_status,
        "status": s.status,
        "articles": [{"article": a, "as_numbered": article_label(a)} for a in s.articles],
        "ordinances": list(s.ordinances),
        "number_ordinances": list(s.number_ordinances),
        "systems": list(s.systems),
        "specific_personal_information_file": s.spi_file,
        "pia_required": s.pia_required,
        "card_needed": s.card_needed,
        "non_card_path": s.non_card_path or None,
        "residents_without_card": s.residents_without_card,
        "agency_fees": list(s.agency_fees),
        "publicity": s.publicity,
        "points": {str(n): [dataclasses.asdict(f) for f in s.point(n)] for n in POINTS},
        "dependencies": [dataclasses.asdict(d) | {"status": d.status()} for d in s.dependencies],
        "effects": [dataclasses.asdict(e) for e in s.effects],
        "not_modelled": [dataclasses.asdict(f) for f in s.not_modelled],
        "refusals": [dataclasses.asdict(x) for x in s.refusals],
    }


def verdict_line(r: Review) -> str:
    """The verdict with its count: 'REFUSED: 2 rules broken', 'CONDITIONAL: 1 dependency unmet' or 'ACCEPTED: …'."""
    if r.refused:
        return f"REFUSED: {len(r.refusals)} rule{'s' * (len(r.refusals) != 1)} broken"
    if r.conditions:
        return f"CONDITIONAL: {len(r.conditions)} dependenc{'ies' if len(r.conditions) != 1 else 'y'} unmet"
    return "ACCEPTED: no rule broken, no dependency unmet"




def _yen(x: float) -> str:
    return f"¥{x / 1e6:,.1f}M" if abs(x) >= 1e6 else f"¥{x:,.0f}"


def effect_words(e: Any) -> str:
    """An effect in words: the quantity, its value and the yen, or why the twin cannot compute it."""
    if not e.computed:
        return f"not computed: {e.not_computed}"
    per = "per event" if e.per_event else "per year"
    q = f"{e.quantity_at_horizon:,.0f} {e.unit} at FY-horizon ownership"
    if e.yen_per_unit is None:
        return f"{q} (no yen value)"
    total = "" if e.yen_over_timeline is None else f"; {_yen(e.yen_over_timeline)} over the timeline"
    return f"{q} × {e.valuation} = {_yen(e.yen_per_year_at_horizon or 0)} {per}{total}{' [rests on assumptions]' if e.assumed else ''}"


def _totals_lines(r: Review) -> list[str]:
    c, m = r.costs, design_money(r)
    by = systems_by_runner(r)
    return [
        "Totals:",
        f"  ordinances to enact ({len(r.ordinances_to_enact)}): " + "; ".join(ordinance_label(o) for o in r.ordinances_to_enact),
        f"  PIAs needed ({len(r.pias_needed)}): {', '.join(r.pias_needed) or 'none'}",
        f"  systems touched ({len(r.systems_touched)}), by who runs them (L149-152): "
        + "; ".join(f"{RUNNER_WORDS[w]}: {', '.join(xs)}" for w, xs in by.items() if xs),
        f"  residents relying on the non-card path: {r.residents_on_non_card_path:,} today, {r.residents_on_non_card_path_at_target:,} at the ownership target",
        f"  costs (design unit costs; {m['cost_lines_assumed']} of {m['cost_lines']} cost lines rest on assumptions: {_assumed_costs(r)}): systems ¥{c.system_changes_yen:,}; public kiosks ¥{c.public_kiosks_yen:,} + ¥{c.kiosk_upkeep_yen_per_year:,}/yr; "
        f"shelter readers ¥{c.shelter_readers_yen:,}; card agency (J-LIS) ¥{c.card_agency_fees_yen_per_year:,}/yr + ¥{c.card_agency_install_fees_yen:,} install fees; publicity ¥{c.publicity_yen_per_year:,}/yr",
        f"  over the timeline to FY{r.horizon}: costs {_yen(m['costs_over_timeline_yen'])} (assumed unit costs) beside computed benefits {_yen(m['benefits_over_timeline_yen'])} "
        f"({m['benefits_resting_on_assumptions']} of {m['benefits_valued']} valued effects rest on assumptions; {m['effects_not_computed']} effects the twin cannot compute)",
    ]


def _assumed_costs(r: Review) -> str:
    keys = dict.fromkeys(part.split(":")[0] for c in r.cost_lines if c.basis.kind == "assumption" for part in c.basis.source.split("; "))
    return ", ".join(keys) or "none"


def review_text(r: Review) -> str:
    """The review as plain text for a terminal; every line ends with its basis."""
    out = [f"Review of design {r.design!r} for {r.city.name} ({r.city.name_ja}): {verdict_line(r)}", f"  city: {r.city.basis}", f"  {baseline_line()}"]
    out += [f"  ! [{x.service}] {x.reason}  [{x.basis.label()}]" for x in r.refusals]
    out += [f"  ? [{d.service}] {d.status()}: {d.what} (who must act: {d.who})  [{d.basis.label()}]" for d in r.conditions]
    for s in r.services:
        out += ["", f"[{s.service}] {s.name} ({s.name_ja}), {s.proposals} of the report's 74 proposals, from FY{s.start_fiscal_year}: {status_words(s)}"]
        out.append(f"  PIA required: {'yes' if s.pia_required else 'no'}; number ordinances: {', '.join(s.number_ordinances) or 'none'}")
        out += [f"  article: {article_label(a)}" for a in s.articles]
        for n, title in POINTS.items():
            lines = s.point(n)
            if lines:
                out.append(f"  {n}. {title}")
                out += [f"     - {f.text}  [{f.basis.label()}]" for f in lines]
        out += [f"  depends on: {d.what}: {d.status()}  [{d.basis.label()}]" for d in s.dependencies]
        out += [f"  effect: {e.text.rstrip('.')}: {effect_words(e)}  [{e.basis.label()}]" for e in s.effects]
        out += [f"  not modelled: {f.text}  [{f.basis.label()}]" for f in s.not_modelled]
    out += ["", "City-wide:"] + [f"  - {f.text}  [{f.basis.label()}]" for f in r.common]
    out += ["", f"Cost lines (to FY{r.horizon}):"]
    out += [f"  - [{c.service}] {c.item}: {_yen(c.yen_once)} once + {_yen(c.yen_per_year)}/yr × {c.years} yr = {_yen(c.yen_over_timeline)}  [{c.basis.label()}]" for c in r.cost_lines]
    out += ["", *_totals_lines(r)]
    return "\n".join(out)


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def review_markdown(r: Review) -> str:
    """The review as a Markdown document: verdict, services, dependencies, benefits beside costs, each checklist with its bases."""
    out = [f"# Review of design `{r.design}` — {r.city.name} ({r.city.name_ja})", "", f"**{verdict_line(r)}**", "", f"City: {r.city.basis}.", "", f"{_md(baseline_line())}.", "", BASIS_NOTE]
    if r.refusals:
        out += ["", "## Refusals", "", "| service | rule | reason | basis |", "|---|---|---|---|"]
        out += [f"| {x.service} | {x.rule} | {_md(x.reason)} | {_md(x.basis.label())} |" for x in r.refusals]
    if r.conditions:
        out += ["", "## Conditions (CONDITIONAL until met)", "", "| service | blocked until | who must act | basis |", "|---|---|---|---|"]
        out += [f"| {d.service} | {_md(d.until)} | {d.who} | {_md(d.basis.label())} |" for d in r.conditions]
    out += ["", "## Services", "", "| service | proposals (of 74) | from FY | status | number ordinances | PIA | non-card path | residents without a card |", "|---|---|---|---|---|---|---|---|"]
    for s in r.services:
        path = _md(s.non_card_path) if s.non_card_path else ("not needed" if not s.card_needed else "**none**")
        out.append(f"| {s.service} | {s.proposals} | {s.start_fiscal_year} | {_md(status_words(s))} | {', '.join(s.number_ordinances) or '—'} | {'yes' if s.pia_required else 'no'} | {path} | {s.residents_without_card:,} |")
    out += ["", "Proposal counts are the report's 74 proposals from 18 of 20 cities, by category (ch.4 p.4 L213-288): counts of proposals, not of cities."]
    out += _md_dependencies(r) + _md_money(r) + _md_systems(r)
    for s in r.services:
        out += ["", f"## {s.service}: {s.name} ({s.name_ja})", "", f"{s.proposals} of 74 proposals; status: {_md(status_words(s))}."]
        out += [f"- article: {_md(article_label(a))}" for a in s.articles]
        out += ["", "| point | finding | basis |", "|---|---|---|"]
        out += [f"| {f.point}. {POINTS[f.point].split(' (')[0]} | {_md(f.text)}{' *(reading)*' if f.basis.kind == 'reading' else ''} | {_md(f.basis.label())} |" for f in s.findings]
        out += ["", "Main effects (主な効果):", "", "| effect | the twin's figure | basis |", "|---|---|---|"]
        out += [f"| {_md(e.text)} | {_md(effect_words(e))} | {_md(e.basis.label())} |" for e in s.effects]
        if s.not_modelled:
            out += ["", "Not modelled by the twin:", ""] + [f"- {_md(f.text)} ({_md(f.basis.label())})" for f in s.not_modelled]
    out += ["", "## City-wide", ""] + [f"- {_md(f.text)} ({_md(f.basis.label())})" for f in r.common]
    out += ["", "## Totals", ""] + [f"- {line.strip()}" for line in _totals_lines(r)[1:]]
    return "\n".join(out) + "\n"


def _md_dependencies(r: Review) -> list[str]:
    deps = [d for s in r.services for d in s.dependencies]
    if not deps:
        return ["", "## Dependencies", "", "No enabled service waits for action by others."]
    out = ["", "## Dependencies", "", "| service | depends on | who must act | the design says | basis |", "|---|---|---|---|---|"]
    return out + [f"| {d.service} | {_md(d.what)} | {d.who} | {_md(d.status())} | {_md(d.basis.label())} |" for d in deps]


def _md_money(r: Review) -> list[str]:
    m = design_money(r)
    out = ["", f"## Benefits beside costs, to FY{r.horizon}", "",
           "Costs are priced from the design's unit costs (every one an assumption); benefits are the report's main effects that the twin "
           "computes from the population and the design (unit values in twin/policy_data/benefits.toml, each with source and status). "
           "Each effect counts against not running the service (kiosks against counters only, linkage against fetched certificates), "
           "so compare designs by their difference (e.g. against the baseline).", "",
           "| service | costs once | costs per year | costs over the timeline | computed benefits per year | computed benefits over the timeline | effects not computed |",
           "|---|---|---|---|---|---|---|"]
    for s in r.services:
        x = service_money(r, s.service)
        missing = sum(1 for e in s.effects if not e.computed)
        out.append(f"| {s.service} | {_yen(x['costs_once_yen'])} | {_yen(x['costs_per_year_yen'])} | {_yen(x['costs_over_timeline_yen'])} | "
                   f"{_yen(x['benefits_per_year_at_horizon_yen'])} | {_yen(x['benefits_over_timeline_yen'])} | {missing} of {len(s.effects)} |")
    out.append(f"| **design** | | | **{_yen(m['costs_over_timeline_yen'])}** | | **{_yen(m['benefits_over_timeline_yen'])}** | {m['effects_not_computed']} |")
    out += ["", "Cost lines:", "", "| service | item | once | per year | years | over the timeline | basis |", "|---|---|---|---|---|---|---|"]
    out += [f"| {c.service} | {_md(c.item)} | {_yen(c.yen_once)} | {_yen(c.yen_per_year)} | {c.years} | {_yen(c.yen_over_timeline)} | {_md(c.basis.label())} |" for c in r.cost_lines]
    out += ["", "Unit values and rates the benefits use (twin/policy_data/benefits.toml):", ""]
    out += [f"- {k} = {v['value']:g} {v['unit']}: {v['status']} ({_md(v['source'])})" for k, v in benefit_values().items() if k in _figures_used(r)]
    return out


def _figures_used(r: Review) -> set[str]:
    return {f.split(" = ")[0] for e in r.effects for f in e.figures}


def _md_systems(r: Review) -> list[str]:
    out = ["", "## Systems (③) by who runs them", "", "Chapter 3 sorts the systems to check by who runs them (L149-152); who runs each is the project's reading where the report does not say.", ""]
    return out + [f"- **{RUNNER_WORDS[w]}**: " + "; ".join(system_label(x) for x in xs) for w, xs in systems_by_runner(r).items() if xs]
