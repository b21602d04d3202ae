"""The review as values a reader can take away: a JSON-ready dict, text, Markdown and a flat frame."""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl

from twin.design import SERVICE_KEYS
from twin.policy import Review, ServiceReview
from twin.policy_rules import POINTS, policy_data

STATUS_WORDS = {
    "allowed": "allowed under current law",
    "ordinance": "allowed once an ordinance is enacted",
    "not_allowed": "NOT allowed under current law",
}


def ordinance_label(key: str) -> str:
    """The ordinance's label from the review data."""
    return policy_data()["ordinances"][key]["label"]


def system_label(key: str) -> str:
    """The system's label from the review data."""
    return policy_data()["systems"][key]["label"]


def review_dict(r: Review) -> dict[str, Any]:
    """JSON-ready review: services keyed by the design's service keys, totals, refusals."""
    return {
        "design": r.design,
        "city": dataclasses.asdict(r.city),
        "accepted": not r.refused,
        "refusals": [dataclasses.asdict(x) for x in r.refusals],
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
            "residents_on_non_card_path": r.residents_on_non_card_path,
            "residents_on_non_card_path_at_target": r.residents_on_non_card_path_at_target,
            "costs": dataclasses.asdict(r.costs),
        },
    }


def _service_dict(s: ServiceReview) -> dict[str, Any]:
    return {
        "name": s.name,
        "name_ja": s.name_ja,
        "start_fiscal_year": s.start_fiscal_year,
        "legal_status": s.legal_status,
        "articles": list(s.articles),
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
        "refusals": [dataclasses.asdict(x) for x in s.refusals],
    }


def _verdict(r: Review) -> str:
    if not r.refused:
        return "ACCEPTED: no rule broken"
    return f"REFUSED: {len(r.refusals)} rule{'s' * (len(r.refusals) != 1)} broken"


def review_text(r: Review) -> str:
    """The review as plain text for a terminal."""
    out = [f"Review of design {r.design!r} for {r.city.name} ({r.city.name_ja}): {_verdict(r)}", f"  city: {r.city.basis}"]
    out += [f"  ! [{x.service}] {x.reason}  ({x.ref})" for x in r.refusals]
    for s in r.services:
        out += ["", f"[{s.service}] {s.name} ({s.name_ja}), from FY{s.start_fiscal_year}: {STATUS_WORDS[s.legal_status]}"]
        out.append(f"  PIA required: {'yes' if s.pia_required else 'no'}; number ordinances: {', '.join(s.number_ordinances) or 'none'}")
        for n, title in POINTS.items():
            lines = s.point(n)
            if lines:
                out.append(f"  {n}. {title}")
                out += [f"     - {f.text}  [{f.ref}{'; reading' if f.basis == 'reading' else ''}]" for f in lines]
    out += ["", "City-wide:"] + [f"  - {f.text}  [{f.ref}]" for f in r.common]
    out += ["", *_totals_lines(r)]
    return "\n".join(out)


def _totals_lines(r: Review) -> list[str]:
    c = r.costs
    return [
        "Totals:",
        f"  ordinances to enact ({len(r.ordinances_to_enact)}): " + "; ".join(ordinance_label(o) for o in r.ordinances_to_enact),
        f"  PIAs needed ({len(r.pias_needed)}): {', '.join(r.pias_needed) or 'none'}",
        f"  systems touched ({len(r.systems_touched)}): {', '.join(r.systems_touched) or 'none'}",
        f"  residents relying on the non-card path: {r.residents_on_non_card_path:,} today, {r.residents_on_non_card_path_at_target:,} at the ownership target",
        f"  costs (design unit costs): systems ¥{c.system_changes_yen:,}; public kiosks ¥{c.public_kiosks_yen:,} + ¥{c.kiosk_upkeep_yen_per_year:,}/yr; "
        f"shelter readers ¥{c.shelter_readers_yen:,}; card agency ¥{c.card_agency_fees_yen_per_year:,}/yr; publicity ¥{c.publicity_yen_per_year:,}/yr",
    ]


