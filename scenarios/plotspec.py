"""What each scenario asks the report to plot (the report draws them generically)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plot:
    """A plot of one frame column over every design.

    Kinds: "series" (mean over replications, with the min-max band), "hist" (a density) and
    "exceed" (the share of rows whose value is above x, for every x: readable when one design
    has a spike at 0 and another a long tail). A headline plot answers `question` in words on
    the figure, from the means of the `headline` KPIs.
    """

    kind: str  # "series", "hist" or "exceed"
    frame: str  # name of the frame in ScenarioResult.frames
    y: str  # column plotted
    title: str
    ylabel: str
    x: str = ""  # the x column of a series (e.g. "hours")
    xlabel: str = ""
    scale: float = 1.0  # multiply y by this (e.g. 1/60 for seconds -> minutes)
    filter_col: str = ""  # plot only rows where this column ...
    filter_value: object = None  # ... equals this value
    question: str = ""  # the planner's question a headline plot answers
    headline: tuple[str, ...] = ()  # KPIs whose means per design answer it, in words
    markers: tuple[tuple[str, str], ...] = ()  # (parameter holding times, label) drawn as lines
    spans: tuple[tuple[str, str, str], ...] = ()  # (start times param, length param, label)
