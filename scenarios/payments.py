"""Payment throughput: fees and points through the durable ledger under retries and faults.

Residents pay fees at kiosks, counters and the portal, top up wallets and redeem points; the
city grants points. Every request goes through a lossy network to a group-committing writer in
front of the twin's real `Ledger` (SQLite in WAL mode, in a temporary folder). Faults are
injected: the writer is killed before a commit and after one, and the network drops for a
while. Clients retry with the same idempotency key. At the end the ledger is checked: no
acknowledged request lost, none posted twice, the book reconciled.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import simpy

from scenarios.cities import city_for
from scenarios.params import parse_jst
from scenarios.payment_system import LedgerWriter, Network, Outcome, client
from scenarios.payments_params import CHANNELS, FEE_TYPES, OPS, Params  # noqa: F401 (re-exported)
from scenarios.plotspec import Plot
from scenarios.results import (
    COUNT,
    KPI,
    MEAN,
    QUANTILE,
    SHARE,
    SIGNED,
    ScenarioResult,
    as_seed_sequence,
    seed_label,
)
from scenarios.streams import Streams
from twin.clock import DAY
from twin.errors import ValidationError
from twin.services.ledger_book import load_receipts
from twin.services.payments import FeePayment, Ledger, PointGrant, PointRedemption, TopUp

TITLE = "payment throughput"
# the sources of chance, each its own stream by name (common random numbers): payers, arrivals,
# kinds, who, wallet, network, backoff (the network's losses and delays and the clients'
# back-offs are drawn in event order)

KPIS = (
    KPI("requests", "requests", "logical requests made (each may take several attempts)", "",
        COUNT, "requests made"),
    KPI("payments_per_s", "payments/s", "fee payments posted per second of load (follows the "
        "design's request mix under the same offered load, so no direction is better)", "",
        MEAN, "fee payments posted per second"),
    KPI("throughput_per_s", "requests/s", "ledger requests answered per second of load (fees, "
        "top-ups, points)", "higher", MEAN, "payment throughput", headline=True),
    KPI("latency_p50_ms", "ms", "median time from first attempt to answer", kind=QUANTILE,
        label="payment latency, median"),
    KPI("latency_p99_ms", "ms", "99th percentile of that time", kind=QUANTILE,
        label="payment latency, 99th percentile", headline=True),
    KPI("lost", "requests", "answered as posted but missing from the ledger (must be 0)",
        kind=COUNT, label="payments lost (must be 0)", headline=True, floor=1.0),
    KPI("duplicated", "postings", "postings beyond one per idempotency key (must be 0)",
        kind=COUNT, label="payments posted twice (must be 0)", headline=True,
        floor=1.0),
    KPI("gave_up", "requests", "requests never answered after every attempt", kind=COUNT,
        label="requests never answered"),
    KPI("retried_share", "share", "requests that needed more than one attempt", kind=SHARE,
        label="requests that needed a retry"),
    KPI("replayed", "requests", "answers that were idempotent replays of a first posting", "",
        COUNT, "answers replayed by idempotency key"),
    KPI("refused", "requests", "requests refused by a ledger rule (e.g. funds)", "", COUNT,
        "requests refused by a ledger rule"),
    KPI("reconciled", "1 = yes", "the ledger's reconciliation report passed", "higher", SHARE,
        "runs whose ledger reconciled"),
    KPI("revenue_mismatch_yen", "yen", "fee revenue in the book minus posted fees (must be 0)",
        "", SIGNED, "fee revenue mismatch (must be 0)"),
    KPI("writer_kills", "kills", "writer processes killed", "", COUNT,
        "writer processes killed (injected)"),
    KPI("rolled_back", "requests", "requests in transactions lost with a killed writer", "",
        COUNT, "requests rolled back with a killed writer"),
    KPI("electronic_share", "share", "fee payments made without cash", "higher", SHARE,
        "fee payments made without cash"),
)
FAULTS = (("writer_kill_before_commit_at_s", "writer killed before a commit"),
          ("writer_kill_after_commit_at_s", "writer killed after a commit"))
DROPS = (("network_drop_at_s", "network_drop_s", "network down"),)
PLOTS = (
    Plot("series", "series", "answered_per_s", "Answered requests per second", "requests/s",
         x="seconds", xlabel="seconds after start", markers=FAULTS, spans=DROPS,
         question="Does the ledger keep every payment through crashes and network drops?",
         headline=("payments_per_s", "lost", "duplicated")),
    Plot("series", "series", "latency_p50_ms", "Median latency of answers", "ms", x="seconds",
         xlabel="seconds after start", markers=FAULTS, spans=DROPS),
    Plot("exceed", "requests", "latency_ms", "Latency of answered requests",
         "share of answers slower than x", xlabel="ms"),
)


@dataclass(frozen=True)
class Workload:
    """The requests in arrival order, with their channel and kind."""

    at: np.ndarray
    requests: list[Any]
    channels: list[str]
    amounts: np.ndarray
    electronic: np.ndarray


def _ops_and_channels(rng: np.random.Generator, p: Params, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each request's op and channel index, restricted to what the design offers."""
    op_w = np.array(p.op_mix) * (np.array([1, 1, 1, 1]) if p.e_payment else np.array([1, 0, 0, 0]))
    ch_w = np.array(p.channel_mix) * np.array([p.kiosk_channel, True, p.portal_channel])
    if op_w.sum() <= 0 or ch_w.sum() <= 0:
        raise ValidationError("the design and op_mix/channel_mix leave no request to make")
    return (rng.choice(4, size=n, p=op_w / op_w.sum()), rng.choice(3, size=n, p=ch_w / ch_w.sum()))


