"""Child watch (子どもの見守り) as one actor: school and cram-school readers, consents, notices.

Hosts the twin's `ChildWatch`. Its `notify` puts each notice in an outbox here; the caller
forwards the outbox to the guardians' resident shards (their portal mailboxes) and then
acknowledges it (`delivered`), which is journaled, so a restart resends only what was not
acknowledged (at least once).
"""

from __future__ import annotations

import time
from typing import Any

import polars as pl

from actors import world
from actors.host import Host
from actors.hosts_safety import identity_of
from actors.journal import Answer
from actors.replies import from_error, recorded
from actors.spec import ServiceSpec
from twin.errors import TwinError
from twin.services.childwatch import ChildWatch, ChildWatchParams
from twin.services.safety import SerialIndex


class ChildWatchHost(Host):
    """Readers at every school and cram school; taps notify consenting guardians via the outbox."""

    kind = "childwatch"

    def __init__(self, spec: ServiceSpec) -> None:
        super().__init__(spec, "childwatch")

    def build(self) -> None:
        """Child watch over the city with one reader per school and cram school."""
        c, d = world.city(self.spec), world.design(self.spec)
        params = ChildWatchParams(notify_within_s=d.safety.child_watch_notify_within_s,
                                  retention_days=d.safety.child_watch_retention_days)
        self.outbox: list[tuple[int, int, str, str, float]] = []  # (seq, guardian, topic, body, now)
        self._seq = 0
        self.watch = ChildWatch.from_city(c, self._notify, SerialIndex.from_residents(c.residents), params)
        sites = c.facilities.filter(pl.col("kind").is_in(["school", "cram_school"]))["facility_id"].to_list()
        self.reader_of = {int(f): self.watch.register_reader(int(f), self.spec.built_at) for f in sites}

    def _notify(self, guardian: int, topic: str, body: str, now: float) -> int:
        self._seq += 1
        self.outbox.append((self._seq, int(guardian), topic, body, float(now)))
        return self._seq

    def ops(self) -> dict:
        return {"taps": self._taps, "enrol": self._enrol, "withdraw": self._withdraw, "delivered": self._delivered,
                "revoke": self._revoke}

    def _taps(self, b: dict, at: float) -> list[bool | TwinError]:
        out: list[bool | TwinError] = []
        for r, s, t in zip(b["readers"], b["serials"], b["at"], strict=True):
            try:
                out.append(self.watch.tap(int(r), int(s), float(t)))
            except TwinError as err:
                out.append(err)
        return out

    def _enrol(self, b: dict, at: float) -> None:
        self.watch.enrol(int(b["child_id"]), identity_of(b["identity"]), float(b["now"]))

    def _withdraw(self, b: dict, at: float) -> int:
        return self.watch.withdraw(int(b["child_id"]), identity_of(b["identity"]), float(b["now"]))

    def _revoke(self, b: dict, at: float) -> int:
        """Cards the trust actor suspended: school taps refused (card_revoked) from `at` on."""
        for serial in b["serials"]:
            self.watch.resolver.revoke(int(serial), float(b["at"]))
        return len(b["serials"])

    def _delivered(self, b: dict, at: float) -> None:
        self.outbox = [m for m in self.outbox if m[0] > int(b["upto"])]

    # -- live calls -----------------------------------------------------------------------------------
    def sites(self) -> list[int]:
        """Schools and cram schools with a reader (facility ids)."""
        return sorted(self.reader_of)

    def taps(self, rows: list[dict[str, Any]]) -> list[tuple[dict, int]]:
        """School taps, each once by tap id (rows: tap_id, fingerprint, facility_id, serial, at)."""
        keys = [f"tap:{r['tap_id']}" for r in rows]

        def body(fresh: list[int]) -> dict:
            return {"readers": [self.reader_of.get(int(rows[i]["facility_id"]), -1) for i in fresh],
                    "serials": [int(rows[i]["serial"]) for i in fresh], "at": [float(rows[i]["at"]) for i in fresh]}

        def answers(results: list, fresh: list[int]) -> list[Answer]:
            out = []
            for i, res in zip(fresh, results, strict=True):
                r = rows[i]
                out.append(from_error(r["tap_id"], r["fingerprint"], res) if isinstance(res, TwinError)
                           else recorded(r["tap_id"], r["fingerprint"], {"guardian_notified": bool(res)}))
            return out

        return self.once(keys, [r["fingerprint"] for r in rows], "taps", body, answers, time.time())

    def revoke(self, serials: list[int], at: float) -> int:
        """Refuse these cards from `at` on (journaled before returning); cards already refused by then
        (revoked no later, or unknown) are skipped; how many were newly revoked."""
        new = self.watch.resolver.to_revoke(serials, float(at))
        return self.run("revoke", {"serials": new, "at": float(at)}, time.time()) if new else 0

    def pending(self) -> list[tuple[int, int, str, str, float]]:
        """Notices not yet acknowledged as delivered."""
        return list(self.outbox)

    def delivered(self, upto: int) -> None:
        """Acknowledge every notice up to sequence `upto` as in the guardians' mailboxes."""
        if any(m[0] <= upto for m in self.outbox):
            self.run("delivered", {"upto": int(upto)}, time.time())

    def enrol(self, child_id: int, identity: dict, now: float) -> None:
        """A guardian (card and PIN) consents: the child's taps are tracked and notified."""
        self.run("enrol", {"child_id": int(child_id), "identity": identity, "now": float(now)}, time.time())

    def withdraw(self, child_id: int, identity: dict, now: float) -> int:
        """The guardian withdraws consent; the child's records are deleted (how many)."""
        return self.run("withdraw", {"child_id": int(child_id), "identity": identity, "now": float(now)},
                        time.time())
