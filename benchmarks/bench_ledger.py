"""Durable payments per second through the ledger (group commit) next to raw SQLite inserts.

Everything writes to SQLite files in WAL mode with synchronous=FULL, one transaction per batch,
into the ledger's own schema. Batch by batch (so machine noise hits all sides alike):
1. the ledger posts a batch of fee payments (`post_many`: validation, idempotency look-ups,
   no-overdraft checks, double entry, balances, commit);
2. raw: the same posting and entry rows inserted with executemany (the aim's baseline);
3. raw + balances: those inserts plus the same balance updates, i.e. all the SQL the ledger
   must write, without its Python rules (shows where the gap lies);
4. raw multi-row: the same rows inserted the way the ledger now inserts them (250 rows per
   `INSERT ... VALUES (..), (..)` statement), so the gain from that statement form shows apart
   from the gain in the ledger's own work.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from twin.clock import jst
from twin.services.ledger_book import POSTING_COLUMNS
from twin.services.ledger_sql import SCHEMA, insert_values
from twin.services.payments import FeePayment, Ledger, TopUp
from twin.store import Store

T0 = jst(2026, 4, 1, 10)
INSERT_POSTING = "INSERT INTO ledger_postings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_ENTRY = "INSERT INTO ledger_entries VALUES (?, ?, ?)"


def _fund(ledger: Ledger, residents: int, per_resident: int) -> None:
    """Give every resident a wallet balance (not timed)."""
    reqs = [TopUp(f"fund-{r}", r, per_resident, "portal") for r in range(residents)]
    for i in range(0, len(reqs), 5_000):
        ledger.post_many(reqs[i : i + 5_000], T0)


def _raw_store(path: Path, accounts: list[str]) -> Store:
    """A raw store with the ledger's schema and every account row present."""
    store = Store.sqlite(path)
    store.ensure_schema("ledger", SCHEMA)
    with store.transaction() as tx:
        tx.executemany("INSERT INTO ledger_accounts VALUES (?, ?, 0)", [(a, a.split(":")[0]) for a in accounts])
    return store


def _ledger_batch(ledger: Ledger, reqs: list[FeePayment]) -> tuple[float, list[tuple], list[tuple]]:
    """Seconds to post one batch; the posting and entry rows it wrote (rebuilt from the receipts)."""
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


def _raw_batch(store: Store, posts: list[tuple], entries: list[tuple], with_balances: bool) -> float:
    """Seconds to insert the rows (and, if asked, apply the same balance changes) in one transaction."""
    deltas: Counter[str] = Counter()
    if with_balances:
        for _, acc, amt in entries:
            deltas[acc] += amt
    t = time.perf_counter()
    with store.transaction() as tx:
        tx.executemany(INSERT_POSTING, posts)
        tx.executemany(INSERT_ENTRY, entries)
        if with_balances:
            tx.executemany("UPDATE ledger_accounts SET balance = balance + ? WHERE account_id = ?",
                           [(d, a) for a, d in deltas.items()])
    return time.perf_counter() - t


def _multi_row_batch(store: Store, posts: list[tuple], entries: list[tuple]) -> float:
    """Seconds to insert the rows many per statement, as the ledger does, in one transaction."""
    post_values, entry_values = [v for r in posts for v in r], [v for e in entries for v in e]
    t = time.perf_counter()
    with store.transaction() as tx:
        insert_values(tx, f"ledger_postings ({POSTING_COLUMNS})", post_values, 12)
        insert_values(tx, "ledger_entries (posting_id, account_id, amount)", entry_values, 3)
    return time.perf_counter() - t


