"""What each scenario asks the report to plot (the report draws them generically)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plot:
    """A plot of one frame column: a time series (mean over replications) or a distribution."""

    kind: str  # "series" or "hist"
    frame: str  # name of the frame in ScenarioResult.frames
    y: str  # column plotted
    title: str
    ylabel: str
    x: str = ""  # the x column of a series (e.g. "hours")
    xlabel: str = ""
    scale: float = 1.0  # multiply y by this (e.g. 1/60 for seconds -> minutes)
    filter_col: str = ""  # plot only rows where this column ...
    filter_value: object = None  # ... equals this value
