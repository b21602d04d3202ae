"""The nowcast: how often its 95 % interval covers what a disaster run then shows, and its speed.

Coverage: disaster runs at scale 0.01 (design `full`, fast engine, face checks off: the
forecast has no ward face-check desk), a forecast from each run's state at a third of the
horizon (200 replications, total known), counted over seeds; an honest 95 % interval covers
about 95 % (binomial noise over 40 seeds: +-7 points). Also from a quarter of the horizon.
The replayed drill's check (tests/actors/test_replay_drill.py) over seeds, without the service;
then (not with --quick) 5 drills replayed through the load tester against a private live
service (scale 0.01, one seed after another on the same service).
Speed: a Kumamoto-sized state (250 shelters on a 16 x 16 km grid, 75,000 arrived at 16 h,
some shelters near full so redirects happen; synthetic, not a run), seconds per forecast of
100 replications and of 40 replications with a what-if (two more readers, a closed shelter
opened) — the baseline is one replication's time, measured in the same run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def kumamoto_state(rng: np.random.Generator):
    """A synthetic Kumamoto-sized live state at 16 h (250 shelters, 75,000 arrived, shelter 0 closed)."""
    from scenarios.nowcast import LiveState, ShelterState

    shelters = []
    for i in range(250):
        cap = int(rng.integers(250, 500))
        arrived = int(min(cap, rng.integers(150, 450)))
        reg = arrived - int(rng.integers(0, 20))
        shelters.append(ShelterState(i, cap, 0 if i == 0 else reg, 0 if i == 0 else arrived, 4, 2, None,
                                     float(i % 16), float(i // 16), i != 0))
    return LiveState(16.0, tuple(shelters), np.log(21.1) - 0.125, 0.5, 184.0, 0.6, 20.0, 2.0, 48.0, 2.2)


def drill_coverage(seeds: int, reps: int) -> tuple[int, int]:
    """The replayed drill's check (card check-ins only, the live service's defaults and places), without HTTP."""
    from actors.drill_replay import drill_of
    from actors.routes_forecast import defaults
    from actors.spec import ServiceSpec
    from scenarios.nowcast import forecast
    from scenarios.nowcast_live import live_state

    spec = ServiceSpec(data_dir="/nonexistent", scale=0.01)
    d0 = {**defaults(spec), "card_share": 1.0}
    hits = 0
    for seed in range(1, seeds + 1):
        d = drill_of(spec, seed)
        first = d.until(16.0).per_shelter
        rows = [{"shelter_id": s, "capacity": 1000, "readers": 4, "paper_staff": 2, "registered": first.get(s, 0),
                 "desk_count": first.get(s, 0)} for s in sorted(d.per_shelter)]
        state, _ = live_state(rows, None, 16 * 3600.0, 0.0, d0, expected=d.per_shelter)
        hits += forecast(state, reps=reps, seed=seed).t95_h.contains(max(d.t95_h(), 16.0))
    return hits, seeds


def live_replays(seeds: int) -> None:
    """The replayed drill against a private live service (scale 0.01), one seed after another."""
    import socket
    import tempfile

    import ray
    from ray import serve

    from actors import service
    from actors.drill_replay import check_out, replay_and_forecast
    from actors.spec import ServiceSpec
    from actors.workloads import Target

    service.connect(num_cpus=2)
    spec = ServiceSpec(data_dir=tempfile.mkdtemp(prefix="bench-nowcast-"), scale=0.01, shelter_groups=2,
                       namespace="bench-nowcast")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    svc = service.start(spec, port=port)
    try:
        spec = svc.supervisor.spec
        groups = [ray.get_actor(f"shelters_{g}", namespace=spec.namespace) for g in range(spec.shelter_groups)]

        def where(ids: list[int]) -> list[bool]:
            answers = ray.get([g.where.remote(ids) for g in groups])
            return [any(a[i] is not None for a in answers) for i in range(len(ids))]

        hits = 0
        for seed in range(1, seeds + 1):
            t = time.perf_counter()
            target = Target.from_folder(spec.data_dir)
            c = replay_and_forecast(svc.url, target, where, seed)
            hits += c.covered
            out, _other = check_out(svc.url, target, c.drill, seed)  # the next drill starts from empty shelters
            b = c.forecast["t95_h"]
            print(f"  seed {seed}: sent {c.sent}, checked in {c.checked_in} (registered before: {c.before}); "
                  f"95 % at {c.truth_h:.2f} h, interval {b['low']:.2f}-{b['high']:.2f} "
                  f"{'covered' if c.covered else 'MISSED'}; {out} checked out after ({time.perf_counter() - t:.1f} s)",
                  flush=True)
        print(f"  the replayed drill over HTTP: {hits}/{seeds} covered")
    finally:
        svc.stop()
        serve.shutdown()
        ray.shutdown()


def main(argv: list[str]) -> int:
    """Print coverage over seeds and the time per forecast."""
    ap = argparse.ArgumentParser(prog="bench_nowcast")
    ap.add_argument("--quick", action="store_true", help="10 seeds, 100 replications")
    ap.add_argument("--seeds", type=int, default=None, help="seeds for coverage (default 40)")
    ap.add_argument("--live", type=int, default=None, metavar="N",
                    help="drills replayed against a private live service (default 5, 0 with --quick)")
    args = ap.parse_args(argv)
    from scenarios.nowcast import forecast
    from scenarios.nowcast_check import coverage
    from scenarios.runner import make_params

    seeds = args.seeds or (10 if args.quick else 40)
    reps = 100 if args.quick else 200
    p = make_params("disaster", "full", None, 0.01, {"face_check_enabled": False})
    print(f"coverage of the 95 % interval for the time until 95 % registered (scale 0.01, {seeds} seeds, "
          f"{reps} replications)")
    for share in (1 / 4, 1 / 3):
        for label, kw in (("desks as the run sized them", {}), ("nominal desks", {"desks_as_run": False})):
            t = time.perf_counter()
            c = coverage(p, range(1, seeds + 1), reps=reps, at_share=share, **kw)
            print(f"  from {share * p.horizon_h:4.1f} h, {label:28s}: {c.hits}/{c.seeds} = {c.share:.0%} "
                  f"(run later than the interval: {c.early}, earlier: {c.late}; {time.perf_counter() - t:.1f} s)",
                  flush=True)
    t = time.perf_counter()
    hits, n = drill_coverage(seeds, reps)
    print(f"  the replayed drill's check without HTTP (card check-ins only, live defaults, from 16 h): "
          f"{hits}/{n} = {hits / n:.0%} ({time.perf_counter() - t:.1f} s)", flush=True)
    state = kumamoto_state(np.random.default_rng(0))
    t = time.perf_counter()
    forecast(state, reps=2, seed=1)
    one = (time.perf_counter() - t) / 2
    print(f"Kumamoto-sized synthetic state: 250 shelters, {sum(s.seen for s in state.shelters):,} arrived at 16 h")
    print(f"  baseline: one replication {one:.2f} s")
    for reps_k, kw in ((100, {}), (40, {"add_readers": {5: 2}, "open_shelters": [0]})):
        t = time.perf_counter()
        f = forecast(state, reps=reps_k, seed=1, **kw)
        dt = time.perf_counter() - t
        print(f"  {reps_k} replications{' + what-if' if kw else ''}: {dt:.1f} s ({dt / one:.0f}x one replication); "
              f"95 % registered at {f.t95_h.median:.1f} h ({f.t95_h.low:.1f}-{f.t95_h.high:.1f}), "
              f"redirected {f.redirected.median:.0f}", flush=True)
    live = args.live if args.live is not None else (0 if args.quick else 5)
    if live:
        print(f"replayed drills against a private live service ({live} seeds, from 16 h)", flush=True)
        live_replays(live)
    return 0
