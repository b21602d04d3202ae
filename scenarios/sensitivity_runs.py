"""The design points of a sensitivity analysis as runs: one seed stream for all, Ray or here.

A point is a scenario's parameters plus, when the analysis moves fitted figures (the demand
profile's day-of-week and hour factors), the changed calibration; the run puts that calibration
in place for its own duration only (`calibration.params.using`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from scenarios.params import ScenarioParams
from scenarios.results import ScenarioResult
from scenarios.sweep import Task, run_task
from twin.errors import ValidationError

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Point:
    """One design point: a replication task and the fitted figures it changes."""

    task: Task
    calibration: tuple[tuple[str, float], ...] = ()


def points(params: Sequence[ScenarioParams],
           calibration: Sequence[tuple[tuple[str, float], ...]], seed: int) -> list[Point]:
    """The points of an analysis, every one on the same seed stream (common random numbers)."""
    stream = np.random.SeedSequence(seed).spawn(1)[0]  # as a sweep's replication 0
    return [Point(Task(type(p).scenario, i, 0, p, stream), c)
            for i, (p, c) in enumerate(zip(params, calibration, strict=True))]


def run_point(point: Point) -> ScenarioResult:
    """Run one point (in a Ray worker or here) with its calibration in place."""
    if not point.calibration:
        return run_task(point.task)
    from calibration.params import fitted, using
    from calibration.ranges import with_calibration

    with using(with_calibration(fitted(), dict(point.calibration))):
        return run_task(point.task)


def run_points(todo: Sequence[Point], executor: str = "ray",
               progress: Progress | None = None) -> list[ScenarioResult]:
    """Every point's result in order, from Ray tasks (already initialised) or one by one here."""
    if executor == "local":
        out = []
        for i, p in enumerate(todo):
            out.append(run_point(p))
            if progress:
                progress(i + 1, len(todo), _label(p))
        return out
    if executor != "ray":
        raise ValidationError(f"executor must be 'ray' or 'local', got {executor!r}")
    import ray

    if not ray.is_initialized():
        raise ValidationError("Ray is not initialised; call scenarios.sweep.start_ray() first")
    remote = ray.remote(num_cpus=1)(run_point)
    refs = [remote.remote(p) for p in todo]
    labels = {ref: _label(p) for ref, p in zip(refs, todo, strict=True)}
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        if progress:
            progress(len(refs) - len(pending), len(refs), labels[ready[0]])
    return ray.get(refs)


def _label(point: Point) -> str:
    """A progress label: the scenario, design and point number."""
    t = point.task
    return f"{t.scenario} {t.params.design} point {t.design_index + 1}"
