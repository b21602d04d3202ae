"""A sensitivity analysis on disk and on screen: ranked tables, a tornado chart, Parquet and JSON."""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import polars as pl

from scenarios.registry import scenario as scenario_module
from scenarios.report import fmt, markdown_table, text_table
from scenarios.sensitivity import SensitivityResult

HEADLINE = {
    "disaster": ("checkin_wait_p95_min", "time_to_95pct_registered_h",
                 "households_found_within_6h_share", "cost_yen"),
    "certificates": ("counter_wait_p95_min", "kiosk_share", "reneged", "cost_per_certificate_yen"),
    "payments": ("electronic_share", "payments_per_s", "latency_p99_ms"),
}
HEADER = ["rank", "assumption", "effect mu* [95% CI]", "mu (sign)", "sigma", "Sobol S1 [95% CI]",
          "Sobol ST [95% CI]"]


def units(scenario: str) -> dict[str, str]:
    """Each KPI's unit."""
    return {k.name: k.unit for k in scenario_module(scenario).KPIS}


def headline(result: SensitivityResult) -> list[str]:
    """The KPIs shown first: the scenario's headline ones that were ranked, else the first four."""
    ranked = list(dict.fromkeys(result.morris["kpi"].to_list()))
    chosen = [k for k in HEADLINE.get(result.scenario, ()) if k in ranked]
    return chosen or ranked[:4]


def _ci(est: float, low: float, high: float, unit: str, clipped: bool) -> str:
    """'est [low, high]', with '*' when the interval was clipped to the valid range."""
    if not all(math.isfinite(v) for v in (est, low, high)):
        return "–"
    return f"{fmt(est, unit)} [{fmt(low, unit)}, {fmt(high, unit)}]{'*' if clipped else ''}"


def ranked_rows(result: SensitivityResult, kpi: str, n: int | None = None) -> list[list[str]]:
    """One KPI's ranked table as strings: Morris effect and interval, then Sobol if computed."""
    unit = units(result.scenario).get(kpi, "")
    sob = {r["parameter"]: r for r in result.sobol.filter(pl.col("kpi") == kpi).iter_rows(named=True)}
    rows = []
    for r in result.ranking(kpi).head(n or 10**6).iter_rows(named=True):
        s = sob.get(r["parameter"])
        s1 = _ci(s["S1"], s["S1_low"], s["S1_high"], "share", s["S1_clipped"]) if s else "–"
        st = _ci(s["ST"], s["ST_low"], s["ST_high"], "share", s["ST_clipped"]) if s else "–"
        rows.append([str(r["rank"]), r["parameter"],
                     _ci(r["mu_star"], r["mu_star_low"], r["mu_star_high"], unit, r["low_clipped"]),
                     fmt(r["mu"], unit), fmt(r["sigma"], unit), s1, st])
    return rows


def title(result: SensitivityResult) -> str:
    """The first line: what was analysed, at which scale (reduced scale stated)."""
    what = (f"{result.designs[1]} − {result.designs[0]}" if result.difference
            else result.designs[0])
    reduced = " (reduced population scale)" if result.scale < 1 else ""
    return (f"Sensitivity of {result.scenario} on {what}, {result.city}, scale {result.scale}"
            f"{reduced}")


def preamble(result: SensitivityResult) -> list[str]:
    """How the analysis was made, in a few lines a planner can check."""
    return [
        f"{result.runs.height * len(result.designs)} runs, seed {result.seed} for every design "
        f"point (common random numbers); Morris: {result.trajectories} trajectories over "
        f"{len(result.factors)} assumptions, each moved within its declared range "
        "(calibration/data/assumption_ranges.csv); Sobol: base sample "
        f"{result.samples} on the top factors (0: skipped).",
        "mu*: mean absolute change of the KPI per whole range of the assumption (elementary "
        "effects: steps of 2/3 of the range, scaled to the whole range; KPI units); mu: the same "
        "with sign (+ raises the KPI); sigma: spread of the effects (interactions or "
        "non-linearity). Intervals are SALib's 95 % bootstrap intervals; '*' "
        "marks an interval clipped to the quantity's range (mu* >= 0, Sobol indices in [0, 1]).",
        "The ranges are the project's assumptions, not published figures: read the ranking as "
        "which assumptions to check first, not as measured facts.",
    ]


