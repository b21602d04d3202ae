"""Erlang B and C (M/M/c) formulas: the analytic yardstick for the simulated queues."""

from __future__ import annotations

import math
from dataclasses import dataclass

from twin.errors import ValidationError


def _check(arrival_rate: float, service_mean: float, servers: int) -> float:
    """Validate an M/M/c description and return the offered load A = lambda * S (Erlangs)."""
    if not (isinstance(servers, int) and servers >= 1):
        raise ValidationError(f"servers must be a whole number >= 1, got {servers!r}")
    for name, v in (("arrival rate", arrival_rate), ("service mean", service_mean)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValidationError(f"{name} must be a finite number > 0, got {v!r}")
    load = arrival_rate * service_mean
    if load >= servers:
        raise ValidationError(
            f"offered load {load:.4g} Erlangs is not below {servers} servers: the queue grows "
            f"without bound (need at least {math.floor(load) + 1} servers)"
        )
    return load


def erlang_b(load: float, servers: int) -> float:
    """Blocking probability of M/M/c/c with offered load `load` Erlangs (stable recursion)."""
    if load < 0 or servers < 0:
        raise ValidationError(f"load and servers must be >= 0, got {load!r}, {servers!r}")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(load: float, servers: int) -> float:
    """Probability that an arrival waits in M/M/c with offered load `load` Erlangs."""
    if load >= servers:
        raise ValidationError(f"offered load {load} must be below {servers} servers")
    b = erlang_b(load, servers)
    rho = load / servers
    return b / (1.0 - rho * (1.0 - b))


@dataclass(frozen=True, slots=True)
class MMc:
    """Steady-state figures of an M/M/c queue, in the time unit of its inputs."""

    arrival_rate: float
    service_mean: float
    servers: int
    load: float  # Erlangs
    utilisation: float
    p_wait: float
    mean_wait: float
    mean_queue_length: float
    mean_wait_of_waiters: float

    def wait_exceeds(self, t: float) -> float:
        """P(wait > t) for a FIFO M/M/c queue."""
        rate = self.servers / self.service_mean - self.arrival_rate
        return self.p_wait * math.exp(-rate * t)

    def to_dict(self) -> dict[str, float | int]:
        """The figures as a JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__slots__}


def mmc(arrival_rate: float, service_mean: float, servers: int) -> MMc:
    """The Erlang C figures of an M/M/c queue (arrivals per time unit, mean service in that unit)."""
    load = _check(arrival_rate, service_mean, servers)
    pw = erlang_c(load, servers)
    gap = servers / service_mean - arrival_rate  # c*mu - lambda
    mean_wait = pw / gap
    return MMc(
        arrival_rate=float(arrival_rate),
        service_mean=float(service_mean),
        servers=servers,
        load=load,
        utilisation=load / servers,
        p_wait=pw,
        mean_wait=mean_wait,
        mean_queue_length=arrival_rate * mean_wait,
        mean_wait_of_waiters=1.0 / gap,
    )


def servers_needed(arrival_rate: float, service_mean: float, max_mean_wait: float) -> int:
    """The fewest servers whose Erlang C mean wait is at most `max_mean_wait`."""
    if not max_mean_wait >= 0:
        raise ValidationError(f"max_mean_wait must be >= 0, got {max_mean_wait!r}")
    c = max(1, math.floor(arrival_rate * service_mean) + 1)
    while mmc(arrival_rate, service_mean, c).mean_wait > max_mean_wait:
        c += 1
    return c
