"""Sweep speed-up: the same replications as Ray tasks on 2 CPUs vs one after another, same run."""

from __future__ import annotations

import os
import time


def main(argv: list[str]) -> int:
    """Time 2 designs x R replications of the disaster sequentially and on Ray (2 CPUs), best of
    a few interleaved rounds (the machine is shared), beside ideal spin tasks timed alike."""
    import ray

    from scenarios.runner import make_params
    from scenarios.sweep import run_sweep, start_ray

    quick = "--quick" in argv
    reps, scale, rounds = (2, 0.05, 1) if quick else (4, 0.25, 3)
    params = [make_params("disaster", d, scale=scale) for d in ("baseline", "full")]
    n = len(params) * reps
    times: dict[str, list[float]] = {"seq": [], "ray": [], "spin_seq": [], "spin_ray": []}
    started = start_ray(num_cpus=2)
    try:
        run_sweep("disaster", params, 2, seed=99, executor="ray")  # both workers warm
        for _ in range(rounds):
            t = time.perf_counter()
            seq = run_sweep("disaster", params, reps, seed=0, executor="local")
            times["seq"].append(time.perf_counter() - t)
            t = time.perf_counter()
            par = run_sweep("disaster", params, reps, seed=0, executor="ray")
            times["ray"].append(time.perf_counter() - t)
            a, b = _spin_speedup(ray, n)
            times["spin_seq"].append(a)
            times["spin_ray"].append(b)
    finally:
        if started:
            ray.shutdown()
    same = seq.kpis().equals(par.kpis())
    best = {k: min(v) for k, v in times.items()}
    speedup, ideal = best["seq"] / best["ray"], best["spin_seq"] / best["spin_ray"]
    print(f"   disaster, kumamoto x{scale}: {n} replications ({len(params)} designs x {reps}), "
          f"best of {rounds} interleaved rounds")
    print(f"   sequential: {best['seq']:.1f} s   Ray (2 CPUs): {best['ray']:.1f} s   speed-up "
          f"{speedup:.2f}x   (target >= 1.7x)   identical KPIs: {same}")
    print(f"   same number of pure Python spin tasks: speed-up {ideal:.2f}x = what the machine "
          f"offered; the sweep reaches {speedup / ideal:.0%} of it")
    print(f"   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if same else 1


def _spin(seconds: float) -> int:
    """Burn about `seconds` of CPU in pure Python (the ideal parallel task)."""
    end, k = time.process_time() + seconds, 0
    while time.process_time() < end:
        k += 1
    return k


def _spin_speedup(ray, n: int, seconds: float = 0.8) -> tuple[float, float]:
    """Wall time of n spin tasks one after another, and as Ray tasks."""
    t = time.perf_counter()
    for _ in range(n):
        _spin(seconds)
    seq = time.perf_counter() - t
    remote = ray.remote(num_cpus=1)(_spin)
    t = time.perf_counter()
    ray.get([remote.remote(seconds) for _ in range(n)])
    return seq, time.perf_counter() - t