def make_workload(streams: Streams, p: Params, payers: np.ndarray,
                  t0: float) -> Workload:
    """Poisson arrivals over the duration, each a ledger request with an idempotency key; the
    arrivals, the kinds, who asks and how they pay each come from their own stream."""
    arrivals = streams["arrivals"]
    n = int(arrivals.poisson(p.offered_rate_per_s * p.duration_s))
    at = np.sort(arrivals.uniform(0.0, p.duration_s, n))
    op, ch = _ops_and_channels(streams["kinds"], p, n)
    who = payers[streams["who"].integers(0, payers.size, n)].tolist()
    wallet = (streams["wallet"].random(n) < p.wallet_share) & p.e_payment
    fee_type = streams["kinds"].integers(0, len(FEE_TYPES), n)
    reqs, chans, amounts = [], [], np.zeros(n, dtype=np.int64)
    electronic = np.zeros(n, dtype=bool)
    for i in range(n):
        c, key = CHANNELS[ch[i]], f"r{i}"
        fee = p.kiosk_fee_yen if c == "kiosk" else p.counter_fee_yen
        if op[i] == 0:
            method = "wallet" if wallet[i] else ("card" if c == "portal" else "cash")
            reqs.append(FeePayment(key, who[i], FEE_TYPES[fee_type[i]], fee, c, method, 0))
            amounts[i], electronic[i] = fee, method != "cash"
        elif op[i] == 1:
            reqs.append(TopUp(key, who[i], 1000, c, 0))
        elif op[i] == 2:
            reqs.append(PointGrant(key, who[i], p.points_per_grant, "volunteering", t0 + 365 * DAY))
        else:
            reqs.append(PointRedemption(key, who[i], p.points_per_redemption))
        chans.append(c if op[i] != 2 else "city")
    return Workload(at, reqs, chans, amounts, electronic)


