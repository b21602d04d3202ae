"""Sweep speed-up: the same replications as Ray tasks on 2 CPUs vs one after another, same run."""

from __future__ import annotations

import os
import time


def main(argv: list[str]) -> int:
    """Time 2 designs x R replications of the disaster sequentially and on Ray (2 CPUs)."""
    import ray

    from scenarios.runner import make_params
    from scenarios.sweep import run_sweep, start_ray

    quick = "--quick" in argv
    reps, scale = (2, 0.05) if quick else (4, 0.25)
    params = [make_params("disaster", d, scale=scale) for d in ("baseline", "full")]
    t = time.perf_counter()
    seq = run_sweep("disaster", params, reps, seed=0, executor="local")
    sequential = time.perf_counter() - t
    started = start_ray(num_cpus=2)
    try:
        run_sweep("disaster", params, 1, seed=99, executor="ray")  # workers up, modules, city
        t = time.perf_counter()
        par = run_sweep("disaster", params, reps, seed=0, executor="ray")
        parallel = time.perf_counter() - t
    finally:
        if started:
            ray.shutdown()
    same = seq.kpis().equals(par.kpis())
    load = os.getloadavg()[0]
    n = len(params) * reps
    print(f"   disaster, kumamoto x{scale}: {n} replications ({len(params)} designs x {reps})")
    print(f"   sequential: {sequential:.1f} s   Ray (2 CPUs): {parallel:.1f} s   speed-up "
          f"{sequential / parallel:.2f}x   (target >= 1.7x)   identical KPIs: {same}")
    print(f"   load average {load:.1f} on {os.cpu_count()} CPUs (other work on the machine takes "
          "cores from both runs; the speed-up needs two idle cores)")
    return 0 if same else 1
