"""Actor call throughput of the twin's hosts, next to Ray's own 1:1 actor call rate in the same run.

Baseline: a no-op method on a trivial actor, called 1:1 from the driver (sync: wait for each;
async: submit all, one `ray.get` at the end), as in Ray's microbenchmark. Then the same two
patterns on a shelter group (one check-in per call), a resident shard (one ledger posting per
call, each committed to SQLite with FULL sync), and batched calls (500 check-ins or postings
per call), so the ratio shows what the twin's work and the store's commit cost per call.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import polars as pl


class Echo:
    """Ray's baseline: a method that does nothing."""

    def ping(self, *_args: object) -> int:
        return 1


def _rate(fn, n: int) -> float:
    t = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - t)


def main(argv: list[str]) -> int:
    """Measure and print rates and ratios."""
    ap = argparse.ArgumentParser(prog="bench_actors")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    n = 300 if args.quick else 2_000
    import ray

    from actors import service, world
    from actors.hosts_residents import ResidentHost
    from actors.hosts_safety import ShelterHost
    from actors.spec import ServiceSpec

    service.connect(num_cpus=2)
    spec = ServiceSpec(data_dir=tempfile.mkdtemp(prefix="bench-actors-"), scale=0.05, shelter_groups=1,
                       resident_shards=1, namespace="bench-actors").open()
    opts = {"num_cpus": 0, "namespace": spec.namespace}
    echo = ray.remote(Echo).options(**opts).remote()
    group = ray.remote(ShelterHost).options(name="shelters_0", **opts).remote(spec, 0)
    shard = ray.remote(ResidentHost).options(name="residents_0", **opts).remote(spec, 0)
    ray.get([echo.ping.remote(), group.ping.remote(), shard.ping.remote()])
    serials = world.city(spec).residents.filter(pl.col("has_card"))["card_serial"].to_list()
    seq = iter(range(10**9))

    def taps(k: int) -> list[dict]:
        out = []
        for _ in range(k):
            i = next(seq)
            out.append({"tap_id": f"b{i}", "fingerprint": "f", "reader_id": 1, "serial": serials[i % len(serials)],
                        "at": spec.built_at + i * 0.001})
        return out

    def posts(k: int) -> list[dict]:
        return [{"op": "top_up", "key": f"k{next(seq)}", "resident_id": 0, "amount": 10, "channel": "counter"}
                for _ in range(k)]

    rows = [
        ("Ray 1:1 no-op, sync", _rate(lambda m: [ray.get(echo.ping.remote()) for _ in range(m)], n // 2), "calls/s"),
        ("Ray 1:1 no-op, async", _rate(lambda m: ray.get([echo.ping.remote() for _ in range(m)]), n), "calls/s"),
        ("check-in, 1 per call, sync",
         _rate(lambda m: [ray.get(group.taps.remote("checkin", taps(1))) for _ in range(m)], n // 2), "calls/s"),
        ("check-in, 1 per call, async",
         _rate(lambda m: ray.get([group.taps.remote("checkin", taps(1)) for _ in range(m)]), n), "calls/s"),
        ("posting, 1 per call, async",
         _rate(lambda m: ray.get([shard.post.remote(posts(1), spec.built_at) for _ in range(m)]), n), "calls/s"),
    ]
    k = 500
    batches = max(n // 100, 4)
    t = time.perf_counter()
    ray.get([group.taps.remote("checkin", taps(k)) for _ in range(batches)])
    rows.append(("check-in, 500 per call", batches * k / (time.perf_counter() - t), "check-ins/s"))
    t = time.perf_counter()
    ray.get([shard.post.remote(posts(k), spec.built_at) for _ in range(batches)])
    rows.append(("posting, 500 per call", batches * k / (time.perf_counter() - t), "postings/s"))
    base = {"sync": rows[0][1], "async": rows[1][1]}
    print(f"   {'':<30}{'rate':>14}   vs Ray 1:1 no-op (same pattern)")
    for name, rate, unit in rows:
        pattern = "sync" if "sync" in name and "async" not in name else "async"
        print(f"   {name:<30}{rate:>12,.0f} {unit:<12} x{rate / base[pattern]:.2f}")
    for h in (echo, group, shard):
        ray.kill(h, no_restart=True)
    ray.shutdown()
    return 0
