"""An optimisation's files: the best design as TOML (reviewed), trials as Parquet, a plot, a report."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

from scenarios.optimise import Outcome, Trial


def best_design(problem: Any, outcome: Outcome) -> Any:
    """The design of the best point (single objective) or the cheapest front point, if any."""
    pick = outcome.best or (min(outcome.front, key=lambda t: t.objectives[-1])
                            if outcome.front else None)
    return problem.design(pick.point) if pick is not None else None


def review_of(design: Any) -> Any:
    """The review of a design (None for problems without a design)."""
    if design is None:
        return None
    from twin.policy import review

    return review(design)


def verdict_of(rev: Any) -> str:
    """The review's verdict line ('ACCEPTED: …', 'CONDITIONAL: …', 'REFUSED: …')."""
    from twin.policy_report import verdict_line

    return verdict_line(rev) if rev is not None else "no design"


def write_outputs(problem: Any, outcome: Outcome, out: Path, title: str,
                  preamble: list[str]) -> dict[str, Path]:
    """Write best.toml (+ its review), trials.parquet, the plot and report.md into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    design = best_design(problem, outcome)
    rev = review_of(design)
    if design is not None:
        from twin.design import design_to_toml
        from twin.policy_report import review_markdown

        paths["design"] = out / "best.toml"
        head = (f"# Found by `run.py optimise` ({title}). Reviewed: {verdict_of(rev)}.\n"
                "# The fields varied are listed in report.md; everything else is the base design.\n")
        paths["design"].write_text(head + design_to_toml(design), encoding="utf-8")
        paths["review"] = out / "best_review.md"
        paths["review"].write_text(review_markdown(rev), encoding="utf-8")
    paths["trials"] = out / "trials.parquet"
    outcome.trials_frame().write_parquet(paths["trials"])
    plot = draw(outcome, out / ("pareto.png" if len(outcome.objectives) > 1 else "trials.png"))
    if plot:
        paths["plot"] = plot
    paths["report"] = out / "report.md"
    paths["report"].write_text(markdown(outcome, title, preamble, rev, paths), encoding="utf-8")
    return paths


def _axes(outcome: Outcome) -> tuple[str, str]:
    """The KPIs on the plot's x and y axes."""
    names = [o.kpi.name for o in outcome.objectives]
    if len(names) == 2:
        return names[1], names[0]
    other = outcome.targets[0].kpi.name if outcome.targets else names[0]
    return names[0], other


def draw(outcome: Outcome, path: Path) -> Path | None:
    """Every trial in (objective, first target's bad end) — or the two objectives — with the best."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    xname, yname = _axes(outcome)
    trials = [t for t in (*outcome.trials, *outcome.finalists)
              if xname in t.estimates and yname in t.estimates]
    if not trials:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=110)
    target = next((t for t in outcome.targets if t.kpi.name == yname), None)

    def y_of(t: Trial) -> float:
        e = t.estimates[yname]
        return target.bad_end(e.low, e.high) if target else e.mean

    for ok, colour, label in ((False, "#bbbbbb", "misses a target"),
                              (True, "#4477aa", "meets every target")):
        pts = [t for t in trials if t.feasible == ok]
        ax.scatter([t.estimates[xname].mean for t in pts], [y_of(t) for t in pts], s=22,
                   color=colour, label=label, zorder=2)
    marked = [outcome.best] if outcome.best else list(outcome.front)
    if marked:
        ax.scatter([t.estimates[xname].mean for t in marked], [y_of(t) for t in marked], s=90,
                   facecolors="none", edgecolors="#cc3311", linewidths=2,
                   label="best" if outcome.best else "Pareto front (re-run)", zorder=3)
    if target:
        ax.axhline(target.value, color="#cc3311", linestyle="--", linewidth=1,
                   label=f"target {target.op} {target.value:g}")
    ax.set_xlabel(_axis_label(outcome, xname))
    ylab = _axis_label(outcome, yname)
    ax.set_ylabel(f"{ylab}\n(95 % interval's bad end)" if target else ylab)
    ax.set_title(textwrap.fill(_headline(outcome), 90), fontsize=9)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _axis_label(outcome: Outcome, name: str) -> str:
    """A KPI name with its unit."""
    for k in [*(t.kpi for t in outcome.targets), *(o.kpi for o in outcome.objectives)]:
        if k.name == name:
            return f"{name} ({k.unit})" if k.unit else name
    return name


def _headline(outcome: Outcome) -> str:
    """The answer in words, for the plot's title and the report."""
    if outcome.best:
        o = outcome.objectives[0]
        return (f"Cheapest design meeting every target: {_point_text(outcome.best)} "
                f"({o.kpi.name} {_num(outcome.best.objectives[0])})")
    if outcome.front:
        return f"{len(outcome.front)} designs on the Pareto front meet every target"
    if outcome.closest:
        return (f"No design met every target; closest: {_point_text(outcome.closest)} "
                f"(misses by {-outcome.closest.worst_slack:.1%})")
    return "No trial finished"


def shown_trials(outcome: Outcome) -> list[Trial]:
    """The trials an answer shows: the best, else the front, else the closest."""
    if outcome.best:
        return [outcome.best]
    return list(outcome.front) or ([outcome.closest] if outcome.closest else [])


def _point_text(t: Trial) -> str:
    """A point as 'field=value, …'."""
    return ", ".join(f"{k}={v:g}" for k, v in t.point.items())


def _num(x: float) -> str:
    """A number for text."""
    return f"{x:,.4g}" if math.isfinite(x) else "n/a"


def markdown(outcome: Outcome, title: str, preamble: list[str], rev: Any,
             paths: dict[str, Path]) -> str:
    """What was varied, what was asked, what was found, how sure."""
    s = outcome.settings
    lines = [f"# Optimisation: {title}", "", *preamble, "", "## What was varied", ""]
    lines += [f"- `{v.key}` from {v.low:g} to {v.high:g}" + (f" in steps of {v.step:g}"
              if v.step else "") + (f" ({v.unit})" if v.unit else "") for v in outcome.variables]
    lines += ["", "## What was asked", ""]
    lines += [f"- {o.direction[:-3]}ise `{o.kpi.name}` ({o.kpi.label})" for o in outcome.objectives]
    lines += [f"- target `{t.text()}`, met only when the 95 % interval's bad end meets it"
              for t in outcome.targets]
    lines += ["", "## What was found", "", f"**{_headline(outcome)}.**", ""]
    for t in shown_trials(outcome):
        lines.append(f"- {_point_text(t)} ({t.reps} replications):")
        lines += [f"  - `{k}`: {_num(e.mean)} [{_num(e.low)}, {_num(e.high)}]"
                  for k, e in t.estimates.items()]
    if rev is not None:
        lines += ["", f"The best design's review: **{verdict_of(rev)}** "
                  f"(`{paths['review'].name}`; design file `{paths['design'].name}`)."]
    lines += ["", "## How sure", "",
              f"{s.get('trials')} trials ({s.get('sampler')}, seed {s.get('seed')}, batches of "
              f"{s.get('batch')}), {s.get('reps')} replications each with common random numbers; "
              f"the best {s.get('finalists')} feasible points re-run with {s.get('final_reps')} "
              "replications before one was named. A target is met only when the interval's bad "
              "end meets it, so a design named here meets it with about 95 % confidence at the "
              "simulated scale; it is not a proof that no cheaper design exists outside the "
              "trials tried.", "", "## Files", ""]
    lines += [f"- `{p.name}`" for p in paths.values() if p.name != "report.md"]
    return "\n".join(lines) + "\n"
