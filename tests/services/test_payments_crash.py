"""Crash safety: a writer process killed (SIGKILL) at random points loses no acknowledged payment,
posts none twice, and leaves nothing half-posted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from twin.services.payments import Ledger

ROOT = Path(__file__).resolve().parents[2]
N = 1_500  # payment pairs (a top-up and a fee) the writer works through

WRITER = """
import sys
import numpy as np
from twin.services.payments import FeePayment, Ledger, TopUp
path, start, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
led = Ledger.open(path)
rng = np.random.default_rng(seed)
print("READY", flush=True)
j = start
while j < n:
    k = int(rng.integers(1, 25))
    reqs = []
    for i in range(j, min(n, j + k)):
        reqs += [TopUp(f"top-{i}", i % 40, 300, "counter", i % 3),
                 FeePayment(f"pay-{i}", i % 40, "residence_record", 300, "kiosk", "wallet", 1)]
    if k == 1:
        out = [led.top_up(reqs[0].key, reqs[0].resident_id, 300, 1.0e9, channel="counter", site=reqs[0].site),
               led.pay_fee(reqs[1].key, reqs[1].resident_id, "residence_record", 300, 1.0e9, channel="kiosk", site=1)]
    else:
        out = led.post_many(reqs, 1.0e9)
    for r in out:
        if isinstance(r, Exception):
            raise SystemExit(f"refused: {r}")
        print("ACK", r.key, r.posting_id, flush=True)
    j += k
print("DONE", flush=True)
"""


def _run_writer(path: Path, start: int, seed: int, kill_at: int | None) -> tuple[dict[str, int], bool]:
    """Run the writer; SIGKILL it once `kill_at` acknowledgements have come. Acks and whether it finished."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    errors = path.with_suffix(".stderr")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(start), str(N), str(seed)],
                            stdout=subprocess.PIPE, stderr=errors.open("w"), text=True, env=env, cwd=ROOT)
    lines = []
    for line in proc.stdout:  # read as the writer writes, so it is killed mid-work, not blocked on a full pipe
        lines.append(line)
        if kill_at is not None and len(lines) > kill_at:
            proc.send_signal(signal.SIGKILL)
            break
    lines += proc.stdout.read().splitlines(keepends=True)
    proc.wait(timeout=120)
    if kill_at is None:
        assert proc.returncode == 0, errors.read_text()[-2000:]
    acks, done = {}, False
    for line in lines:
        if line.startswith("ACK ") and line.endswith("\n"):
            _, key, pid = line.split()
            acks[key] = int(pid)
        done = done or line.strip() == "DONE"
    return acks, done


def _first_unacked(acks: dict[str, int]) -> int:
    """The first pair index whose fee was not acknowledged (the writer resumes there)."""
    i = 0
    while f"pay-{i}" in acks:
        i += 1
    return i


def _check(path: Path, acks: dict[str, int]) -> None:
    """Every acknowledged key is there once with its first posting; the book reconciles."""
    led = Ledger.open(path)
    with led.store.reading() as tx:
        rows = tx.query("SELECT idem_key, posting_id FROM ledger_postings")
    stored = dict(rows)
    assert len(stored) == len(rows)  # no key twice
    missing = [k for k in acks if k not in stored]
    assert not missing, f"acknowledged but lost: {missing[:5]}"
    assert all(stored[k] == pid for k, pid in acks.items()), "an acknowledged key has another posting now"
    rec = led.reconcile()
    assert rec.ok, rec.problems[:5]
    led.store.close()


def test_killing_the_writer_at_random_points_loses_and_doubles_nothing(tmp_path):
    path = tmp_path / "crash.db"
    rng = np.random.default_rng(2024)
    acks: dict[str, int] = {}
    kills = 0
    for round_ in range(4):
        start = _first_unacked(acks)
        got, done = _run_writer(path, start, seed=round_, kill_at=int(rng.integers(1, 1.6 * (N - start))))
        for k, pid in got.items():
            assert acks.setdefault(k, pid) == pid  # a retried key answers with its first posting
        kills += not done
        _check(path, acks)
    got, done = _run_writer(path, _first_unacked(acks), seed=99, kill_at=None)
    assert done
    acks.update(got)
    _check(path, acks)
    assert kills >= 2, "the writer should have been killed mid-run several times"
    led = Ledger.open(path)
    assert led.balance("revenue:residence_record") == 300 * N
    assert sum(led.wallet_balance(r) for r in range(40)) == 0
    with led.store.reading() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM ledger_postings") == 2 * N
    led.store.close()