def opening_balances(ledger: Ledger, p: Params, payers: np.ndarray, t0: float) -> int:
    """Give every payer the opening wallet and points (one committed batch); postings made."""
    if not p.e_payment:
        return 0
    reqs: list[Any] = []
    for r in payers.tolist():
        if p.opening_wallet_yen:
            reqs.append(TopUp(f"open:w:{r}", r, p.opening_wallet_yen, "portal", 0))
        if p.opening_points:
            reqs.append(PointGrant(f"open:p:{r}", r, p.opening_points, "opening", t0 + 365 * DAY))
    if reqs:
        ledger.post_many(reqs, t0 - DAY)
    return len(reqs)


def _source(env: simpy.Environment, net: Network, writer: LedgerWriter, rng, wl: Workload,
            p: Params, outcomes: list[Outcome], done: simpy.Event) -> Any:
    """Start one client per request at its arrival time; trigger `done` when all have ended."""
    procs = []
    for i, t in enumerate(wl.at.tolist()):
        yield env.timeout(t - env.now)
        req = wl.requests[i]
        out = Outcome(req.key, req.op, wl.channels[i], int(wl.amounts[i]),
                      bool(wl.electronic[i]), env.now)
        outcomes.append(out)
        procs.append(env.process(client(env, net, writer, rng, req, out, p)))
    yield env.all_of(procs)
    done.succeed()


def simulate(p: Params, seed: int | np.random.SeedSequence, folder: Path) -> tuple[list[Outcome], Any, dict]:
    """Run the load against a fresh ledger file in `folder`; outcomes, final ledger and stats."""
    streams = Streams(as_seed_sequence(seed))
    t0 = parse_jst(p.start_jst)
    city = city_for(p.city, p.city_seed, p.scale)
    holders = city.residents.filter(pl.col("has_card"))["resident_id"].to_numpy()
    pool = holders if holders.size else city.residents["resident_id"].to_numpy()
    payers = streams["payers"].choice(pool, size=min(p.payer_pool, pool.size), replace=False)
    path = folder / "ledger.sqlite"
    open_ledger = lambda: Ledger.open(path, synchronous=p.sqlite_synchronous)  # noqa: E731
    first = open_ledger()
    opening = opening_balances(first, p, payers, t0)
    first.store.close()
    wl = make_workload(streams, p, payers, t0)
    env = simpy.Environment()
    drops = [(a, a + p.network_drop_s) for a in p.network_drop_at_s]
    net = Network(env, streams["network"], p.network_latency_ms / 1000.0, p.network_jitter_sigma,
                  p.message_loss_probability, drops)
    writer = LedgerWriter(env, open_ledger, t0, p, net)
    outcomes: list[Outcome] = []
    done = env.event()
    env.process(_source(env, net, writer, streams["backoff"], wl, p, outcomes, done))
    env.process(writer.run(done))
    env.run(until=done)
    stats = {"opening": opening, "messages": net.sent, "messages_lost": net.lost,
             "kills": writer.killed, "rolled_back": writer.rolled_back,
             "commits": writer.commits, "busy_s": writer.busy_s, "end": env.now}
    return outcomes, writer.ledger, stats


def requests_frame(outcomes: list[Outcome]) -> pl.DataFrame:
    """One row per logical request: op, channel, when sent and answered, attempts, result."""
    df = pl.DataFrame(
        {"key": [o.key for o in outcomes], "op": [o.op for o in outcomes],
         "channel": [o.channel for o in outcomes], "amount": [o.amount for o in outcomes],
         "electronic": [o.electronic for o in outcomes],
         "sent_s": [o.sent for o in outcomes], "answered_s": [o.answered for o in outcomes],
         "attempts": [o.attempts for o in outcomes], "result": [o.result for o in outcomes]},
        schema={"key": pl.Utf8, "op": pl.Utf8, "channel": pl.Utf8, "amount": pl.Int64,
                "electronic": pl.Boolean,
                "sent_s": pl.Float64, "answered_s": pl.Float64, "attempts": pl.Int64,
                "result": pl.Utf8})
    answered = pl.col("answered_s") >= 0
    return df.with_columns(
        latency_ms=pl.when(answered).then((pl.col("answered_s") - pl.col("sent_s")) * 1000.0))


