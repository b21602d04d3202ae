"""The ledger's reconciliation report (照合): every rule of the book re-checked from its rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.services.ledger_rules import ACCOUNT_KINDS, kind_of, may_go_negative, side
from twin.store import Tx


@dataclass(frozen=True)
class Reconciliation:
    """The outcome: counts, the signed total (must be 0), natural totals by kind, any problems."""

    accounts: int
    postings: int
    entries: int
    total: int
    by_kind: dict[str, int] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the book balances and every check passed."""
        return not self.problems and self.total == 0

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready report."""
        return {"ok": self.ok, "accounts": self.accounts, "postings": self.postings,
                "entries": self.entries, "total": self.total, "by_kind": dict(self.by_kind),
                "problems": list(self.problems)}

    def to_text(self) -> str:
        """The report for people."""
        lines = [f"ledger {'reconciled' if self.ok else 'NOT reconciled'}: {self.postings:,} postings, "
                 f"{self.entries:,} entries, {self.accounts:,} accounts, signed total {self.total:,}"]
        lines += [f"  {k:<10}{v:>16,}" for k, v in self.by_kind.items()]
        lines += [f"  problem: {p}" for p in self.problems]
        return "\n".join(lines)


def _account_checks(tx: Tx, stored: dict[str, int]) -> list[str]:
    """Stored balances against the entries, and the no-overdraft rule."""
    problems = []
    recomputed = {a: int(s) for a, s in tx.query(
        "SELECT account_id, SUM(amount) FROM ledger_entries GROUP BY account_id")}
    for acc in sorted(stored.keys() | recomputed.keys()):
        if stored.get(acc) != recomputed.get(acc, 0):
            problems.append(f"{acc}: stored balance {stored.get(acc)} but its entries sum to {recomputed.get(acc, 0)}")
        if acc in stored and not may_go_negative(acc) and stored[acc] * side(acc) < 0:
            problems.append(f"{acc}: balance {stored[acc] * side(acc):,} is below zero, which it forbids")
    return problems


def _posting_checks(tx: Tx) -> list[str]:
    """Every posting has balanced legs, and every leg belongs to a posting."""
    problems, with_legs = [], set()
    for p, s, n in tx.query("SELECT posting_id, SUM(amount), COUNT(*) FROM ledger_entries GROUP BY posting_id"):
        with_legs.add(p)
        if s != 0 or n < 2:
            problems.append(f"posting #{p}: legs sum to {s:,} over {n} entries (must be 0 over 2 or more)")
    ids = {p for (p,) in tx.query("SELECT posting_id FROM ledger_postings")}
    if ids - with_legs:
        problems.append(f"{len(ids - with_legs)} postings have no entries, e.g. #{min(ids - with_legs)}")
    if with_legs - ids:
        problems.append(f"{len(with_legs - ids)} entries' postings do not exist, e.g. #{min(with_legs - ids)}")
    return problems


def _point_checks(tx: Tx, stored: dict[str, int]) -> list[str]:
    """Lots against the points accounts, and each lot's uses against what it lost."""
    problems = []
    held = {f"points:{r}": int(s) for r, s in tx.query(
        "SELECT resident_id, SUM(remaining) FROM point_lots GROUP BY resident_id")}
    for acc in sorted(held.keys() | {a for a in stored if kind_of(a) == "points"}):
        natural = -stored.get(acc, 0)
        if natural != held.get(acc, 0):
            problems.append(f"{acc}: balance {natural:,} but its lots hold {held.get(acc, 0):,}")
    for lot, lost, used in tx.query(
            "SELECT l.lot_id, l.points - l.remaining, COALESCE(SUM(u.points), 0) FROM point_lots l "
            "LEFT JOIN point_uses u ON u.lot_id = l.lot_id GROUP BY l.lot_id, l.points, l.remaining "
            "HAVING l.points - l.remaining <> COALESCE(SUM(u.points), 0)"):
        problems.append(f"point lot {lot}: lost {lost:,} points but its uses sum to {used:,}")
    return problems


def _refund_checks(tx: Tx) -> list[str]:
    """Refund totals against the refund postings and the payments they refund."""
    rows = tx.query(
        "SELECT r.payment_key, r.refunded, COALESCE(SUM(q.amount), 0), MAX(p.amount) FROM ledger_refunds r "
        "LEFT JOIN ledger_postings q ON q.op = 'refund' AND q.ref = r.payment_key "
        "LEFT JOIN ledger_postings p ON p.idem_key = r.payment_key GROUP BY r.payment_key, r.refunded")
    return [f"payment {k!r}: refunded total {t:,}, refund postings {s:,}, paid {paid}"
            for k, t, s, paid in rows if t != s or paid is None or t > paid]


def reconcile(tx: Tx) -> Reconciliation:
    """Check the whole book: sum zero, balances from entries, balanced postings, points, refunds."""
    stored = {a: int(b) for a, b in tx.query("SELECT account_id, balance FROM ledger_accounts")}
    by_kind = dict.fromkeys(ACCOUNT_KINDS, 0)
    for acc, bal in stored.items():
        by_kind[kind_of(acc)] += bal * side(acc)
    problems = _account_checks(tx, stored) + _posting_checks(tx) + _point_checks(tx, stored) + _refund_checks(tx)
    return Reconciliation(
        accounts=len(stored),
        postings=int(tx.scalar("SELECT COUNT(*) FROM ledger_postings")),
        entries=int(tx.scalar("SELECT COUNT(*) FROM ledger_entries")),
        total=sum(stored.values()),
        by_kind=by_kind,
        problems=tuple(problems),
    )
