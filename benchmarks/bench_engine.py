"""The fast engine's FIFO c-server stage next to bare SimPy M/M/c on the same customers.

Both get the same arrival and service times (M/M/4 at 80 % load); the figures are
microseconds per customer measured in this run and their ratio (target: >= 20x). The same
recursion as a plain Python loop (`FifoStage.arrive`) is shown too: the measurement behind
compiling `fifo_stage` with numba (see `scenarios/fast/kernel.py`).
"""

from __future__ import annotations

import time

import numpy as np
import simpy

SERVERS, RATE, MEAN = 4, 0.5, 6.4  # 80 % load


def customers(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Poisson arrival times and exponential service times."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.exponential(1 / RATE, n)), rng.exponential(MEAN, n)


def bare_simpy(arrived: np.ndarray, service: np.ndarray, servers: int) -> tuple[float, np.ndarray]:
    """Seconds for a plain simpy.Resource M/M/c (one process per customer), and the starts."""
    env = simpy.Environment()
    res = simpy.Resource(env, servers)
    started = np.empty(len(arrived))
    gaps = np.diff(arrived, prepend=0.0).tolist()
    svc = service.tolist()

    def customer(i):
        with res.request() as req:
            yield req
            started[i] = env.now
            yield env.timeout(svc[i])

    def source():
        for i, g in enumerate(gaps):
            yield env.timeout(g)
            env.process(customer(i))

    env.process(source())
    t = time.perf_counter()
    env.run()
    return time.perf_counter() - t, started


def kernel(arrived: np.ndarray, service: np.ndarray, servers: int) -> tuple[float, float, np.ndarray]:
    """Seconds to compile-or-load the kernel, seconds for its stage, and the starts."""
    from scenarios.fast.kernel import fifo_stage

    t = time.perf_counter()
    fifo_stage(arrived[:10], service[:10], servers)  # numba: compile, or load from its cache
    warm = time.perf_counter() - t
    t = time.perf_counter()
    out = fifo_stage(arrived, service, servers)
    return warm, time.perf_counter() - t, out.started


def plain_python(arrived: np.ndarray, service: np.ndarray, servers: int) -> float:
    """Seconds for the same recursion as a plain Python loop (the online `FifoStage`)."""
    from scenarios.fast.kernel import FifoStage

    stage = FifoStage(servers)
    arrive = stage.arrive
    t = time.perf_counter()
    for x, y in zip(arrived.tolist(), service.tolist(), strict=True):
        arrive(x, y)
    return time.perf_counter() - t


def main(argv: list[str]) -> int:
    """Time both engines on the same customers and print the per-customer ratio."""
    n = 100_000 if "--quick" in argv else 1_000_000
    arrived, service = customers(n)
    warm, fast_s, fast_start = kernel(arrived, service, SERVERS)
    bare_s, bare_start = bare_simpy(arrived, service, SERVERS)
    agree = float(np.max(np.abs(fast_start - bare_start)))
    us = lambda s: s / n * 1e6  # noqa: E731
    print(f"   M/M/{SERVERS} at 80 % load, {n:,} customers, same arrivals and service times")
    print(f"   bare SimPy (simpy.Resource): {us(bare_s):8.3f} us/customer")
    print(f"   fast kernel (fifo_stage):    {us(fast_s):8.3f} us/customer   ratio "
          f"{bare_s / fast_s:.1f}x faster (target >= 20x); starts agree to {agree:.1e} s")
    py = plain_python(arrived, service, SERVERS)
    print(f"   plain Python (FifoStage):    {us(py):8.3f} us/customer   ratio {bare_s / py:.1f}x")
    print(f"   numba compile or cache load, once per process: {warm:.2f} s")
    return 0
