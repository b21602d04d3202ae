"""The study report's last section, "What this answer depends on": a small Morris screen per scenario.

For each scenario the study runs, the screen varies every screened assumption over its declared
range and measures its effect on the headline DIFFERENCES between the study's designs (the last
design minus the reference, both run at each point with the same seed). Two trajectories keep it
cheap; the certificates screen simulates the peak Monday only (a certificates day costs far more
than a disaster run). The result ranks, per scenario, the three assumptions the answer depends on
most.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scenarios.report import fmt, markdown_table, text_table
from scenarios.sensitivity import Progress, SensitivityResult, analyse, bases_for
from scenarios.sensitivity_report import headline, units

TRAJECTORIES = 2
TOP = 3
SCREEN_OVERRIDES: dict[str, dict[str, Any]] = {"certificates": {"days": 1}}
NOTE = {"certificates": "screened on the first simulated day only (cost)"}


def screen(scenarios: Sequence[str], designs: Sequence[str], city: str, scale: float, seed: int,
           overrides: Mapping[str, Mapping[str, Any]], executor: str = "ray",
           progress: Progress | None = None, trajectories: int = TRAJECTORIES,
           engine: str | None = None) -> list[SensitivityResult]:
    """A Morris screen of the difference (last design minus the first) for each scenario."""
    out = []
    for name in scenarios:
        over = {**overrides.get(name, {}), **SCREEN_OVERRIDES.get(name, {})}
        bases, fixed = bases_for(name, [designs[0], designs[-1]], city, scale, over, engine,
                                 strict_engine=False)
        out.append(analyse(bases, trajectories, samples=0, top=TOP, seed=seed, executor=executor,
                           progress=progress, design_keys=fixed))
    return out


def top_rows(result: SensitivityResult, n: int = TOP) -> tuple[list[str], list[list[str]]]:
    """Header and rows: the n assumptions with the largest effect on the headline differences."""
    kpis = headline(result)
    u = units(result.scenario)
    factors = {f.name: f for f in result.factors}
    head = ["assumption", "range", *[f"{k} ({u.get(k, '')})" for k in kpis]]
    rows = []
    for name in result.top(n, kpis):
        f = factors[name]
        row = [name, f"{fmt(f.low)} – {fmt(f.high)} (now {fmt(f.base)})"]
        for k in kpis:
            r = result.ranking(k).filter(result.ranking(k)["parameter"] == name).row(0, named=True)
            sign = "+" if r["mu"] > 0 else "−" if r["mu"] < 0 else ""
            row.append(f"{sign}{fmt(r['mu_star'], u.get(k, ''))} [{fmt(r['mu_star_low'], u.get(k, ''))}"
                       f", {fmt(r['mu_star_high'], u.get(k, ''))}]{'*' if r['low_clipped'] else ''}")
        rows.append(row)
    return head, rows


def _intro(results: Sequence[SensitivityResult]) -> list[str]:
    """What the section shows and how it was computed."""
    first = results[0]
    return [
        f"Which assumptions move the differences **{first.designs[1]} − {first.designs[0]}** "
        f"most: a Morris screen ({first.trajectories} trajectories, every declared assumption "
        "of calibration/data/assumption_ranges.csv moved over its range, both designs run at "
        f"every point with the same seed) at scale {first.scale:g}"
        + (" (reduced: a screen ranks assumptions, and the headline KPIs hold across scales; "
           "the effects are those of the reduced city)." if first.scale < 1 else "."),
        "Each cell: the effect mu* on that difference over the assumption's whole range, in the "
        "KPI's units, with its 95 % bootstrap interval ('*': clipped at 0); the sign says whether "
        "a higher value of the assumption raises (+) or lowers (−) the difference. An effect "
        "larger than the difference itself means the verdict rests on that assumption.",
        "The ranges are the project's reading, not published figures (assumption).",
    ]


def markdown_section(results: Sequence[SensitivityResult]) -> str:
    """The report's closing section in Markdown."""
    if not results:
        return ""
    lines = ["## What this answer depends on", "", *_intro(results), ""]
    for r in results:
        note = f" ({NOTE[r.scenario]})" if r.scenario in NOTE else ""
        head, rows = top_rows(r)
        lines += [f"### {r.scenario}{note}", "", markdown_table(head, rows), ""]
    return "\n".join(lines) + "\n"


def text_section(results: Sequence[SensitivityResult]) -> str:
    """The same section as plain text."""
    if not results:
        return ""
    lines = ["What this answer depends on", *[x.replace("**", "") for x in _intro(results)]]
    for r in results:
        note = f" ({NOTE[r.scenario]})" if r.scenario in NOTE else ""
        head, rows = top_rows(r)
        lines += ["", f"{r.scenario}{note}", text_table(head, rows)]
    return "\n".join(lines)


def as_json(results: Sequence[SensitivityResult]) -> list[dict[str, Any]]:
    """Per scenario: the top assumptions and their Morris rows on the headline differences."""
    out = []
    for r in results:
        kpis, top = headline(r), r.top(TOP, headline(r))
        rows = r.morris.filter(r.morris["kpi"].is_in(kpis) & r.morris["parameter"].is_in(top))
        out.append({"scenario": r.scenario, "designs": list(r.designs), "top": top,
                    "effects": rows.to_dicts(), "runs": r.runs.height * len(r.designs)})
    return out
