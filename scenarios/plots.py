"""The scenario plots as data and as PNGs: lines per design, exceedance curves, fault markers,
and headline plots that answer the planner's question in words on the figure.

`plot_data` computes everything a figure shows (so tests can check the data behind it);
`draw` renders it with matplotlib. Japanese text needs a CJK font: `use_fonts` puts the usual
ones (Noto Sans CJK JP from `fonts-noto-cjk`, IPA, Takao) behind DejaVu Sans as fallbacks.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from scenarios.plotspec import Plot
from scenarios.sweep import SweepResult

CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "TakaoGothic",
             "VL Gothic")
LINESTYLES = ("-", "--", ":", "-.")


def use_fonts() -> None:
    """Latin text in DejaVu Sans, Japanese in the first CJK font installed (glyph fallback)."""
    import matplotlib

    cjk = cjk_font()
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", cjk] if cjk else ["DejaVu Sans"]


def cjk_font() -> str | None:
    """The name of the first installed CJK font, or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def _rows(sweep: SweepResult, plot: Plot, design: str) -> pl.DataFrame:
    """The frame's rows of one design (filtered as the plot asks)."""
    f = sweep.frame(plot.frame).filter(pl.col("design") == design)
    if plot.filter_col:
        f = f.filter(pl.col(plot.filter_col) == plot.filter_value)
    return f


def _series(sweep: SweepResult, plot: Plot, design: str) -> dict[str, np.ndarray]:
    """x, mean, min and max of a series over replications for one design."""
    g = (_rows(sweep, plot, design).group_by(plot.x)
         .agg(mean=pl.col(plot.y).mean(), lo=pl.col(plot.y).min(), hi=pl.col(plot.y).max())
         .sort(plot.x))
    s = plot.scale
    return {"x": g[plot.x].to_numpy(), "y": g["mean"].to_numpy() * s,
            "lo": g["lo"].to_numpy() * s, "hi": g["hi"].to_numpy() * s}


