"""Optimisation speed: trials per minute on 2 cores, on Ray vs in one process, same run."""

from __future__ import annotations

import os
import time


def main(argv: list[str]) -> int:
    """The same seeded search (readers and paper staff per shelter, disaster scenario) run in
    this process and as Ray tasks, alternating; prints trials/minute and the speed-up."""
    import ray

    from scenarios.optimise import search
    from scenarios.optimise_problems import DesignProblem
    from scenarios.optimise_space import COST, parse_objective, parse_target, parse_variable
    from scenarios.sweep import start_ray
    from twin.design import design_fields

    quick = "--quick" in argv
    trials, reps, scale, rounds = (4, 3, 0.02, 1) if quick else (8, 3, 0.1, 2)
    fields = {f.key: f for f in design_fields()}
    variables = (parse_variable("safety.readers_per_shelter=1:8", fields),
                 parse_variable("safety.paper_form_staff_per_shelter=1:6", fields))

    def run(executor: str):
        problem = DesignProblem("full", ("disaster",), variables, scale=scale, executor=executor)
        target = parse_target("checkin_wait_p95_min<=30", problem.kpis)
        t = time.perf_counter()
        out = search(problem, [target], [parse_objective(COST, problem.kpis)], trials=trials,
                     reps=reps, seed=0, batch=4, finalists=2)
        return time.perf_counter() - t, out

    started = start_ray(num_cpus=2)
    times: dict[str, list[float]] = {"local": [], "ray": []}
    last: dict = {}
    try:
        run("ray")  # both workers warm
        for _ in range(rounds):
            for ex in ("local", "ray"):
                wall, out = run(ex)
                times[ex].append(wall)
                last[ex] = out
    finally:
        if started:
            ray.shutdown()
    same = last["local"].trials_frame().equals(last["ray"].trials_frame())
    best = {k: min(v) for k, v in times.items()}
    per_min = {k: 60 * trials / v for k, v in best.items()}
    print(f"   disaster, kumamoto x{scale}: {trials} trials x {reps} replications (+ finalists), "
          f"best of {rounds} alternating rounds")
    print(f"   one process: {per_min['local']:.1f} trials/min   Ray (2 CPUs): "
          f"{per_min['ray']:.1f} trials/min   speed-up {best['local'] / best['ray']:.2f}x "
          f"(aim >= 1.7x)   identical trials: {same}")
    print(f"   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if same else 1