def check_ledger(ledger: Ledger, req: pl.DataFrame, opening: int) -> dict[str, float]:
    """Lost, duplicated, revenue mismatch and reconciliation, from the ledger's own records."""
    keys = req["key"].to_list()
    with ledger.store.reading() as tx:
        receipts = load_receipts(tx, keys) if keys else {}
    answered_ok = req.filter(pl.col("result").is_in(["posted", "replayed"]))["key"].to_list()
    rec = ledger.reconcile()
    fees = sum(r.amount for r in receipts.values() if r.op == "fee")
    revenue = int(ledger.balances().filter(pl.col("kind") == "revenue")["balance"].sum())
    return {"lost": float(sum(1 for k in answered_ok if k not in receipts)),
            "duplicated": float(rec.postings - opening - len(receipts)),
            "reconciled": float(rec.ok), "revenue_mismatch_yen": float(revenue - fees)}


def series_frame(req: pl.DataFrame, p: Params, end: float) -> pl.DataFrame:
    """Answers per second and their median latency per time step."""
    step = p.series_step_s
    edges = np.arange(0.0, max(end, p.duration_s) + step, step)
    ans = req.filter(pl.col("answered_s") >= 0)
    b = np.digitize(ans["answered_s"].to_numpy(), edges) - 1
    lat = ans["latency_ms"].to_numpy()
    count = np.bincount(b, minlength=edges.size)[: edges.size]
    med = np.array([np.median(lat[b == i]) if count[i] else np.nan for i in range(edges.size)])
    return pl.DataFrame({"seconds": edges, "answered_per_s": count / step,
                         "latency_p50_ms": med})


def kpis_of(req: pl.DataFrame, checks: dict[str, float], stats: dict, p: Params) -> dict:
    """The KPI values of one run."""
    lat = req["latency_ms"].drop_nulls().to_numpy()
    p50, p99 = np.percentile(lat, [50, 99]) if lat.size else (np.nan, np.nan)
    res = req["result"]
    fees = req.filter(pl.col("op") == "fee")
    return {
        "requests": float(req.height), "throughput_per_s": float(lat.size / p.duration_s),
        "payments_per_s": float(fees["result"].is_in(["posted", "replayed"]).sum() / p.duration_s),
        "latency_p50_ms": float(p50), "latency_p99_ms": float(p99), "lost": checks["lost"],
        "duplicated": checks["duplicated"], "gave_up": float((res == "gave_up").sum()),
        "retried_share": float((req["attempts"] > 1).mean()) if req.height else np.nan,
        "replayed": float((res == "replayed").sum()), "refused": float((res == "refused").sum()),
        "reconciled": checks["reconciled"], "revenue_mismatch_yen": checks["revenue_mismatch_yen"],
        "writer_kills": float(stats["kills"]), "rolled_back": float(stats["rolled_back"]),
        "electronic_share": float(fees["electronic"].mean()) if fees.height else np.nan,
    }


def run(params: Params, seed: int | np.random.SeedSequence) -> ScenarioResult:
    """Run the payment load once and check the ledger afterwards."""
    if not isinstance(params, Params):
        raise ValidationError(f"payments needs payments.Params, got {type(params).__name__}")
    with tempfile.TemporaryDirectory(prefix="myna-payments-") as folder:
        outcomes, ledger, stats = simulate(params, as_seed_sequence(seed), Path(folder))
        req = requests_frame(outcomes)
        checks = check_ledger(ledger, req, stats["opening"])
        ledger.store.close()
    kpis = kpis_of(req, checks, stats, params)
    notes = ("virtual time: latencies and throughput are in simulated seconds; the ledger is the "
             "real SQLite (WAL) store", "commit and network timings are assumptions (parameters)")
    return ScenarioResult("payments", params.to_dict(), seed_label(seed), kpis,
                          {"requests": req, "series": series_frame(req, params, stats["end"])},
                          notes)