def exceedance(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Share of `values` strictly above each grid point (0 for no values)."""
    v = np.sort(values[np.isfinite(values)])
    if not v.size:
        return np.zeros(grid.size)
    return 1.0 - np.searchsorted(v, grid, side="right") / v.size


def _exceed(sweep: SweepResult, plot: Plot, design: str, grid: np.ndarray) -> dict[str, Any]:
    """The share above each x over all replications of one design."""
    y = _rows(sweep, plot, design)[plot.y].drop_nulls().to_numpy() * plot.scale
    return {"x": grid, "y": exceedance(y, grid)}


def _times(sweep: SweepResult, name: str) -> list[float]:
    """The times a parameter holds (one value or a list), from the first design's parameters."""
    params = sweep.results[0][2].params if sweep.results else {}
    v = params.get(name, ())
    return [float(t) for t in (v if isinstance(v, (list, tuple)) else [v])]


def headline_text(sweep: SweepResult, plot: Plot) -> list[str]:
    """The answer in words: each headline KPI's mean per design, with its unit."""
    from scenarios.registry import scenario as scenario_module
    from scenarios.report import fmt

    kpis = {k.name: k for k in scenario_module(sweep.scenario).KPIS}
    out = []
    for name in plot.headline:
        k = kpis[name]
        parts = []
        for d, design in enumerate(sweep.designs):
            v = sweep.values(d, name)
            mean = float(np.nanmean(v)) if np.isfinite(v).any() else math.nan
            parts.append(f"{design} {fmt(mean, k.unit)}{'' if k.unit == 'share' else ' ' + k.unit}")
        out.append(f"{k.doc}: " + ", ".join(parts))
    return out


def plot_data(sweep: SweepResult, plot: Plot) -> dict[str, Any] | None:
    """What the figure shows: title, one line per design, markers, spans and the answer in words."""
    frame = sweep.frame(plot.frame)
    if frame.height == 0 or plot.y not in frame.columns:
        return None
    scales = [float(r.params.get("scale", 1.0)) for _, _, r in sweep.results]
    low = min(scales, default=1.0)
    title = plot.title + (f" (reduced scale {low:g})" if low < 1 else "")
    lines: dict[str, dict[str, Any]] = {}
    if plot.kind == "exceed":
        every = frame[plot.y].drop_nulls().to_numpy() * plot.scale
        top = float(np.nanmax(every)) if every.size and np.isfinite(every).any() else 1.0
        grid = np.linspace(0.0, max(top, 1e-9), 200)
        for d in sweep.designs:
            lines[d] = _exceed(sweep, plot, d, grid)
    elif plot.kind == "series":
        for d in sweep.designs:
            lines[d] = _series(sweep, plot, d)
    else:
        for d in sweep.designs:
            lines[d] = {"values": _rows(sweep, plot, d)[plot.y].drop_nulls().to_numpy() * plot.scale}
    for i, d in enumerate(sweep.designs):  # say when lines coincide (drawn dashed on top)
        same = [e for e in sweep.designs[:i] if _same(lines[e], lines[d])]
        lines[d]["same_as"] = same[0] if same else ""
    markers = [(t, label) for name, label in plot.markers for t in _times(sweep, name)]
    spans = [(t, t + _times(sweep, length)[0], label) for start, length, label in plot.spans
             for t in _times(sweep, start)]
    return {"title": title, "question": plot.question, "answer": headline_text(sweep, plot),
            "lines": lines, "markers": markers, "spans": spans}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two designs' lines are the same values."""
    key = "y" if "y" in a else "values"
    x, y = np.asarray(a[key]), np.asarray(b[key])
    return x.shape == y.shape and bool(np.allclose(x, y, equal_nan=True))


def draw(sweep: SweepResult, plot: Plot, path: Path) -> Path | None:
    """Draw one plot of a sweep to a PNG; None when the frame has no rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = plot_data(sweep, plot)
    if data is None:
        return None
    use_fonts()
    answer = data["answer"]
    height = 4.2 + 0.2 * len(answer)
    fig, ax = plt.subplots(figsize=(7.5, height), dpi=110)
    for i, (name, line) in enumerate(data["lines"].items()):
        label = name + (f" (same as {line['same_as']})" if line["same_as"] else "")
        style = LINESTYLES[i % len(LINESTYLES)]
        if plot.kind == "hist":
            if line["values"].size:
                ax.hist(line["values"], bins=50, histtype="step", density=True, label=label,
                        linestyle=style)
            continue
        ax.plot(line["x"], line["y"], label=label, linestyle=style, linewidth=1.6)
        if plot.kind == "series":
            ax.fill_between(line["x"], line["lo"], line["hi"], alpha=0.15)
    _mark(ax, data)
    ax.set_title(data["title"])
    ax.set_xlabel(plot.xlabel or plot.x)
    ax.set_ylabel(plot.ylabel)
    if plot.kind == "exceed":
        ax.set_ylim(0.0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if data["question"]:
        fig.suptitle(data["question"], fontsize=11, fontweight="bold", x=0.02, ha="left")
    step = 0.19 / height  # one line of small text, as a share of the figure's height
    for i, text in enumerate(answer):
        fig.text(0.02, 0.012 + step * (len(answer) - 1 - i), text, fontsize=8.5, ha="left",
                 va="bottom")
    fig.tight_layout(rect=(0, 0.02 + step * len(answer), 1, 1))
    fig.savefig(path)
    plt.close(fig)
    return path


MARK_COLOURS = ("crimson", "darkviolet", "darkorange", "teal")


def _mark(ax: Any, data: dict[str, Any]) -> None:
    """Vertical lines at the markers (one colour per kind) and shaded spans, labelled once."""
    colours: dict[str, str] = {}
    for t, label in data["markers"]:
        first = label not in colours
        colours.setdefault(label, MARK_COLOURS[len(colours) % len(MARK_COLOURS)])
        ax.axvline(t, color=colours[label], linestyle="--", linewidth=1.1,
                   label=label if first else None)
    seen: set[str] = set()
    for a, b, label in data["spans"]:
        ax.axvspan(a, b, color="grey", alpha=0.25, label=None if label in seen else label)
        seen.add(label)
