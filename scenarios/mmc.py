"""An M/M/c run of the scenarios' queue machinery, to check it against Erlang C."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from scenarios.erlang import MMc, mmc
from scenarios.queueing import ServicePoint
from twin.errors import ValidationError

WAIT_EPS = 1e-12  # a wait at or below this counts as "did not wait"


@dataclass(frozen=True, slots=True)
class MMcRun:
    """Simulated figures of an M/M/c run next to the Erlang C values (input time unit)."""

    customers: int
    seed: int
    p_wait: float
    mean_wait: float
    p95_wait: float
    utilisation: float
    analytic: MMc

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the simulated and analytic figures and their relative errors."""
        a = self.analytic
        return {
            "input": {"arrival_rate": a.arrival_rate, "service_mean": a.service_mean,
                      "servers": a.servers, "customers": self.customers, "seed": self.seed},
            "simulated": {"p_wait": self.p_wait, "mean_wait": self.mean_wait,
                          "p95_wait": self.p95_wait, "utilisation": self.utilisation},
            "analytic": {"p_wait": a.p_wait, "mean_wait": a.mean_wait,
                         "utilisation": a.utilisation, "load_erlangs": a.load},
            "relative_error": {"p_wait": _rel(self.p_wait, a.p_wait),
                               "mean_wait": _rel(self.mean_wait, a.mean_wait)},
        }


def _rel(x: float, ref: float) -> float:
    """(x - ref) / ref."""
    return (x - ref) / ref


def _arrivals(env: simpy.Environment, point: ServicePoint, gaps: np.ndarray,
              services: np.ndarray) -> Generator[simpy.Event, Any, None]:
    """Start one customer process per arrival."""
    timeout, process, serve = env.timeout, env.process, point.serve
    for i, (gap, s) in enumerate(zip(gaps.tolist(), services.tolist(), strict=True)):
        yield timeout(gap)
        process(serve(i, s))


def simulate_mmc(arrival_rate: float, service_mean: float, servers: int, customers: int,
                 seed: int, engine: str = "simpy") -> MMcRun:
    """Run `customers` Poisson arrivals through `servers` exponential servers on an engine."""
    analytic = mmc(arrival_rate, service_mean, servers)
    if not (isinstance(customers, int) and customers >= 1):
        raise ValidationError(f"customers must be a whole number >= 1, got {customers!r}")
    if engine not in ("simpy", "fast"):
        raise ValidationError(f"engine must be 'simpy' or 'fast', got {engine!r}")
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / arrival_rate, customers)
    services = rng.exponential(service_mean, customers)
    rec = _records(gaps, services, servers) if engine == "simpy" else _fast(gaps, services, servers)
    waits = rec[:, 2] - rec[:, 1]
    busy = float((rec[:, 3] - rec[:, 2]).sum()) / (servers * float(rec[:, 3].max()))
    return MMcRun(
        customers=customers,
        seed=seed,
        p_wait=float((waits > WAIT_EPS).mean()),
        mean_wait=float(waits.mean()),
        p95_wait=float(np.percentile(waits, 95)),
        utilisation=busy,
        analytic=analytic,
    )


def _records(gaps: np.ndarray, services: np.ndarray, servers: int) -> np.ndarray:
    """(who, arrived, started, finished) per customer from `ServicePoint` on SimPy."""
    env = simpy.Environment()
    point = ServicePoint(env, servers, "mmc")
    env.process(_arrivals(env, point, gaps, services))
    env.run()
    rec = np.array(point.records, dtype=np.float64)
    return rec[np.argsort(rec[:, 0], kind="stable")]  # customer order, as the fast engine's


def _fast(gaps: np.ndarray, services: np.ndarray, servers: int) -> np.ndarray:
    """The same records from the fast kernel (arrival times summed as SimPy sums them)."""
    from scenarios.fast.kernel import fifo_stage

    arrived = np.cumsum(gaps)  # sequential, as SimPy's now + gap
    t = fifo_stage(arrived, services, servers)
    return np.column_stack([np.arange(arrived.size, dtype=np.float64), arrived, t.started,
                            t.finished])
