"""Loss reports on the hosts (no Ray, SQLite): one report suspended in the trust host and revoked
in every shelter group and child watch, beside one single check-in tap committed by a shelter
group in the same run; and a 500-tap batched check-in before and after many cards are revoked."""

from __future__ import annotations

import argparse
import tempfile
import time

import polars as pl

from actors import world
from actors.hosts_childwatch import ChildWatchHost
from actors.hosts_safety import ShelterHost
from actors.hosts_trust import TrustHost
from actors.spec import ServiceSpec
from twin.clock import jst

T0 = jst(2026, 4, 6, 10)


def _tap(reader: int, serial: int, at: float, tid: str) -> dict:
    return {"tap_id": tid, "fingerprint": tid, "reader_id": reader, "serial": serial, "at": at}


def _batch(group: ShelterHost, reader: int, serials: list[int], at: float, tag: str) -> float:
    rows = [_tap(reader, s, at + i * 1e-3, f"{tag}{i}") for i, s in enumerate(serials)]
    t = time.perf_counter()
    group.taps("checkin", rows)
    return time.perf_counter() - t


def main(argv: list[str]) -> int:
    """Print ms per loss report beside ms per single check-in, and batch times before/after revocations."""
    ap = argparse.ArgumentParser(prog="bench_loss")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    scale, n = (0.01, 50) if args.quick else (0.05, 300)
    with tempfile.TemporaryDirectory() as folder:
        spec = ServiceSpec(data_dir=folder, scale=scale, shelter_groups=2, resident_shards=2, built_at=T0,
                           snapshot_every=0).open()
        serials = world.city(spec).residents.filter(pl.col("has_card"))["card_serial"].to_list()
        trust, watch = TrustHost(spec), ChildWatchHost(spec)
        groups = [ShelterHost(spec, g) for g in range(spec.shelter_groups)]
        reader = groups[0].readers()[0][0]
        before = _batch(groups[0], reader, serials[n:n + 500], T0 + 10, "b")
        t = time.perf_counter()
        for i in range(n):
            groups[0].taps("checkin", [_tap(reader, serials[n + 500 + i], T0 + 20 + i, f"s{i}")])
        tap_s = (time.perf_counter() - t) / n
        t = time.perf_counter()
        for i, serial in enumerate(serials[:n]):
            answer, _ = trust.report_loss(f"bench:{i}", f"fp{i}", serial, T0 + 100 + i)
            for host in (*groups, watch):
                host.revoke([serial], answer["result"]["suspended_at"])
        loss_s = (time.perf_counter() - t) / n
        after = _batch(groups[0], reader, serials[:n] + serials[2 * n + 500:2 * n + 1000 - n], T0 + 10_000, "a")
        for host in (trust, watch, *groups):
            host.store.close()
    print(f"   kumamoto x{scale}, {n} loss reports, {len(groups)} shelter groups + child watch, SQLite")
    print(f"   single check-in tap (baseline)  {tap_s * 1e3:8.2f} ms")
    print(f"   loss report + {len(groups) + 1} revocations  {loss_s * 1e3:8.2f} ms   {loss_s / tap_s:5.1f}x a tap")
    print(f"   500-tap batch, no card revoked  {before * 1e3:8.2f} ms")
    print(f"   500-tap batch, {n} revoked in it {after * 1e3:8.2f} ms   {after / before:5.2f}x")
    return 0
