"""Durable payments per second through the ledger (group commit) next to raw SQLite inserts.

Both write to a SQLite file in WAL mode with synchronous=FULL, in batches of the same size,
into the ledger's own schema; the raw side inserts exactly the posting and entry rows the
ledger wrote (so the ratio is the ledger's rule-checking and balance-keeping overhead).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from twin.clock import jst
from twin.services.ledger_book import SCHEMA
from twin.services.payments import FeePayment, Ledger, TopUp
from twin.store import Store

T0 = jst(2026, 4, 1, 10)


def _fund(ledger: Ledger, residents: int, per_resident: int) -> None:
    """Give every resident a wallet balance (not timed)."""
    reqs = [TopUp(f"fund-{r}", r, per_resident, "portal") for r in range(residents)]
    for i in range(0, len(reqs), 5_000):
        ledger.post_many(reqs[i : i + 5_000], T0)


def _ledger_batch(ledger: Ledger, reqs: list[FeePayment]) -> tuple[float, list[tuple], list[tuple]]:
    """Seconds to post one batch (one transaction); the posting and entry rows it wrote."""
    t = time.perf_counter()
    out = ledger.post_many(reqs, T0)
    secs = time.perf_counter() - t
    posts = [r[:12] for r in out if not isinstance(r, Exception)]
    entries = [e for r in posts for e in ((r[0], f"wallet:{r[3]}", r[4]), (r[0], f"revenue:{r[5]}", -r[4]))]
    return secs, posts, entries


def _stored_rows(ledger: Ledger, first_id: int, last_id: int) -> tuple[list[tuple], list[tuple]]:
    """The posting and entry rows in the ledger's file for postings first_id..last_id."""
    with ledger.store.reading() as tx:
        posts = tx.query("SELECT * FROM ledger_postings WHERE posting_id BETWEEN ? AND ? ORDER BY posting_id",
                         (first_id, last_id))
        entries = tx.query("SELECT * FROM ledger_entries WHERE posting_id BETWEEN ? AND ? "
                           "ORDER BY posting_id, amount DESC", (first_id, last_id))
    return posts, entries


def _raw_round(store: Store, posts: list[tuple], entries: list[tuple], batch: int) -> float:
    """Seconds to insert the same rows with executemany, one transaction per batch."""
    t = time.perf_counter()
    for i in range(0, len(posts), batch):
        with store.transaction() as tx:
            tx.executemany("INSERT INTO ledger_postings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           posts[i : i + batch])
            tx.executemany("INSERT INTO ledger_entries VALUES (?, ?, ?)", entries[2 * i : 2 * (i + batch)])
    return time.perf_counter() - t


def _interleaved(tmp: Path, n: int, batch: int, rounds: int) -> tuple[list[float], list[float], list[float], int]:
    """Alternate, batch by batch, a ledger commit and a raw commit of the rows it wrote (so
    machine noise hits both alike); per-round rates."""
    ledger = Ledger.open(tmp / "ledger.db")
    raw = Store.sqlite(tmp / "raw.db")
    raw.ensure_schema("ledger", SCHEMA)
    residents = max(n // 20, 1)
    _fund(ledger, residents, 300 * (n // residents + 1))
    reqs = [FeePayment(f"pay-{i}", i % residents, "residence_record", 300, "kiosk", "wallet", i % 50)
            for i in range(n)]
    per = -(-n // rounds)
    led_rates, raw_rates, ratios, total = [], [], [], 0
    for k in range(rounds):
        led_secs = raw_secs = 0.0
        posted = 0
        for i in range(k * per, min(n, (k + 1) * per), batch):
            secs, posts, entries = _ledger_batch(ledger, reqs[i : i + batch])
            if i == 0 and (posts, entries) != _stored_rows(ledger, posts[0][0], posts[-1][0]):
                raise SystemExit("the raw side would not insert the rows the ledger wrote")
            raw_one = _raw_round(raw, posts, entries, batch)
            led_secs, posted, raw_secs = led_secs + secs, posted + len(posts), raw_secs + raw_one
            ratios.append(raw_one / secs)
        led_rates.append(posted / led_secs)
        raw_rates.append(posted / raw_secs)
        total += posted
    rec = ledger.reconcile()
    ledger.store.close()
    raw.close()
    if not rec.ok or total != n:
        raise SystemExit(f"ledger run wrong: {total:,} of {n:,} posted; problems {rec.problems[:3]}")
    return led_rates, raw_rates, ratios, total


def _next_posting(ledger: Ledger) -> int:
    """The id the ledger's next posting will get."""
    with ledger.store.reading() as tx:
        return int(tx.scalar("SELECT COALESCE(MAX(posting_id), 0) FROM ledger_postings")) + 1


def _single_rate(tmp: Path, k: int) -> float:
    """Payments per second with one commit (one fsync) each."""
    single = Ledger.open(tmp / "single.db")
    _fund(single, 10, 10**5)
    t = time.perf_counter()
    for i in range(k):
        single.pay_fee(f"one-{i}", i % 10, "residence_record", 300, T0)
    secs = time.perf_counter() - t
    single.store.close()
    return k / secs


def main(argv: list[str]) -> int:
    """Print ledger payments/s with group commit, raw insert rows/s, and their ratio."""
    ap = argparse.ArgumentParser(prog="bench_ledger")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--payments", type=int, default=None)
    ap.add_argument("--batch", type=int, default=1_000, help="requests per transaction")
    ap.add_argument("--rounds", type=int, default=5, help="alternating ledger/raw rounds")
    args = ap.parse_args(argv)
    n = args.payments or (20_000 if args.quick else 200_000)
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        led, raw, ratios, posted = _interleaved(Path(tmp), n, args.batch, args.rounds)
        one_rate = _single_rate(Path(tmp), 200 if args.quick else 1_000)
    led_rate, raw_rate = statistics.median(led), statistics.median(raw)
    print(f"   ledger, group commit ({args.batch:,}/txn): {posted:,} payments, median of {args.rounds} "
          f"rounds {led_rate:,.0f}/s (rounds: {', '.join(f'{r:,.0f}' for r in led)})")
    print(f"   raw SQLite inserts of the same rows:   {raw_rate:,.0f} postings/s, each with its 2 entry rows "
          f"(rounds: {', '.join(f'{r:,.0f}' for r in raw)})")
    print(f"   ledger, one commit per payment:        {one_rate:,.0f}/s (one fsync each)")
    print(f"   ratio ledger/raw: {statistics.median(ratios):.2f} (median over {len(ratios)} adjacent batch pairs; "
          f"of the medians above {led_rate / raw_rate:.2f})   (aim: >= 0.50; WAL, synchronous=FULL)")
    return 0
