"""Restart time of a shelter group after many journaled check-ins: the full replay next to a snapshot.

One shelter group (Kumamoto, scale 0.05) journals N single-tap check-ins (20,000; 2,000 with
--quick). It is then restarted (in this process, so the city is already built) replaying the
whole journal, and from a snapshot taken N - 500 commands in (half the default
`snapshot_every`, the average tail): three interleaved rounds, best of each, and the ratio.
Both paths also load every keyed answer (`twin_answers`, not snapshotted): shown, with the
ratio without it. Beside them: the build alone (an empty journal), the city build (a new
actor process pays it on both paths), and what a snapshot of each kind of host costs (size,
time to take, time to restore) next to building that host.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time

import polars as pl

TAIL = 500
ROUNDS = 3


def _timed(make) -> tuple[float, object]:
    """(seconds, result) of one call; a host's store is closed after."""
    t = time.perf_counter()
    out = make()
    seconds = time.perf_counter() - t
    if hasattr(out, "store"):
        out.store.close()
    return seconds, out


def _best(make, rounds: int = 3) -> tuple[float, object]:
    best, host = float("inf"), None
    for _ in range(rounds):
        t = time.perf_counter()
        host = make()
        best = min(best, time.perf_counter() - t)
        host.store.close()
    return best, host


def _journal(host, spec, n: int, start: int = 0) -> None:
    """n single-tap check-ins (and every fifth a check-out), one journaled command each."""
    from actors import world

    serials = world.city(spec).residents.filter(pl.col("has_card"))["card_serial"].to_list()
    readers = [r for r, _ in host.readers()]
    for i in range(start, start + n):
        kind = "checkout" if i % 5 == 4 else "checkin"
        host.taps(kind, [{"tap_id": f"b{i}", "fingerprint": "f", "reader_id": readers[i % len(readers)],
                          "serial": serials[(i // 5 * 4 + i % 5) % len(serials)], "at": spec.built_at + i}])


def restart_rows(spec, n: int) -> list[tuple[str, float, str]]:
    """Full replay vs snapshot restart of one shelter group with n journaled commands."""
    from actors.hosts_safety import ShelterHost
    from actors.journal import Journal
    from actors.stores import open_store

    host = ShelterHost(spec, 0)
    t = time.perf_counter()
    _journal(host, spec, n - TAIL)
    head_s = time.perf_counter() - t
    taken = min((host.snapshot() for _ in range(3)), key=lambda t: t["seconds"])  # the same seq, rewritten
    cols = "seq, format, layout, blob, size, at"
    with host.store.transaction() as tx:  # measure the full replay first: the snapshot is held back
        (row,) = tx.query(f"SELECT {cols} FROM twin_snapshots WHERE seq = ?", (taken["seq"],))
        tx.execute("DELETE FROM twin_snapshots")
    _journal(host, spec, TAIL, start=n - TAIL)
    host.store.close()
    best = {"full": float("inf"), "snapshot": float("inf"), "answers": float("inf")}
    for _ in range(ROUNDS):  # interleaved, best of each: the machine is shared
        full_s, full = _timed(lambda: ShelterHost(spec, 0))
        with open_store(spec, "shelters_0") as store, store.transaction() as tx:
            tx.execute(f"INSERT INTO twin_snapshots ({cols}) VALUES (?, ?, ?, ?, ?, ?)", row)
        snap_s, snap = _timed(lambda: ShelterHost(spec, 0))
        with open_store(spec, "shelters_0") as store:
            answers_s, keyed = _timed(lambda: len(Journal(store).answers()))  # noqa: B023 - used at once
            with store.transaction() as tx:
                tx.execute("DELETE FROM twin_snapshots")
        assert (full.replayed, snap.replayed, snap.snapshots.restored_seq) == (n, TAIL, n - TAIL), "bench setup"
        assert snap.register().equals(full.register()), "the snapshot restart must equal the full replay"
        for key, value in (("full", full_s), ("snapshot", snap_s), ("answers", answers_s)):
            best[key] = min(best[key], value)
    full_s, snap_s, answers_s = best["full"], best["snapshot"], best["answers"]
    return [("journal written (1 tap per command)", (n - TAIL) / head_s, "commands/s"),
            (f"restart, full replay of {n:,}", full_s, "s"),
            (f"restart, snapshot at {n - TAIL:,} + {TAIL} replayed", snap_s, "s"),
            ("  ratio full / snapshot", full_s / snap_s, "x"),
            (f"  of which both load {keyed:,} keyed answers", answers_s, "s"),
            ("  ratio without that load", (full_s - answers_s) / (snap_s - answers_s), "x"),
            (f"snapshot at {n - TAIL:,}: size", taken["size"] / 1e6, "MB (zlib)"),
            ("snapshot: time to take", taken["seconds"] * 1e3, "ms")]


def host_rows(spec) -> list[tuple[str, float, str]]:
    """Per kind of host with an empty journal: build time, snapshot size, take and restore time."""
    from actors.hosts_childwatch import ChildWatchHost
    from actors.hosts_linkage import LinkageHost
    from actors.hosts_residents import ResidentHost
    from actors.hosts_trust import TrustHost
    from actors.snapshots import SnapshotFailed

    rows = []
    for label, make in (("resident shard", lambda: ResidentHost(spec, 0)), ("child watch", lambda: ChildWatchHost(spec)),
                        ("linkage", lambda: LinkageHost(spec)), ("trust", lambda: TrustHost(spec))):
        build_s, host = _best(make, rounds=1)
        host = make()
        try:
            taken = host.snapshot()
        except SnapshotFailed as exc:
            rows.append((f"{label}: build {build_s:.3f} s; no snapshot ({str(exc).split('(')[1].split(':')[0]})",
                         build_s, "s"))
            host.store.close()
            continue
        host.store.close()
        restore_s, _ = _best(make, rounds=1)
        rows.append((f"{label}: build / restore", build_s / restore_s,
                     f"x  ({build_s:.3f} s / {restore_s:.3f} s; {taken['size'] / 1e6:.2f} MB, "
                     f"taken in {taken['seconds'] * 1e3:.0f} ms)"))
    return rows


def main(argv: list[str]) -> int:
    """Measure and print restart times and their ratio."""
    ap = argparse.ArgumentParser(prog="bench_restart")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--commands", type=int, default=None, help="journaled check-ins (default 20,000; 2,000 quick)")
    args = ap.parse_args(argv)
    n = args.commands or (2_000 if args.quick else 20_000)
    if n <= TAIL:
        ap.error(f"--commands must be more than {TAIL}")
    from actors import world
    from actors.spec import ServiceSpec

    spec = ServiceSpec(data_dir=tempfile.mkdtemp(prefix="bench-restart-"), scale=0.05, shelter_groups=1,
                       resident_shards=1, synchronous="NORMAL", snapshot_every=0).open()
    t = time.perf_counter()
    world.city(spec)
    city_s = time.perf_counter() - t
    rows = [("city build (a new actor process pays it either way)", city_s, "s")]
    empty = dataclasses.replace(spec, data_dir=tempfile.mkdtemp(prefix="bench-restart-empty-")).open()
    from actors.hosts_safety import ShelterHost

    rows.append(("shelter group build, empty journal", _best(lambda: ShelterHost(empty, 0))[0], "s"))
    rows += restart_rows(spec, n)
    rows += host_rows(empty)
    width = max(len(r[0]) for r in rows)
    for label, value, unit in rows:
        print(f"  {label:<{width}}  {value:>10.3f} {unit}", flush=True)
    return 0
