"""Traces: the calls a SimPy scenario makes into the twin, recorded, and replayed through the actors.

`record()` wraps the entry points a scenario drives (shelter check-ins and check-outs, desk
check-ins, paper forms with the random state they drew from, reader outages, head-count
reports, ledger postings) while the scenario runs, and keeps each outermost call in order.
Record a run on the SimPy engine (`engine="simpy"`): the fast engine checks a group in with one
batched call and answers the head-count reports after its loop, so its calls are not the live
service's calls in time order; the batched entry points refuse to run while recording.
`replay_shelters` and `replay_ledger` send the same calls to the actors, in order and in
batches (consecutive card taps go as one batch), so a test can check that the actors reach
the same domain outcome as the scenario: the same check-ins, head counts and balances.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from actors.hosts_residents import request_json
from actors.hosts_safety import identity_json
from twin.errors import ValidationError
from twin.services.headcount import DisasterHQ
from twin.services.payments import Ledger
from twin.services.shelters import ShelterNetwork


@dataclass(frozen=True)
class Call:
    """One recorded call: what it was and its arguments as plain data."""

    op: str
    args: dict[str, Any]


@dataclass
class Trace:
    """Recorded calls in order."""

    calls: list[Call] = field(default_factory=list)
    _depth: int = 0

    def of(self, *ops: str) -> list[Call]:
        """The calls of the given kinds."""
        return [c for c in self.calls if c.op in ops]


def _shelter_args(name: str, a: tuple, k: dict) -> dict[str, Any]:
    if name in ("tap", "check_out"):
        return {"reader": int(a[0]), "serial": int(a[1]), "now": float(a[2])}
    if name == "check_in_identity":
        return {"identity": identity_json(a[0]), "shelter_id": int(a[1]), "now": float(a[2])}
    if name == "check_out_identity":
        return {"identity": identity_json(a[0]), "now": float(a[1])}
    if name == "paper_form":
        return {"shelter_id": int(a[0]), "resident_id": int(a[1]), "now": float(a[2]),
                "rng_state": copy.deepcopy(a[3].bit_generator.state)}
    if name == "reconcile_paper":
        return {"now": float(a[0]), "limit": a[1] if len(a) > 1 else k.get("limit")}
    if name == "set_online":
        return {"reader_id": int(a[0]), "online": bool(a[1]), "now": float(a[2])}
    raise KeyError(name)


RECORDED = {ShelterNetwork: ("tap", "check_out", "check_in_identity", "check_out_identity", "paper_form",
                             "reconcile_paper", "set_online"),
            DisasterHQ: ("receive",), Ledger: ("post_many",)}
BATCHED = {ShelterNetwork: ("tap_part", "tap_code", "paper_part", "paper_code"), DisasterHQ: ("receive_columns",)}


def _args(cls: type, name: str, a: tuple, k: dict) -> dict[str, Any]:
    if cls is DisasterHQ:
        reports = list(a[0])
        return {"shelters": [r.shelter_id for r in reports], "now": float(a[1]), "reports": reports}
    if cls is Ledger:
        return {"requests": [request_json(r) for r in a[0]], "now": float(a[1])}
    return _shelter_args(name, a, k)


@contextmanager
def record() -> Iterator[Trace]:
    """Record the outermost twin calls made inside the block (the classes are patched meanwhile)."""
    trace = Trace()
    saved = []
    for cls, names in RECORDED.items():
        for name in names:
            original = getattr(cls, name)
            saved.append((cls, name, original))
            setattr(cls, name, _wrap(trace, cls, name, original))
    for cls, names in BATCHED.items():
        for name in names:
            saved.append((cls, name, getattr(cls, name)))
            setattr(cls, name, _refuse(name))
    try:
        yield trace
    finally:
        for cls, name, original in saved:
            setattr(cls, name, original)


def _refuse(name: str) -> Any:
    """A batched entry point that refuses to run while a trace is recorded."""
    def refused(self, *a, **k):
        raise ValidationError(f"{name} was called while recording a trace: a trace needs the calls one by "
                              "one in time order, so record a run on the SimPy engine (engine='simpy')")

    return refused


def _wrap(trace: Trace, cls: type, name: str, original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self, *a, **k):
        if trace._depth == 0:
            args = _args(cls, name, a, k)
            if cls is DisasterHQ:
                a = (args.pop("reports"), *a[1:])
            trace.calls.append(Call("report" if cls is DisasterHQ else name, args))
        trace._depth += 1
        try:
            return original(self, *a, **k)
        finally:
            trace._depth -= 1

    return wrapper


def shelter_commands(trace: Trace) -> list[tuple[str, Any]]:
    """The shelter group's calls for a trace: ("taps", (kind, rows)) batches and ("command", (op, body))."""
    out: list[tuple[str, Any]] = []
    n = 0
    for call in trace.calls:
        a = call.args
        if call.op in ("tap", "check_out"):
            kind = "checkin" if call.op == "tap" else "checkout"
            n += 1
            row = {"tap_id": f"trace-{n}", "fingerprint": str(n), "reader_id": a["reader"], "serial": a["serial"],
                   "at": a["now"]}
            if out and out[-1][0] == "taps" and out[-1][1][0] == kind:
                out[-1][1][1].append(row)
            else:
                out.append(("taps", (kind, [row])))
        elif call.op == "report":
            out.append(("command", ("report", {"now": a["now"], "shelters": a["shelters"]})))
        elif call.op in _DESK:
            out.append(("command", (_DESK[call.op], a)))
    return out


_DESK = {"check_in_identity": "identity_in", "check_out_identity": "identity_out", "paper_form": "paper",
         "reconcile_paper": "reconcile", "set_online": "online"}


def submit_shelters(group: Any, commands: list[tuple[str, Any]]) -> list[Any]:
    """Send the commands to a shelter-group actor in order (one caller: the actor runs them in order)."""
    refs = []
    for how, (a, b) in commands:
        refs.append(group.taps.remote(a, b) if how == "taps" else group.command.remote(a, b, True))
    return refs


def ledger_commands(trace: Trace, shards: int) -> list[tuple[int, list[dict], float]]:
    """Each recorded posting batch split by resident shard: (shard, requests, now), in order."""
    from actors.routing import shard_of

    payer: dict[str, int] = {}
    out = []
    for call in trace.of("post_many"):
        parts: dict[int, list[dict]] = {}
        for req in call.args["requests"]:
            if req["op"] == "refund":
                rid = payer.get(req["payment_key"], 0)
            else:
                rid = int(req["resident_id"])
                payer.setdefault(req["key"], rid)
            parts.setdefault(shard_of(rid, shards), []).append(req)
        out += [(k, reqs, call.args["now"]) for k, reqs in sorted(parts.items())]
    return out
