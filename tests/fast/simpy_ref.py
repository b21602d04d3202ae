"""The reference: the same customers through `ServicePoint` on SimPy, as the scenarios run them."""

from __future__ import annotations

import math

import numpy as np
import simpy

from scenarios.queueing import ServicePoint


def simpy_stage(arrived: np.ndarray, service: np.ndarray, servers: int,
                patience: np.ndarray | None = None, free_from: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Started and finished per customer from SimPy (inf: never served)."""
    env = simpy.Environment()
    point = ServicePoint(env, servers, "ref")
    n = len(arrived)

    def blocker(k: int, until: float):
        yield from point.serve(-1 - k, until)  # server k is down until `until`

    def customer(i: int):
        yield env.timeout(float(arrived[i]))
        if patience is None:
            yield from point.serve(i, float(service[i]))
        else:
            yield from point.serve_or_renege(i, float(service[i]), float(patience[i]))

    if free_from is not None:
        for k, u in enumerate(np.asarray(free_from, dtype=float).tolist()):
            if u > 0:
                env.process(blocker(k, u))
    for i in range(n):
        env.process(customer(i))
    finite = [x for x in np.asarray(free_from if free_from is not None else [0.0]).tolist()
              if math.isfinite(x)]
    horizon = float(np.sum(service)) + float(np.max(arrived, initial=0.0)) + max(finite,
                                                                                 default=0.0)
    env.run(until=horizon * 2 + 10.0)
    started, finished = np.full(n, math.inf), np.full(n, math.inf)
    for who, _a, s, f in point.records:
        if who >= 0:
            started[who], finished[who] = s, f
    return started, finished
