"""The base of every hosted aggregate: a durable store, a journal, and replay on (re)start.

A host is a plain class; `actors.supervisor` makes it a Ray actor with `ray.remote(...)`.
`run(op, body, at)` applies one command to the aggregate through the twin's own code and
commits it (with any keyed answers) before returning, refusals included, since a refusal
is part of the record. If the commit fails, the in-memory state is ahead of the store, so the
process exits and Ray restarts it from the store.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from actors import metrics
from actors.journal import Answer, Journal
from actors.replies import repeat
from actors.snapshots import Snapshots
from actors.spec import ServiceSpec
from actors.stores import open_store
from twin.errors import TwinError

Op = Callable[[dict[str, Any], float], Any]
log = logging.getLogger(__name__)
EXIT_STORE_FAILED = 70


class Host:
    """A twin aggregate with its store and journal; subclasses build it and name their ops."""

    kind = "host"

    def __init__(self, spec: ServiceSpec, name: str) -> None:
        started = time.perf_counter()
        self.spec, self.name = spec, name
        self.store = open_store(spec, name)
        self.journal = Journal(self.store)
        self.answers: dict[str, Answer] = self.journal.answers()
        self.snapshots = Snapshots(self)
        self.replayed = self.snapshots.start()  # the newest usable snapshot (or build), then the commands after it
        self.start_s = time.perf_counter() - started
        metrics.record("replay_seconds", self.start_s, actor=name)
        metrics.record("journal_length", len(self.journal), actor=name)
        gc.freeze()  # the aggregate lives as long as the actor: keep it out of every later collection

    # -- for subclasses -----------------------------------------------------------------------
    def build(self) -> None:
        """Build the aggregate from the city and design (before the journal is replayed)."""

    def ops(self) -> dict[str, Op]:
        """The commands this host journals, by name."""
        return {}

    # -- the machinery --------------------------------------------------------------------------
    def _replay(self, after: int = 0) -> int:
        """Apply every journaled command after position `after` again, in order; refusals are expected and ignored."""
        ops, n = self.ops(), 0
        for entry in self.journal.entries(after=after):
            try:
                ops[entry.op](entry.body, entry.at)
            except TwinError:
                pass
            n += 1
        return n

    def run(self, op: str, body: dict[str, Any], at: float,
            answers: Callable[[Any], Iterable[tuple[str, Answer]]] | None = None) -> Any:
        """Apply a command, then commit it and its keyed answers; a refusal is committed, then raised."""
        try:
            result = self.ops()[op](body, at)
        except TwinError:
            self._commit([(op, body, at)], ())
            raise
        keyed = list(answers(result)) if answers is not None else []
        self._commit([(op, body, at)], keyed)
        for key, answer in keyed:
            self.answers[key] = answer
        return result

    def once(self, keys: list[str], fingerprints: list[str], op: str, body_of: Callable[[list[int]], dict],
             answers_of: Callable[[Any, list[int]], list[Answer]], at: float) -> list[tuple[dict, int]]:
        """Run `op` once for the keys not seen before; every key gets (answer, HTTP status).

        `body_of(fresh)` builds the command from the positions of new keys; `answers_of(result,
        fresh)` turns its result into one answer per new key. A key seen before (now or earlier
        in the same call) gets its first answer back, or a 409 if its request changed.
        """
        replies: list[tuple[dict, int] | None] = [None] * len(keys)
        first: dict[str, int] = {}
        fresh: list[int] = []
        for i, (key, fp) in enumerate(zip(keys, fingerprints, strict=True)):
            prior = self.answers.get(key)
            if prior is not None:
                replies[i] = repeat(prior, fp, _shown(key))
            elif key not in first:
                first[key] = i
                fresh.append(i)
        if fresh:
            self.run(op, body_of(fresh), at,
                     lambda result: zip([keys[i] for i in fresh], answers_of(result, fresh), strict=True))
        for i, (key, fp) in enumerate(zip(keys, fingerprints, strict=True)):
            if replies[i] is None:
                prior = self.answers[key]
                replies[i] = (prior.answer, prior.status) if first[key] == i else repeat(prior, fp, _shown(key))
        return replies  # type: ignore[return-value]

    def _commit(self, commands: list, keyed: list) -> None:
        try:
            self.journal.commit(commands, keyed)
        except Exception:
            log.exception("%s: the journal commit failed; exiting so Ray restarts this actor from the store",
                          self.name)
            os._exit(EXIT_STORE_FAILED)
        metrics.record("journal_length", len(self.journal), actor=self.name)
        self.snapshots.after_commit()  # every `snapshot_every` commands, in its own transaction

    # -- snapshots (actors.snapshots) ---------------------------------------------------------------
    def snapshot_state(self) -> dict[str, Any]:
        """The aggregate a snapshot holds: the attributes `build()` set (none if no command is journaled)."""
        return {n: getattr(self, n) for n in self.snapshots.built} if self.ops() else {}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put a snapshot's aggregate in place."""
        for name, value in state.items():
            setattr(self, name, value)

    def snapshot(self) -> dict[str, Any]:
        """Snapshot the aggregate now (seq, size, at, seconds); older ones beyond the newest few are pruned."""
        return self.snapshots.take().as_dict()

    def ready(self) -> dict[str, Any]:
        """Whether this actor's store takes a write now (a one-row probe, committed); why not if not."""
        try:
            self.store.ensure_schema("ready_probe", [
                "CREATE TABLE IF NOT EXISTS ready_probe (k INTEGER PRIMARY KEY, at DOUBLE PRECISION)"])
            with self.store.transaction() as tx:
                tx.execute("INSERT INTO ready_probe (k, at) VALUES (1, ?) ON CONFLICT (k) DO UPDATE "
                           "SET at = excluded.at", (time.time(),))
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
            return {"name": self.name, "ready": False, "why": f"store not writable: {type(exc).__name__}: {exc}"}
        return {"name": self.name, "ready": True, "why": ""}

    def ping(self) -> dict[str, Any]:
        """Who and where this actor is, and how it started."""
        node = ""
        try:
            import ray

            if ray.is_initialized():
                node = ray.get_runtime_context().get_node_id()
        except Exception:  # not inside Ray (plain use in tests)
            node = ""
        return {"name": self.name, "kind": self.kind, "pid": os.getpid(), "node_id": node,
                "journal": len(self.journal), "replayed": self.replayed,
                "snapshot_seq": self.snapshots.restored_seq,
                "snapshot_taken": None if self.snapshots.last is None else self.snapshots.last.seq,
                "start_s": round(self.start_s, 3),
                "store": repr(self.store)}


def _shown(key: str) -> str:
    """The caller's key without the host's namespace prefix ('tap:abc' -> 'abc')."""
    return key.split(":", 1)[1] if ":" in key else key
