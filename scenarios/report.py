"""Results on disk: Parquet data, matplotlib PNG plots and a Markdown report a planner can hand on."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from scenarios.plots import draw
from scenarios.precision import summary_lines
from scenarios.registry import scenario as scenario_module
from scenarios.results import KPI
from scenarios.sweep import SweepResult


def fmt(x: float | None, unit: str = "") -> str:
    """A number for a table: thousands separators, 3 significant digits for small values."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    ax = abs(x)
    if unit == "share" or (0 < ax < 1 and unit in ("", "ratio")):
        return f"{x:.3f}"
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def ci_text(mean: float, low: float, high: float, unit: str, needs: int = 0) -> str:
    """'mean [low, high]'; the mean and what is missing when there is no interval."""
    if needs:
        return f"{fmt(mean, unit)} (interval needs ≥ {needs} replications)"
    if math.isnan(low) or math.isnan(high):
        return fmt(mean, unit)
    hi = "∞" if math.isinf(high) else fmt(high, unit)
    return f"{fmt(mean, unit)} [{fmt(low, unit)}, {hi}]"


def comparison_rows(sweep: SweepResult) -> list[list[str]]:
    """Rows of KPI (in words) | unit | each design's mean [95 % CI] | each difference, verdict."""
    table, diffs = sweep.table(), sweep.differences()
    rows = []
    for kpi in scenario_module(sweep.scenario).KPIS:
        t = table.filter(pl.col("kpi") == kpi.name)
        row = [kpi.label or kpi.name, kpi.unit]
        for name in sweep.designs:
            r = t.filter(pl.col("design") == name).row(0, named=True)
            row.append(ci_text(r["mean"], r["ci_low"], r["ci_high"], kpi.unit, r["needs_reps"]))
        for r in diffs.filter(pl.col("kpi") == kpi.name).iter_rows(named=True):
            needs = r["needs_reps"]
            text = ci_text(r["difference"], r["ci_low"], r["ci_high"], kpi.unit)
            row.append(f"{text} {r['verdict']}".strip() if not needs or not r["verdict"]
                       else f"{text} ({r['verdict']})")
        rows.append(row)
    return rows


def comparison_header(sweep: SweepResult) -> list[str]:
    """The header of `comparison_rows`."""
    head = ["KPI", "unit", *[f"{d} (mean [95% CI])" for d in sweep.designs]]
    return head + [f"{d} − {sweep.designs[0]}" for d in sweep.designs[1:]]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table with aligned columns."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def comparison_text(sweep: SweepResult) -> str:
    """The KPI comparison of one sweep as plain text."""
    head = (f"{sweep.scenario}: {len(sweep.designs)} design(s) x {sweep.reps} replication(s), "
            f"seed {sweep.seed}, {'paired (common random numbers)' if sweep.paired else 'independent'}")
    body = text_table(comparison_header(sweep), comparison_rows(sweep))
    return "\n".join([head, body, *summary_lines(sweep)])


def _direction(k: KPI) -> str:
    """The KPI's good direction in words."""
    return {"lower": "lower is better", "higher": "higher is better"}.get(k.better,
                                                                          "no better direction")


def write_sweep(sweep: SweepResult, out: Path) -> dict[str, list[Path]]:
    """Parquet (per-replication KPIs, KPI table, differences, frames) and PNGs of one sweep."""
    out.mkdir(parents=True, exist_ok=True)
    s = sweep.scenario
    data = {f"{s}_kpis": sweep.kpis(), f"{s}_kpi_table": sweep.table(),
            f"{s}_differences": sweep.differences()}
    names = sorted({k for _, _, r in sweep.results for k in r.frames})
    data |= {f"{s}_{name}": sweep.frame(name) for name in names}
    parquet = []
    for stem, frame in data.items():
        frame.write_parquet(out / f"{stem}.parquet")
        parquet.append(out / f"{stem}.parquet")
    plots = []
    for i, plot in enumerate(scenario_module(s).PLOTS):
        p = draw(sweep, plot, out / f"{s}_{i + 1}_{plot.y}.png")
        if p is not None:
            plots.append(p)
    return {"parquet": parquet, "plots": plots}


def scale_suffix(sweeps: Sequence[SweepResult]) -> str:
    """' — reduced scale S' for results below full scale, else ''."""
    scales = [float(r.params.get("scale", 1.0)) for sw in sweeps for _, _, r in sw.results]
    low = min(scales, default=1.0)
    return f" — reduced scale {low:g} (population share)" if low < 1 else ""


def markdown_report(sweeps: Sequence[SweepResult], files: dict[str, dict[str, list[Path]]],
                    title: str, preamble: Sequence[str], out: Path) -> Path:
    """Write report.md: the setting, each scenario's KPI comparison, its plots and notes."""
    lines = [f"# {title}{scale_suffix(sweeps)}", "", *preamble, ""]
    for sweep in sweeps:
        mod = scenario_module(sweep.scenario)
        lines += [f"## {sweep.scenario}: {mod.TITLE}", "", mod.__doc__.strip().splitlines()[0], "",
                  f"{sweep.reps} replication(s) per design; 95 % confidence intervals that stay in "
                  "each quantity's range (Student t on the logit scale for shares, on the log "
                  "scale for non-negative quantities); differences are "
                  f"{'paired (common random numbers)' if sweep.paired else 'Welch'} against "
                  f"**{sweep.designs[0]}**, tagged better/worse only when their interval excludes"
                  " 0 and the KPI has a good direction.", "",
                  markdown_table(comparison_header(sweep), comparison_rows(sweep)), ""]
        if sweep.precision:
            lines += [*summary_lines(sweep), ""]
        lines += [f"- **{k.label or k.name}** (`{k.name}`, {k.unit}; {_direction(k)}): {k.doc}"
                  for k in mod.KPIS] + [""]
        lines += [f"![{p.stem}]({p.name})" for p in files[sweep.scenario]["plots"]] + [""]
        notes = sorted({n for _, _, r in sweep.results for n in r.notes})
        if notes:
            lines += ["Assumptions and notes:", "", *[f"- {n}" for n in notes], ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_results(sweeps: Sequence[SweepResult], out: Path, title: str,
                  preamble: Sequence[str] = ()) -> list[Path]:
    """Write every sweep's Parquet and PNGs and one Markdown report into `out`; the paths."""
    out.mkdir(parents=True, exist_ok=True)
    files = {s.scenario: write_sweep(s, out) for s in sweeps}
    report = markdown_report(sweeps, files, title, preamble, out)
    return [report] + [p for f in files.values() for kind in ("parquet", "plots") for p in f[kind]]