def review_markdown(r: Review) -> str:
    """The review as Markdown (a section per service, a table per point) for a council report."""
    out = [f"# Review of design `{r.design}` — {r.city.name} ({r.city.name_ja})", "", f"**{_verdict(r)}**", "", f"City: {r.city.basis}", ""]
    if r.refusals:
        out += ["## Refusals", "", "| service | rule | reason | report |", "|---|---|---|---|"]
        out += [f"| {x.service} | {x.rule} | {_md(x.reason)} | {x.ref} |" for x in r.refusals] + [""]
    out += ["## Summary", "", "| service | from FY | legal status | number ordinances | PIA | non-card path | residents without a card |", "|---|---|---|---|---|---|---|"]
    for s in r.services:
        path = _md(s.non_card_path) if s.non_card_path else ("not needed" if not s.card_needed else "**none**")
        out.append(f"| {s.service} | {s.start_fiscal_year} | {s.legal_status} | {', '.join(s.number_ordinances) or '—'} | {'yes' if s.pia_required else 'no'} | {path} | {s.residents_without_card:,} |")
    for s in r.services:
        out += ["", f"## {s.service}: {s.name} ({s.name_ja})", "", "| point | finding | report |", "|---|---|---|"]
        out += [f"| {f.point}. {POINTS[f.point].split(' (')[0]} | {_md(f.text)}{' *(reading)*' if f.basis == 'reading' else ''} | {f.ref} |" for f in s.findings]
    out += ["", "## City-wide", ""] + [f"- {_md(f.text)} ({f.ref})" for f in r.common]
    out += ["", "## Totals", ""] + [f"- {line.strip()}" for line in _totals_lines(r)[1:]]
    return "\n".join(out) + "\n"


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def review_frame(r: Review) -> pl.DataFrame:
    """One row per finding and per refusal: design, service, point, kind, item, text, ref, basis."""
    rows = [
        {"design": r.design, "service": x.service, "point": 0, "kind": "refusal", "item": x.rule, "text": x.reason, "ref": x.ref, "basis": "report"}
        for x in r.refusals
    ]
    for s in r.services:
        rows += [
            {"design": r.design, "service": s.service, "point": f.point, "kind": "finding", "item": f.item, "text": f.text, "ref": f.ref, "basis": f.basis}
            for f in s.findings
        ]
    rows += [
        {"design": r.design, "service": "(city)", "point": f.point, "kind": "finding", "item": f.item, "text": f.text, "ref": f.ref, "basis": f.basis}
        for f in r.common
    ]
    return pl.DataFrame(rows, schema={"design": pl.Utf8, "service": pl.Utf8, "point": pl.Int64, "kind": pl.Utf8, "item": pl.Utf8, "text": pl.Utf8, "ref": pl.Utf8, "basis": pl.Utf8})


def review_comparison(reviews: list[Review]) -> pl.DataFrame:
    """Designs side by side: one row per question (per service, then totals), one column per design."""
    names = _column_names(reviews)
    rows: dict[str, dict[str, str]] = {}
    for name, r in zip(names, reviews, strict=True):
        for key, value in _comparison_cells(r).items():
            rows.setdefault(key, {})[name] = value
    data = {"item": list(rows)} | {n: [rows[k].get(n, "—") for k in rows] for n in names}
    return pl.DataFrame(data, schema={"item": pl.Utf8, **{n: pl.Utf8 for n in names}})


def _column_names(reviews: list[Review]) -> list[str]:
    """Design names, made unique (a name repeated gets #2, #3 …)."""
    seen: dict[str, int] = {}
    out = []
    for r in reviews:
        seen[r.design] = seen.get(r.design, 0) + 1
        out.append(r.design if seen[r.design] == 1 else f"{r.design} #{seen[r.design]}")
    return out


def _comparison_cells(r: Review) -> dict[str, str]:
    """The answers of one review, keyed by the question."""
    cells: dict[str, str] = {"verdict": "refused" if r.refused else "accepted", "city": r.city.name}
    enabled = {s.service: s for s in r.services}
    for key in SERVICE_KEYS:
        s = enabled.get(key)
        cells[f"{key}: enabled"] = f"from FY{s.start_fiscal_year}" if s else "no"
        cells[f"{key}: legal status"] = s.legal_status if s else "—"
        cells[f"{key}: number ordinances"] = (", ".join(s.number_ordinances) or "none") if s else "—"
        cells[f"{key}: PIA"] = ("yes" if s.pia_required else "no") if s else "—"
        cells[f"{key}: non-card path"] = (s.non_card_path or ("not needed" if not s.card_needed else "NONE")) if s else "—"
    cells["ordinances to enact"] = ", ".join(r.ordinances_to_enact)
    cells["PIAs needed"] = ", ".join(r.pias_needed) or "none"
    cells["systems touched"] = str(len(r.systems_touched))
    cells["residents on the non-card path"] = f"{r.residents_on_non_card_path:,}"
    cells["system changes (yen)"] = f"{r.costs.system_changes_yen:,}"
    cells["refusals"] = "; ".join(f"[{x.service}] {x.rule}" for x in r.refusals) or "none"
    return cells
