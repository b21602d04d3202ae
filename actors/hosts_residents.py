"""Resident shards (住民シャード): each holds its residents' own state — wallet, points, mailbox, handbooks.

A resident lives on shard `resident_id mod shards` (`actors.routing`). The shard hosts the
twin's `Ledger` (wallet and points accounts, idempotent and durable on the shard's store, so
the ledger is sharded by account), the `Portal` (e-mailbox, online fee payment through that
ledger) and `VitalRecords` (handbook reads with the card, records written by clinics). The
mailbox and handbooks are journaled and replayed on restart; the ledger is its own record.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from actors import world
from actors.host import Host
from actors.hosts_safety import identity_of
from actors.journal import Answer
from actors.spec import ServiceSpec
from twin.errors import NotFound, TwinError, ValidationError
from twin.services.ledger_requests import REQUEST_TYPES, Receipt
from twin.services.payments import FeePayment, Ledger, PointGrant, PointRedemption, Refund, TopUp
from twin.services.portal import Portal
from twin.services.vitals import VitalRecords, VitalsParams
from twin.services.vitals_guardians import guardians_from_households

REQUESTS = {cls.op: cls for cls in (FeePayment, TopUp, Refund, PointGrant, PointRedemption)}


def request_of(d: dict[str, Any]) -> Any:
    """A ledger request from its JSON form ({"op": "fee" | "top_up" | "refund" | "grant" | "redeem", ...})."""
    cls = REQUESTS.get(d.get("op"))
    if cls is None:
        raise ValidationError(f"op must be one of {', '.join(REQUESTS)}, got {d.get('op')!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names - {"op"})
    if unknown:
        raise ValidationError(f"a {d['op']} request has no field {unknown[0]!r}")
    return cls(**{k: v for k, v in d.items() if k != "op"})


def request_json(req: Any) -> dict[str, Any]:
    """The JSON form of a ledger request."""
    if not isinstance(req, REQUEST_TYPES):
        raise ValidationError(f"not a ledger request: {type(req).__name__}")
    return {"op": req.op, **{f.name: getattr(req, f.name) for f in dataclasses.fields(req)}}


def outcome_json(res: Receipt | TwinError) -> dict[str, Any]:
    """A receipt, or a refusal with its code, HTTP status and message."""
    if isinstance(res, TwinError):
        return {"refused": True, "error": res.code, "status": int(res.status), "detail": str(res)}
    return {"refused": False, **res.as_dict()}


class ResidentHost(Host):
    """One resident shard: ledger, portal and vital records for residents with id mod shards = shard."""

    kind = "residents"

    def __init__(self, spec: ServiceSpec, shard: int) -> None:
        self.shard = int(shard)
        super().__init__(spec, f"residents_{shard}")

    def build(self) -> None:
        """The ledger on this shard's store; portal and handbooks rebuilt by the journal."""
        c, d = world.city(self.spec), world.design(self.spec)
        self.ledger = Ledger(self.store)
        self.portal = Portal()
        self.vitals = VitalRecords(c.residents, VitalsParams.from_design(d.vitals), notify=self.portal.deliver)
        for child, guardian in guardians_from_households(c.residents, self.spec.built_at):
            if child % self.spec.resident_shards == self.shard:
                self.vitals.add_guardian(child, guardian)

    def ops(self) -> dict:
        return {"deliver": self._deliver, "mark_read": self._mark_read, "vitals_record": self._vitals_record}

    def _mine(self, resident_id: int) -> int:
        if int(resident_id) % self.spec.resident_shards != self.shard:
            raise ValidationError(f"resident {resident_id} is not on shard {self.shard}")
        return int(resident_id)

    # -- ops (journaled) ------------------------------------------------------------------------------
    def _deliver(self, b: dict, at: float) -> list[int]:
        return [self.portal.deliver(self._mine(r), topic, body, float(now)) for r, topic, body, now in b["messages"]]

    def _mark_read(self, b: dict, at: float) -> None:
        self.portal.mark_read(identity_of(b["identity"]), int(b["message_id"]), float(b["now"]))

    def _vitals_record(self, b: dict, at: float) -> None:
        self.vitals.record(self._mine(b["subject"]), b["book"], b["entry"], b["detail"], b["source"], float(b["now"]))

    # -- ledger ---------------------------------------------------------------------------------------
    def post(self, requests: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
        """Post ledger requests in one group commit; a receipt or a refusal per request."""
        built: list[Any] = []
        bad: dict[int, TwinError] = {}
        for i, d in enumerate(requests):
            try:
                req = request_of(d)
                if getattr(req, "resident_id", None) is not None:
                    self._mine(req.resident_id)
                built.append(req)
            except (TwinError, TypeError) as err:
                bad[i] = err if isinstance(err, TwinError) else ValidationError(str(err))
        results = iter(self.ledger.post_many(built, now) if built else [])
        return [outcome_json(bad[i] if i in bad else next(results)) for i in range(len(requests))]

    def wallet(self, resident_id: int, now: float) -> dict[str, Any]:
        """A resident's wallet yen and unexpired points."""
        rid = self._mine(resident_id)
        return {"resident_id": rid, "wallet_yen": self.ledger.wallet_balance(rid),
                "points": self.ledger.points_held(rid, now)}

    def receipts(self, keys: list[str]) -> dict[str, dict[str, Any] | None]:
        """The committed posting of each key (None: never posted)."""
        out = {}
        for k in keys:
            r = self.ledger.receipt(k)
            out[k] = None if r is None else r.as_dict()
        return out

    def reconcile(self) -> dict[str, Any]:
        """The ledger's reconciliation report for this shard."""
        return self.ledger.reconcile().to_dict()

    def balances(self) -> list[dict[str, Any]]:
        """Every account on this shard with its natural balance."""
        return self.ledger.balances().to_dicts()

    # -- portal ---------------------------------------------------------------------------------------
    def portal_pay(self, identity: dict, reference: str, fee_type: str, amount: int, now: float,
                   method: str = "card") -> dict[str, Any]:
        """Pay a fee on the portal (idempotent per resident and reference)."""
        ident = identity_of(identity)
        self._mine(ident.resident_id)
        return self.portal.pay(ident, reference, fee_type, amount, now, self.ledger, method).as_dict()

    def deliver(self, messages: list[tuple[int, str, str, float]]) -> list[int]:
        """Put messages in mailboxes: (resident, topic, body, now) each; their message ids."""
        return self.run("deliver", {"messages": [list(m) for m in messages]}, time.time())

    def deliver_once(self, keyed: list[tuple[str, int, str, str, float]]) -> list[int]:
        """Put keyed messages in mailboxes, each key once (a resent notice is not delivered twice)."""
        keys = [f"msg:{k}" for k, *_ in keyed]

        def answers(mids: list[int], fresh: list[int]) -> list[Answer]:
            return [Answer(keys[i], {"message_id": int(m)}, 200) for i, m in zip(fresh, mids, strict=True)]

        replies = self.once(keys, keys, "deliver", lambda fresh: {"messages": [list(keyed[i][1:]) for i in fresh]},
                            answers, time.time())
        return [int(a["message_id"]) for a, _ in replies]

    def mailbox(self, identity: dict, now: float, unread_only: bool = False) -> list[dict[str, Any]]:
        """The caller's own mailbox, oldest first."""
        return self.portal.mailbox(identity_of(identity), now, unread_only=unread_only).to_dicts()

    def mark_read(self, identity: dict, message_id: int, now: float) -> None:
        """Mark one of the caller's messages read; a message not in the mailbox is refused and one already read
        left as it is, neither journaled (they change nothing, so repeating them cannot grow the journal)."""
        rid, mid = int(identity["resident_id"]), int(message_id)
        if not self.portal.holds(rid, mid):
            raise NotFound(f"message {mid} is not in resident {rid}'s mailbox")
        if self.portal.is_read(mid):
            return
        self.run("mark_read", {"identity": identity, "message_id": int(message_id), "now": float(now)}, time.time())

    # -- vital records --------------------------------------------------------------------------------
    def vitals_read(self, identity: dict, subject: int, book: str, now: float) -> list[dict[str, Any]]:
        """A handbook read by its holder or a minor's guardian (card and PIN; logged)."""
        self._mine(subject)
        return self.vitals.read(identity_of(identity), int(subject), book, now).to_dicts()

    def vitals_record(self, subject: int, book: str, entry: str, detail: str, source: str, now: float) -> None:
        """A clinic or health centre adds an entry to a handbook."""
        self.run("vitals_record", {"subject": int(subject), "book": book, "entry": entry, "detail": detail,
                                   "source": source, "now": float(now)}, time.time())
