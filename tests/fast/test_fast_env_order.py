"""FastEnv runs processes and timeouts in SimPy's order: a process started at an instant takes its first
step before anything else due then, processes started together step in the order started (also when one
starts another), and timeouts due at one instant fire in the order they were made."""

from __future__ import annotations

import numpy as np
import simpy

from scenarios.fast.certificates_engine import FastEnv


def _script(env, log: list, rng: np.random.Generator) -> None:
    """Processes on whole-second delays (many ties) that start others and wait zero seconds."""
    delays = rng.integers(0, 4, 400).tolist()
    starts = (rng.random(400) < 0.3).tolist()
    it = iter(range(400))

    def worker(name: str, depth: int):
        log.append((name, "start", env.now))
        for _ in range(3):
            k = next(it, None)
            if k is None:
                return
            if starts[k] and depth < 3:  # one or two started at this instant, in this order
                env.process(worker(f"{name}.{k}", depth + 1))
                if delays[k] % 2:
                    env.process(worker(f"{name}.{k}b", depth + 1))
            yield env.timeout(delays[k])
            log.append((name, k, env.now))

    def source():
        for j in range(12):
            env.process(worker(f"w{j}", 0))
            yield env.timeout(int(rng.integers(0, 2)))

    env.process(source())


def test_fast_env_steps_processes_and_timeouts_in_simpys_order():
    for seed in range(6):
        ref, fast = [], []
        simpy_env, fast_env = simpy.Environment(), FastEnv()
        _script(simpy_env, ref, np.random.default_rng(seed))
        _script(fast_env, fast, np.random.default_rng(seed))
        simpy_env.run()
        fast_env.run()
        assert fast == ref and len(ref) > 100
        assert len({t for *_, t in ref}) < len(ref) / 5  # many steps share an instant


def _instants(env, log: list, rng: np.random.Generator, fast: bool) -> None:
    """Workers that wait until whole-second instants, on FastEnv by yielding the instant itself (no event
    object), on SimPy by a timeout to it; ties with other workers' timeouts at the same instant."""
    waits = rng.integers(0, 3, 600).tolist()
    by_instant = (rng.random(600) < 0.5).tolist()
    it = iter(range(600))

    def worker(name: str):
        for _ in range(6):
            k = next(it, None)
            if k is None:
                return
            until = float(env.now + waits[k])
            if by_instant[k] and fast:
                yield until
            else:
                yield env.timeout(until - env.now)
            log.append((name, k, env.now))

    for j in range(40):
        env.process(worker(f"w{j}"))


def test_a_process_that_yields_an_instant_resumes_in_its_turn_among_timeouts():
    for seed in range(4):
        ref, fast = [], []
        simpy_env, fast_env = simpy.Environment(), FastEnv()
        _instants(simpy_env, ref, np.random.default_rng(seed), False)
        _instants(fast_env, fast, np.random.default_rng(seed), True)
        simpy_env.run()
        fast_env.run()
        assert fast == ref and len(ref) > 200
        assert fast_env.events == len(ref) + 40  # each resumption and each start is one event
