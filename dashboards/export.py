"""The report a planner hands to a council: Markdown with the plots, zipped with the designs.

The scenario sections come from `scenarios.report.markdown_report` (the same text as
`run.py sweep`); the dashboard adds the setting, the key figures, the review (verdicts,
benefits beside costs, conditions, refusals) side by side, the cost breakdown, the map and, as an appendix, each design's full review.
"""

from __future__ import annotations

import base64
import io
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from dashboards import tables
from dashboards.spec import RunSpec
from scenarios.registry import scenario as scenario_module
from scenarios.report import markdown_report
from scenarios.sweep import SweepResult
from twin.policy import Review
from twin.policy_report import review_comparison, review_markdown

COSTS_PNG = "costs.png"
MAP_PNG = "map.png"


def plot_name(scenario: str, index: int) -> str:
    """The file name of a scenario plot (as `run.py sweep` names it)."""
    return f"{scenario}_{index + 1}_{scenario_module(scenario).PLOTS[index].y}.png"


def setting_lines(spec: RunSpec) -> list[str]:
    """Who was compared, where, how often and with which seed."""
    lines = [f"City **{spec.city}**, synthetic population at scale {spec.scale:g}; "
             f"{spec.reps} replication(s) per design and scenario, root seed {spec.seed}; "
             "95 % confidence intervals over replications that stay in each quantity's range "
             "(Student t on the logit scale for shares, the log scale for non-negative "
             "quantities); differences are paired "
             f"(common random numbers) against **{spec.names[0]}**.", "", "Designs:", ""]
    lines += [f"- **{d.name}** ({d.source}): {d.design().description or 'no description'}"
              for d in spec.designs]
    tuned = [(s, spec.overrides_of(s)) for s in spec.scenarios if spec.overrides_of(s)]
    if tuned:
        lines += ["", "Scenario settings changed from their defaults:", ""]
        lines += [f"- {s}: " + ", ".join(f"`{k}={v}`" for k, v in o.items()) for s, o in tuned]
    return lines


def review_lines(reviews: Sequence[Review]) -> list[str]:
    """The review side by side: verdicts, ordinances, PIAs, systems, benefits beside costs, effects, conditions, refusals."""
    out = ["## The review, side by side", "",
           tables.markdown(review_comparison(list(reviews))), "", "### Ordinances to enact", "",
           tables.markdown(tables.ordinances_frame(reviews)), "",
           "### Privacy impact assessments", "", tables.markdown(tables.pias_frame(reviews)), "",
           "### Systems to build or change", "", tables.markdown(tables.systems_frame(reviews)),
           "", "### Benefits beside costs", "", tables.markdown(tables.money_frame(reviews)), "",
           "### Main effects (主な効果)", "", tables.markdown(tables.effects_frame(reviews)), "",
           "### Conditions", ""]
    conditions = tables.conditions_frame(reviews)
    out += [tables.markdown(conditions) if conditions.height else "No enabled service waits for an unmet dependency.", ""]
    out += ["### Refusals", ""]
    refusals = tables.refusals_frame(reviews)
    out += [tables.markdown(refusals) if refusals.height else "No design breaks a rule.", ""]
    return out


def report_markdown(spec: RunSpec, sweeps: Mapping[str, SweepResult], reviews: Sequence[Review],
                    pngs: Mapping[str, bytes]) -> str:
    """report.md: setting, key figures, review, costs, map, scenario sections, full reviews."""
    preamble = [*setting_lines(spec), "", "## Key figures", "",
                tables.markdown(tables.headline_frame(sweeps, reviews)), "",
                *review_lines(reviews), "## Costs", "", f"![cost breakdown]({COSTS_PNG})", "",
                "## Service points", "", f"![map]({MAP_PNG})", ""]
    title = f"Rollout designs for {spec.city}: {' vs '.join(spec.names)}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        files = {}
        for s in spec.scenarios:
            names = [plot_name(s, i) for i in range(len(scenario_module(s).PLOTS))]
            for name in names:
                if name in pngs:
                    (out / name).write_bytes(pngs[name])
            files[s] = {"plots": [out / n for n in names if n in pngs]}
        text = markdown_report([sweeps[s] for s in spec.scenarios], files, title, preamble,
                               out).read_text(encoding="utf-8")
    appendix = ["", "# Appendix: each design's review", ""]
    for r in reviews:
        appendix += [_demote(review_markdown(r)), ""]
    return text.rstrip("\n") + "\n" + "\n".join(appendix)


def _demote(md: str) -> str:
    """Headings one level down (a design's review sits under the appendix heading)."""
    return "\n".join("#" + line if line.startswith("#") else line for line in md.splitlines())


def report_zip(spec: RunSpec, markdown: str, pngs: Mapping[str, bytes]) -> bytes:
    """A zip of report.md, its PNGs and each design's TOML file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("report.md", markdown)
        for name, data in sorted(pngs.items()):
            z.writestr(name, data)
        for d in spec.designs:
            z.writestr(f"designs/{d.name}.toml", d.toml)
    return buf.getvalue()


def inline_images(markdown: str, pngs: Mapping[str, bytes]) -> str:
    """The report with every PNG embedded as a data URI (one self-contained file)."""
    for name, data in pngs.items():
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        markdown = markdown.replace(f"]({name})", f"]({uri})")
    return markdown
