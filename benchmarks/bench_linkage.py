"""Linkage: code issuance and exchanges through the broker, next to plain hashing and dict lookups."""

from __future__ import annotations

import hashlib
import time

import numpy as np


def main(argv: list[str]) -> int:
    """Print codes/s and exchanges/s beside a baseline measured in the same run."""
    from twin.population import build_city
    from twin.services.linkage_applications import ApplicationDesk
    from twin.services.linkage_network import LinkageNetwork, seed_copies
    from twin.services.linkage_tables import LinkageScope

    scale = 0.01 if "--quick" in argv else 0.1
    city = build_city("kumamoto", seed=1, scale=scale)
    r = city.residents
    n = r.height
    scope = LinkageScope.of(["child_allowance", "municipal_housing"])

    t = time.perf_counter()
    net = LinkageNetwork.build(r, scope, master_key=b"b" * 32)
    seed_copies(net, r, np.random.default_rng(1), 0.0)
    seed_s = time.perf_counter() - t
    codes = int(r["tax_record"].sum()) + n + n + int((~r["tax_record"]).sum())  # offers made
    t = time.perf_counter()
    for v in r["my_number"].to_list():
        hashlib.sha256(str(v).encode()).digest()
    hash_s = time.perf_counter() - t

    desk = ApplicationDesk(net)
    ids = r["resident_id"].to_numpy()[: min(n, 20_000)]
    t = time.perf_counter()
    for rid in ids:
        desk.file(int(rid), "municipal_housing", 1.0)
    file_s = time.perf_counter() - t
    exchanges = net.broker.exchange_frame().height
    copies = {int(k): v for k, v in zip(ids.tolist(), range(ids.size), strict=True)}
    t = time.perf_counter()
    for rid in ids:
        copies.get(int(rid))
        copies.get(int(rid) + 1)
    dict_s = time.perf_counter() - t

    print(f"   kumamoto x{scale}: {n:,} residents")
    print(
        f"   seeding copies (codes issued for {codes:,} offers): {seed_s:.2f} s, {codes / seed_s:,.0f}/s"
    )
    print(
        f"   baseline sha256 of {n:,} numbers: {hash_s * 1000:.1f} ms "
        f"(ratio per item {seed_s / codes / (hash_s / n):.0f}x)"
    )
    print(
        f"   {ids.size:,} filings, {exchanges:,} exchanges: {file_s:.2f} s, {exchanges / file_s:,.0f} exchanges/s"
    )
    print(
        f"   baseline two dict lookups per filing: {dict_s * 1000:.1f} ms "
        f"(ratio {file_s / dict_s:.0f}x: checks, code conversion and the record cost this much)"
    )
    return 0