def _run(tmp: Path, n: int, batch: int) -> dict[str, list[float]]:
    """Per batch: seconds for the ledger, raw inserts, raw inserts + balances."""
    residents = max(n // 20, 1)
    ledger = Ledger.open(tmp / "ledger.db")
    _fund(ledger, residents, 300 * (n // residents + 1))
    accounts = [f"wallet:{r}" for r in range(residents)] + ["revenue:residence_record"]
    raw, raw_bal = _raw_store(tmp / "raw.db", accounts), _raw_store(tmp / "raw_bal.db", accounts)
    multi = _raw_store(tmp / "raw_multi.db", accounts)
    reqs = [FeePayment(f"pay-{i}", i % residents, "residence_record", 300, "kiosk", "wallet", i % 50)
            for i in range(n)]
    times: dict[str, list[float]] = {"ledger": [], "raw": [], "raw+balances": [], "raw multi-row": [], "rows": []}
    for i in range(0, n, batch):
        secs, posts, entries = _ledger_batch(ledger, reqs[i : i + batch])
        if i == 0 and (posts, entries) != _stored_rows(ledger, posts[0][0], posts[-1][0]):
            raise SystemExit("the raw sides would not insert the rows the ledger wrote")
        times["ledger"].append(secs)
        times["raw"].append(_raw_batch(raw, posts, entries, False))
        times["raw+balances"].append(_raw_batch(raw_bal, posts, entries, True))
        times["raw multi-row"].append(_multi_row_batch(multi, posts, entries))
        times["rows"].append(len(posts))
    rec = ledger.reconcile()
    for s in (ledger.store, raw, raw_bal, multi):
        s.close()
    if not rec.ok or sum(times["rows"]) != n:
        raise SystemExit(f"ledger run wrong: {sum(times['rows']):,} of {n:,} posted; {rec.problems[:3]}")
    return times


def _single_rate(tmp: Path, k: int) -> float:
    """Payments per second with one commit (one fsync) each."""
    single = Ledger.open(tmp / "single.db")
    _fund(single, 10, 100_000)
    t = time.perf_counter()
    for i in range(k):
        single.pay_fee(f"one-{i}", i % 10, "residence_record", 300, T0)
    secs = time.perf_counter() - t
    single.store.close()
    return k / secs


def main(argv: list[str]) -> int:
    """Print ledger payments/s with group commit beside the raw baselines, and the ratios."""
    ap = argparse.ArgumentParser(prog="bench_ledger")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--payments", type=int, default=None, help="payments to post (default 200,000; quick 20,000)")
    ap.add_argument("--batch", type=int, default=1_000, help="requests per transaction (default 1,000)")
    args = ap.parse_args(argv)
    n = args.payments or (20_000 if args.quick else 200_000)
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        t = _run(Path(tmp), n, args.batch)
        one_rate = _single_rate(Path(tmp), 200 if args.quick else 1_000)
    rows = sum(t["rows"])
    rate = {k: rows / sum(v) for k, v in t.items() if k != "rows"}
    ratio = {k: statistics.median(a / b for a, b in zip(t[k], t["ledger"], strict=True))
             for k in ("raw", "raw+balances", "raw multi-row")}
    print(f"   ledger, group commit ({args.batch:,}/txn):      {rate['ledger']:>10,.0f} payments/s ({rows:,} payments)")
    print(f"   raw inserts of the same rows:            {rate['raw']:>10,.0f} postings/s (each with its 2 entries)")
    print(f"   raw inserts + the same balance updates:  {rate['raw+balances']:>10,.0f} postings/s")
    print(f"   raw multi-row inserts (250 rows/stmt):   {rate['raw multi-row']:>10,.0f} postings/s (the ledger's insert form)")
    print(f"   ledger, one commit per payment:          {one_rate:>10,.0f} payments/s (one fsync each)")
    print(f"   ratio ledger/raw: {ratio['raw']:.2f}   ledger/(raw+balances): {ratio['raw+balances']:.2f}   "
          f"ledger/(raw multi-row): {ratio['raw multi-row']:.2f}   "
          f"(medians over {len(t['ledger'])} adjacent batches; aim ledger/raw >= 0.50; WAL, synchronous=FULL)")
    return 0
