"""Check-ins over HTTP, single and batched, next to a no-op Serve endpoint on the same machine and run.

Baseline: a FastAPI route on Ray Serve that reads the body and answers `{"status": "ok"}`,
behind the same proxy and with the same client. Then the real reader contract: one tap per
request (target: 70 % of the no-op rate or better), 500 taps per batch request (target:
20,000 check-ins/s or more), and the latency of single check-ins offered open-loop at half the
measured maximum (target: p99 under 100 ms). The client runs on the same machine and counts
against it equally in every row; the ratios are what to compare across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
import time
import uuid
from collections.abc import Callable

import polars as pl
from fastapi import FastAPI, Request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def noop_deployment():
    """A no-op FastAPI endpoint on Serve (the baseline)."""
    from ray import serve

    app = FastAPI()

    @app.post("/")
    async def noop(request: Request) -> dict:
        await request.body()
        return {"status": "ok"}

    @serve.deployment(name="noop", ray_actor_options={"num_cpus": 0}, max_ongoing_requests=256)
    @serve.ingress(app)
    class Noop:
        pass

    return Noop


async def closed_loop(url: str, make: Callable[[], tuple[str, dict, dict]], seconds: float, concurrency: int,
                      per_request: int = 1) -> tuple[float, int]:
    """Requests per second (x per_request) that `concurrency` clients sustain for `seconds`; and errors."""
    import httpx

    done, errors = 0, 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        end = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < end:
                path, body, headers = make()
                r = await client.post(path, json=body, headers=headers)
                if r.status_code < 300:
                    done += 1
                else:
                    errors += 1
                    if errors == 1:
                        print(f"   (first error from {path}: {r.status_code} {r.text[:200]})")

        t = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        elapsed = time.perf_counter() - t
    return done * per_request / elapsed, errors


def main(argv: list[str]) -> int:
    """Start the service and the baseline, measure, print, stop."""
    ap = argparse.ArgumentParser(prog="bench_serve")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args(argv)
    seconds = 3.0 if args.quick else 10.0
    from ray import serve

    from actors import service, world
    from actors.load import LoadSettings, run_load
    from actors.spec import ServiceSpec
    from actors.workloads import Target, workload

    service.connect(num_cpus=2)
    spec = ServiceSpec(data_dir=tempfile.mkdtemp(prefix="bench-serve-"), scale=0.05 if args.quick else 0.2,
                       namespace="bench-serve")
    svc = service.start(spec, port=_free_port())
    serve.run(noop_deployment().bind(), name="noop", route_prefix="/noop")
    try:
        t = Target(svc.supervisor.spec, _creds(svc))
        serials = world.city(t.spec).residents.filter(pl.col("has_card"))["card_serial"].to_list()
        dev = t.devices("shelter")[0]
        head = {"Authorization": f"Bearer {dev['token']}", "X-Device-Id": dev["device_id"]}
        seq = iter(range(10**9))

        def tap() -> dict:
            return {"tap_id": uuid.uuid4().hex, "device_id": dev["device_id"], "site_id": dev["site_id"],
                    "kind": "checkin", "at": round(t.spec.now(), 3), "card": {"card_serial": serials[next(seq) % len(serials)]}}

        run = lambda make, c=args.concurrency, k=1: asyncio.run(closed_loop(svc.url, make, seconds, c, k))  # noqa: E731
        noop, _ = run(lambda: ("/noop/", tap(), head))
        single, e1 = run(lambda: ("/v1/readers/taps", tap(), head))
        batched, e2 = run(lambda: ("/v1/readers/taps/batch", {"taps": [tap() for _ in range(500)]}, head), 4, 500)
        half = single / 2
        ops = workload("disaster", t, __import__("numpy").random.default_rng(1), t.spec.now, checkout_share=0.0)
        rep = run_load(svc.url, "disaster", ops, LoadSettings(half, seconds, retries=0, seed=1))
        _print(noop, single, batched, half, rep, e1 + e2)
    finally:
        serve.delete("noop")
        svc.stop()
        serve.shutdown()
        import ray

        ray.shutdown()
    return 0


def _creds(svc) -> dict:
    import json
    from pathlib import Path

    return json.loads((Path(svc.supervisor.spec.data_dir) / "credentials.json").read_text())


def _print(noop: float, single: float, batched: float, half: float, rep, errors: int) -> None:
    print(f"   {'no-op Serve endpoint (baseline)':<44}{noop:>10,.0f} requests/s")
    print(f"   {'check-in, one tap per request':<44}{single:>10,.0f} check-ins/s   "
          f"x{single / noop:.2f} of no-op (target >= 0.70)")
    print(f"   {'check-in, 500 taps per batch request':<44}{batched:>10,.0f} check-ins/s   "
          f"x{batched / noop:.1f} of no-op requests/s (target >= 20,000/s)")
    print(f"   {'single check-ins at half the maximum':<44}{half:>10,.0f} offered/s     "
          f"p50 {rep.p50_ms:.1f} ms  p95 {rep.p95_ms:.1f} ms  p99 {rep.p99_ms:.1f} ms (target p99 < 100 ms)")
    print(f"   refusals or errors while measuring: {errors + rep.started - rep.ok}")
