"""The dashboard's figures as PNG bytes (matplotlib, Agg): scenario plots, costs and the map."""

from __future__ import annotations

import io
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from scenarios.plots import use_fonts  # noqa: E402
from scenarios.plotspec import Plot  # noqa: E402
from scenarios.registry import scenario as scenario_module  # noqa: E402
from scenarios.report import draw  # noqa: E402
from scenarios.sweep import SweepResult  # noqa: E402
from twin.design import Design  # noqa: E402
from twin.policy import Review  # noqa: E402

ONE_OFF = (("system_changes_yen", "system changes"), ("public_kiosks_yen", "public kiosks"),
           ("shelter_readers_yen", "shelter readers"),
           ("card_agency_install_fees_yen", "card agency install fees (J-LIS)"))
PER_YEAR = (("kiosk_upkeep_yen_per_year", "kiosk upkeep"),
            ("card_agency_fees_yen_per_year", "card agency fees (J-LIS)"),
            ("publicity_yen_per_year", "publicity"))
GROUPS = ("one-off investment", "per year", "per scenario run (at the run's scale)")
_PYPLOT = threading.Lock()  # pyplot keeps global state; Streamlit runs sessions in threads
use_fonts()  # Japanese names (e.g. the city's) in a CJK font, not boxes


def scenario_png(sweep: SweepResult, plot: Plot) -> bytes | None:
    """One of a scenario's plots over every design of the sweep (None when there is no data)."""
    with tempfile.TemporaryDirectory() as tmp, _PYPLOT:
        path = draw(sweep, plot, Path(tmp) / "plot.png")
        return path.read_bytes() if path is not None else None


def cost_kpis(scenario: str) -> list[Any]:
    """The KPIs of a scenario that are its total cost in yen (named cost_yen)."""
    return [k for k in scenario_module(scenario).KPIS if k.name == "cost_yen"]


def cost_items(sweeps: Mapping[str, SweepResult], reviews: Sequence[Review]) -> pl.DataFrame:
    """One row per (design, group, item): yen from the review's prices and the scenarios' costs."""
    rows = []
    for d, rv in enumerate(reviews):
        name = rv.design
        for group, items in ((GROUPS[0], ONE_OFF), (GROUPS[1], PER_YEAR)):
            rows += [{"design": name, "group": group, "item": label,
                      "yen": float(getattr(rv.costs, field))} for field, label in items]
        for scenario, sw in sweeps.items():
            for kpi in cost_kpis(scenario):
                values = sw.values(d, kpi.name)
                mean = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
                rows.append({"design": name, "group": GROUPS[2],
                             "item": scenario_module(scenario).TITLE, "yen": mean})
    return pl.DataFrame(rows, schema={"design": pl.Utf8, "group": pl.Utf8, "item": pl.Utf8,
                                      "yen": pl.Float64})


def cost_png(items: pl.DataFrame) -> bytes:
    """Stacked bars per design, one panel per group (one-off, per year, per scenario run)."""
    groups = [g for g in GROUPS if items.filter(pl.col("group") == g).height]
    with _PYPLOT:
        return _cost_figure(items, groups)


def _cost_figure(items: pl.DataFrame, groups: list[str]) -> bytes:
    """The cost figure (call with the pyplot lock held)."""
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.8), dpi=110,
                             squeeze=False)
    for ax, group in zip(axes[0], groups, strict=True):
        _stacked(ax, items.filter(pl.col("group") == group))
        ax.set_title(group, fontsize=10)
    axes[0][0].set_ylabel("million yen")
    fig.suptitle("Cost breakdown by design")
    fig.tight_layout()
    return _png(fig)


def _stacked(ax: Any, part: pl.DataFrame) -> None:
    """One stacked bar per design, one colour per item, in million yen."""
    designs = list(dict.fromkeys(part["design"].to_list()))
    bottom = np.zeros(len(designs))
    for item in dict.fromkeys(part["item"].to_list()):
        f = part.filter(pl.col("item") == item)
        by = dict(zip(f["design"].to_list(), f["yen"].to_list(), strict=True))
        h = np.array([by.get(d, 0.0) for d in designs]) / 1e6
        ax.bar(designs, h, bottom=bottom, label=item)
        bottom += h
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(axis="x", labelrotation=15, labelsize=8)


def equipment(facilities: pl.DataFrame, design: Design) -> dict[str, pl.DataFrame]:
    """Where the design puts its service points: counters, shelters, kiosks (by kind)."""
    f = facilities
    cert, safety = design.certificates, design.safety
    readers = safety.enabled and safety.readers_per_shelter > 0
    shelters = f.filter(pl.col("kind") == "shelter")
    sites = f.filter(pl.col("kind") == "public_kiosk_site")
    kiosks = sites.filter(pl.int_range(pl.len()).over("ward") < cert.public_kiosks_per_ward)
    stores = f.filter(pl.col("kind") == "store")
    return {
        "ward-office counter": f.filter(pl.col("kind") == "counter"),
        "shelter with card readers": shelters if readers else shelters.clear(),
        "shelter, paper forms only": shelters.clear() if readers else shelters,
        "public kiosk": kiosks if cert.enabled else kiosks.clear(),
        "store kiosk": stores if cert.enabled and cert.store_kiosks else stores.clear(),
    }


MARKERS = {"ward-office counter": ("s", "black", 60), "shelter with card readers": ("^", "tab:blue", 40),
           "shelter, paper forms only": ("^", "none", 40), "public kiosk": ("*", "tab:red", 90),
           "store kiosk": (".", "tab:orange", 30)}


def map_png(facilities: pl.DataFrame, designs: Sequence[Design], city: str) -> bytes:
    """A map per design of the city's counters, shelters and kiosks (km from the centre)."""
    with _PYPLOT:
        return _map_figure(facilities, designs, city)


def _map_figure(facilities: pl.DataFrame, designs: Sequence[Design], city: str) -> bytes:
    """The map figure (call with the pyplot lock held)."""
    n = len(designs)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 5.4 * rows), dpi=110,
                             squeeze=False, sharex=True, sharey=True)
    for ax, design in zip(axes.flat, designs, strict=False):
        for label, pts in equipment(facilities, design).items():
            marker, colour, size = MARKERS[label]
            edge = "tab:blue" if colour == "none" else colour
            ax.scatter(pts["x_km"], pts["y_km"], marker=marker, s=size, c=colour,
                       edgecolors=edge, label=f"{label} ({pts.height})")
        ax.set_title(design.name, fontsize=10)
        ax.set_xlabel("km east of the centre", fontsize=8)
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
                  frameon=False)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.supylabel("km north of the centre")
    fig.suptitle(f"{city}: service points by design")
    fig.tight_layout()
    return _png(fig)


def _png(fig: Any) -> bytes:
    """The figure as PNG bytes (and closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
