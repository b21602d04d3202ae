"""The review as tables: one CSV row per line with its basis, money per service, and designs side by side."""

from __future__ import annotations

from typing import Any

import polars as pl

from twin.design import SERVICE_KEYS
from twin.policy import Review

FRAME_SCHEMA = {
    "design": pl.Utf8, "service": pl.Utf8, "point": pl.Int64, "kind": pl.Utf8, "item": pl.Utf8, "text": pl.Utf8,
    "ref": pl.Utf8, "basis": pl.Utf8, "quote": pl.Utf8, "why": pl.Utf8, "source": pl.Utf8, "law": pl.Utf8,
}


def service_money(r: Review, service: str) -> dict[str, int]:
    """Costs and computed benefits of one service over the design's timeline, in yen."""
    lines = [c for c in r.cost_lines if c.service == service]
    effects = [e for e in r.effects if e.service == service and e.yen_over_timeline is not None]
    return {
        "costs_once_yen": sum(c.yen_once for c in lines),
        "costs_per_year_yen": sum(c.yen_per_year for c in lines),
        "costs_over_timeline_yen": sum(c.yen_over_timeline for c in lines),
        "benefits_per_year_at_horizon_yen": sum(e.yen_per_year_at_horizon or 0 for e in effects),
        "benefits_over_timeline_yen": sum(e.yen_over_timeline or 0 for e in effects),
    }


def design_money(r: Review) -> dict[str, int]:
    """The design's costs and computed benefits over its timeline, and how many rest on assumptions."""
    per = [service_money(r, s.service) for s in r.services]
    effects = [e for e in r.effects if e.yen_over_timeline is not None]
    return {
        "costs_over_timeline_yen": sum(p["costs_over_timeline_yen"] for p in per),
        "benefits_over_timeline_yen": sum(p["benefits_over_timeline_yen"] for p in per),
        "cost_lines_assumed": sum(1 for c in r.cost_lines if c.basis.kind == "assumption"),
        "cost_lines": len(r.cost_lines),
        "benefits_resting_on_assumptions": sum(1 for e in effects if e.assumed),
        "benefits_valued": len(effects),
        "effects_not_computed": sum(1 for e in r.effects if not e.computed),
    }


def _row(r: Review, service: str, point: int, kind: str, item: str, text: str, basis: Any) -> dict[str, Any]:
    return {"design": r.design, "service": service, "point": point, "kind": kind, "item": item, "text": text,
            "ref": basis.ref, "basis": basis.kind, "quote": basis.quote, "why": basis.why, "source": basis.source, "law": basis.law}


def review_frame(r: Review) -> pl.DataFrame:
    """One row per refusal, condition, finding, dependency, effect, unmodelled scope and cost line, each with its basis."""
    rows = [_row(r, x.service, 0, "refusal", x.rule, x.reason, x.basis) for x in r.refusals]
    rows += [_row(r, d.service, 0, "condition", d.key, f"{d.status()}: {d.what}", d.basis) for d in r.conditions]
    for s in r.services:
        rows += [_row(r, s.service, f.point, "finding", f.item, f.text, f.basis) for f in s.findings]
        rows += [_row(r, s.service, 0, "dependency", d.key, f"{d.what}: {d.status()}", d.basis) for d in s.dependencies]
        rows += [_row(r, s.service, 0, "effect", e.measure, e.text, e.basis) for e in s.effects]
        rows += [_row(r, s.service, 0, "not_modelled", "", f.text, f.basis) for f in s.not_modelled]
    rows += [_row(r, "(city)", f.point, "finding", f.item, f.text, f.basis) for f in r.common]
    rows += [_row(r, c.service, 0, "cost", c.item, f"¥{c.yen_once:,} once + ¥{c.yen_per_year:,}/yr × {c.years} yr", c.basis) for c in r.cost_lines]
    return pl.DataFrame(rows, schema=FRAME_SCHEMA)


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


def _m(yen: int) -> str:
    return f"¥{yen / 1e6:,.1f}M"


def _comparison_cells(r: Review) -> dict[str, str]:
    """The answers of one review, keyed by the question."""
    cells: dict[str, str] = {"verdict": r.verdict.lower(), "city": r.city.name}
    enabled = {s.service: s for s in r.services}
    for key in SERVICE_KEYS:
        s = enabled.get(key)
        cells[f"{key}: enabled"] = f"from FY{s.start_fiscal_year}" if s else "no"
        cells[f"{key}: legal status"] = s.status if s else "—"
        cells[f"{key}: number ordinances"] = (", ".join(s.number_ordinances) or "none") if s else "—"
        cells[f"{key}: PIA"] = ("yes" if s.pia_required else "no") if s else "—"
        cells[f"{key}: non-card path"] = (s.non_card_path or ("not needed" if not s.card_needed else "NONE")) if s else "—"
        if s:
            x = service_money(r, key)
            cells[f"{key}: costs / computed benefits to the horizon"] = (
                f"{_m(x['costs_over_timeline_yen'])} / {_m(x['benefits_over_timeline_yen'])} ({sum(1 for e in s.effects if not e.computed)} of {len(s.effects)} effects not computed)"
            )
        else:
            cells[f"{key}: costs / computed benefits to the horizon"] = "—"
    m = design_money(r)
    cells["ordinances to enact"] = ", ".join(r.ordinances_to_enact)
    cells["PIAs needed"] = ", ".join(r.pias_needed) or "none"
    cells["systems touched"] = str(len(r.systems_touched))
    cells["residents on the non-card path"] = f"{r.residents_on_non_card_path:,}"
    cells["system changes (yen)"] = f"{r.costs.system_changes_yen:,}"
    cells["timeline"] = f"to FY{r.horizon}"
    cells["costs over the timeline (assumed unit costs)"] = _m(m["costs_over_timeline_yen"])
    cells["computed benefits over the timeline"] = f"{_m(m['benefits_over_timeline_yen'])} ({m['benefits_resting_on_assumptions']} of {m['benefits_valued']} rest on assumptions)"
    cells["conditions"] = "; ".join(f"[{d.service}] blocked until {d.until}" for d in r.conditions) or "none"
    cells["refusals"] = "; ".join(f"[{x.service}] {x.rule}" for x in r.refusals) or "none"
    return cells