def as_text(result: SensitivityResult, kpis: Sequence[str] | None = None, n: int = 8) -> str:
    """The ranked tables of `kpis` (default: the headline KPIs) as plain text."""
    u = units(result.scenario)
    lines = [title(result), *preamble(result), "",
             "overall ranking (mean normalised mu* over the KPIs): "
             + ", ".join(result.top(len(result.factors)))]
    for kpi in kpis or headline(result):
        lines += ["", f"{kpi} ({u.get(kpi, '')})" + (" — difference" if result.difference else ""),
                  text_table(HEADER, ranked_rows(result, kpi, n))]
    lines += ["", "notes:", *[f"- {x}" for x in result.notes]]
    return "\n".join(lines)


def as_markdown(result: SensitivityResult, tornado: Path | None = None) -> str:
    """A Markdown report: the setting, every ranked KPI, the tornado, notes."""
    u = units(result.scenario)
    lines = [f"# {title(result)}", "", *preamble(result), ""]
    if tornado is not None:
        lines += [f"![tornado]({tornado.name})", ""]
    for kpi in dict.fromkeys(result.morris["kpi"].to_list()):
        lines += [f"## {kpi} ({u.get(kpi, '')})", "", markdown_table(HEADER, ranked_rows(result, kpi)), ""]
    lines += ["## Notes", "", *[f"- {x}" for x in result.notes], ""]
    return "\n".join(lines)


def tornado(result: SensitivityResult, path: Path | BinaryIO, kpis: Sequence[str] | None = None,
            n: int = 8) -> Path | BinaryIO:
    """A tornado chart PNG: per headline KPI, the largest effects (mu*) with their intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kpis = list(kpis or headline(result))[:4]
    u = units(result.scenario)
    fig, axes = plt.subplots(len(kpis), 1, figsize=(8, 2.2 + 0.35 * n * len(kpis)), dpi=110,
                             squeeze=False)
    for ax, kpi in zip(axes[:, 0], kpis, strict=True):
        rows = result.ranking(kpi).head(n).reverse()
        y = list(range(rows.height))
        colors = ["#c0392b" if m > 0 else "#2c7fb8" for m in rows["mu"].to_list()]
        ax.barh(y, rows["mu_star"].to_list(), color=colors, alpha=0.85)
        err = [(rows["mu_star"] - rows["mu_star_low"]).to_list(),
               (rows["mu_star_high"] - rows["mu_star"]).to_list()]
        ax.errorbar(rows["mu_star"].to_list(), y, xerr=err, fmt="none", ecolor="black", capsize=3)
        ax.set_yticks(y, rows["parameter"].to_list())
        what = " (difference between designs)" if result.difference else ""
        ax.set_title(f"{kpi}{what}", fontsize=10)
        ax.set_xlabel(f"effect mu* ({u.get(kpi, '')}) over the assumption's whole range")
        ax.set_xlim(left=0)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(textwrap.fill(title(result), 80) + "\nred: raises the KPI, blue: lowers it; "
                 "whiskers: 95 % interval", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def write(result: SensitivityResult, out: Path) -> list[Path]:
    """Parquet (Morris, Sobol, every run), JSON, the tornado PNG and report.md into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{result.scenario}_sensitivity"
    paths = []
    for name, frame in (("morris", result.morris), ("sobol", result.sobol), ("runs", result.runs)):
        frame.write_parquet(out / f"{stem}_{name}.parquet")
        paths.append(out / f"{stem}_{name}.parquet")
    js = out / f"{stem}.json"
    js.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    png = tornado(result, out / f"{stem}_tornado.png")
    md = out / f"{stem}.md"
    md.write_text(as_markdown(result, png), encoding="utf-8")
    return [md, js, png, *paths]
