"""Shelter groups (避難所グループ): one actor per group of wards, hosting `twin.services.safety`.

Each group runs the twin's `Safety` service over its wards' shelters: card check-in (batched
through `ShelterNetwork.check_in_many`), check-out, family look-up, head counts to the HQ.
A full shelter redirects within the group. A resident is recorded in one shelter city-wide:
when a check-in lands in one group, the caller asks the other groups to `release` the
resident (the domain's `leave`, journaled there). Desk channels (identity check-ins, paper
forms, reader outages) are ops too, so a trace recorded in a SimPy scenario replays here.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import polars as pl

from actors import world
from actors.host import Host
from actors.journal import Answer
from actors.replies import from_error, recorded, rejected
from actors.routing import TAP_FIELDS
from actors.spec import ServiceSpec
from twin.errors import TwinError
from twin.identity import Assurance, Identity
from twin.services.safety import Safety, ShelterParams, TapResult, shelter_reports

CHANNEL_MOVED = "moved_elsewhere"


def identity_of(d: dict[str, Any]) -> Identity:
    """An Identity from its JSON form (resident_id, method, assurance name or number, at, card_serial)."""
    a = d["assurance"]
    level = Assurance[a] if isinstance(a, str) else Assurance(int(a))
    serial = d.get("card_serial")
    return Identity(int(d["resident_id"]), str(d["method"]), level, float(d["at"]),
                    None if serial is None else int(serial))


def identity_json(i: Identity) -> dict[str, Any]:
    """The JSON form of an Identity."""
    return {"resident_id": i.resident_id, "method": i.method, "assurance": i.assurance.name, "at": i.at,
            "card_serial": i.card_serial}


def tap_json(res: TapResult) -> dict[str, Any]:
    """A shelter outcome as JSON."""
    return {"outcome": res.outcome.name.lower(), "shelter_id": res.shelter_id, "resident_id": res.resident_id,
            "redirect_to": res.redirect_to}


class ShelterHost(Host):
    """One shelter group: `Safety` over its wards' shelters, journaled."""

    kind = "shelters"

    def __init__(self, spec: ServiceSpec, group: int) -> None:
        self.group = int(group)
        super().__init__(spec, f"shelters_{group}")

    def build(self) -> None:
        """Safety over this group's wards, with the design's readers per shelter."""
        c, d = world.city(self.spec), world.design(self.spec)
        self.wards = world.group_wards(c, self.spec.shelter_groups)[self.group]
        params = ShelterParams(readers_per_shelter=d.safety.readers_per_shelter,
                               paper_form_staff_per_shelter=d.safety.paper_form_staff_per_shelter)
        self.safety = Safety.from_city(world.group_view(c, self.wards), self.spec.built_at, shelter_params=params)
        self.net = self.safety.shelters

    def ops(self) -> dict:
        return {"checkin": self._checkin, "checkout": self._checkout, "release": self._release,
                "identity_in": self._identity_in, "identity_out": self._identity_out, "paper": self._paper,
                "reconcile": self._reconcile, "online": self._online, "report": self._report,
                "revoke": self._revoke}

    # -- ops (journaled; replayed on restart) ---------------------------------------------------
    def _checkin(self, b: dict, at: float) -> list[TapResult | TwinError] | dict[str, list]:
        """One tap through `tap`, more through `check_in_columns` (the same outcomes, as columns)."""
        if len(b["serials"]) == 1:
            try:
                return [self.net.tap(int(b["readers"][0]), int(b["serials"][0]), float(b["at"][0]))]
            except TwinError as err:
                return [err]
        return self.net.check_in_columns(b["readers"], b["serials"], b["at"])

    def _checkout(self, b: dict, at: float) -> list[TapResult | TwinError]:
        out: list[TapResult | TwinError] = []
        for r, s, t in zip(b["readers"], b["serials"], b["at"], strict=True):
            try:
                out.append(self.net.check_out(int(r), int(s), float(t)))
            except TwinError as err:
                out.append(err)
        return out

    def _release(self, b: dict, at: float) -> int:
        """Clear the records of residents recorded elsewhere; with `before`, only a record begun no
        later than the resident's limit there (a newer record here wins)."""
        gone, limits = 0, b.get("before") or [np.inf] * len(b["residents"])
        for rid, limit in zip(b["residents"], limits, strict=True):
            if self._held(int(rid), float(limit)):
                self.net.leave(int(rid), float(b["at"]), CHANNEL_MOVED, -1)
                gone += 1
        return gone

    def _held(self, rid: int, before: float = np.inf) -> bool:
        """Whether the resident is recorded here by a record begun no later than `before`."""
        return int(self.net.where[rid]) >= 0 and float(self.net.since[rid]) <= before

    def _revoke(self, b: dict, at: float) -> int:
        """Cards the trust actor suspended: refused here (card_revoked) from `at` on; earlier check-ins stay."""
        for serial in b["serials"]:
            self.net.resolver.revoke(int(serial), float(b["at"]))
        return len(b["serials"])

    def _identity_in(self, b: dict, at: float) -> TapResult:
        return self.net.check_in_identity(identity_of(b["identity"]), int(b["shelter_id"]), float(b["now"]))

    def _identity_out(self, b: dict, at: float) -> TapResult:
        return self.net.check_out_identity(identity_of(b["identity"]), float(b["now"]))

    def _paper(self, b: dict, at: float) -> TapResult:
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = b["rng_state"]
        return self.net.paper_form(int(b["shelter_id"]), int(b["resident_id"]), float(b["now"]), rng)

    def _reconcile(self, b: dict, at: float) -> Any:
        return self.net.reconcile_paper(float(b["now"]), b.get("limit"))

    def _online(self, b: dict, at: float) -> Any:
        return self.net.set_online(int(b["reader_id"]), bool(b["online"]), float(b["now"]))

    def _report(self, b: dict, at: float) -> int:
        now = float(b["now"])
        return self.safety.hq.receive(shelter_reports(self.net, now, b.get("shelters")), now)

    # -- the live calls -------------------------------------------------------------------------
    def readers(self) -> list[tuple[int, int]]:
        """(reader id, shelter facility id) of every reader in this group."""
        fids = self.net.facility_ids
        return [(int(r), int(fids[s])) for r, s in sorted(self.net.readers.items())]

    def shelters(self) -> list[int]:
        """The facility ids of this group's shelters."""
        return self.net.facility_ids.tolist()

    def taps(self, kind: str, rows: list[dict[str, Any]] | dict[str, list]) -> list[tuple[dict, int]]:
        """Reader taps (`checkin` or `checkout`), each once by tap id; (answer, HTTP status) per tap.

        Rows (tap_id, fingerprint, reader_id, serial, at in POSIX s) as dicts, or as columns of
        those names (cheaper to send)."""
        if kind not in ("checkin", "checkout"):
            raise ValueError(f"kind must be checkin or checkout, not {kind!r}")
        cols = rows if isinstance(rows, dict) else {k: [r[k] for r in rows] for k in TAP_FIELDS}
        ids, fps, serials = cols["tap_id"], cols["fingerprint"], cols["serial"]

        def body(fresh: list[int]) -> dict:
            return {"readers": [int(cols["reader_id"][i]) for i in fresh],
                    "serials": [int(serials[i]) for i in fresh],
                    "at": [float(cols["at"][i]) for i in fresh]}

        answers = self._checkin_answers if kind == "checkin" else self._checkout_answers
        return self.once([f"tap:{t}" for t in ids], fps, kind, body,
                         lambda res, fresh: answers(res, [(ids[i], fps[i], int(serials[i])) for i in fresh]),
                         time.time())

    def _checkin_answers(self, result: list | dict[str, list], taps: list[tuple[str, str, int]]) -> list[Answer]:
        if isinstance(result, list):
            return self._checkout_answers(result, taps)
        cols = (result[k] for k in ("outcome", "reason", "resident_id", "shelter_id", "redirect_to"))
        out = []
        for (tap_id, fp, serial), outcome, reason, rid, shelter, redirect in zip(taps, *cols, strict=True):
            if outcome == "refused":
                out.append(rejected(tap_id, fp, reason, f"card {serial} was refused ({reason}); nothing was recorded"))
                continue
            out.append(recorded(tap_id, fp, {
                "resident_id": rid, "card_serial": serial, "method": "card_serial", "assurance": "MEDIUM",
                "outcome": outcome, "shelter_id": shelter, "redirect_to": None if redirect < 0 else redirect}))
        return out

    def _checkout_answers(self, results: list, taps: list[tuple[str, str, int]]) -> list[Answer]:
        out = []
        for (tap_id, fp, serial), res in zip(taps, results, strict=True):
            if isinstance(res, TwinError):
                out.append(from_error(tap_id, fp, res))
            else:
                out.append(recorded(tap_id, fp, {**tap_json(res), "card_serial": serial, "method": "card_serial",
                                                 "assurance": "MEDIUM"}))
        return out

    def records(self, resident_ids: list[int]) -> list[float | None]:
        """When each resident's record here began (None: not recorded in this group)."""
        where, since = self.net.where, self.net.since
        return [float(since[r]) if where[r] >= 0 else None for r in map(int, resident_ids)]

    def release(self, resident_ids: list[int], at: float, before: list[float] | None = None) -> int:
        """Clear these residents' records here (they are recorded in another group); with `before`, only
        records begun no later than each resident's limit (a newer record here wins)."""
        limits = [np.inf] * len(resident_ids) if before is None else [float(b) for b in before]
        keep = [i for i, (r, b) in enumerate(zip(resident_ids, limits, strict=True)) if self._held(int(r), b)]
        if not keep:
            return 0
        body = {"residents": [int(resident_ids[i]) for i in keep], "at": float(at)}
        if before is not None:
            body["before"] = [limits[i] for i in keep]
        return self.run("release", body, time.time())

    def revoke(self, serials: list[int], at: float) -> int:
        """Refuse these cards from `at` on (journaled before returning); cards already refused by then
        (revoked no later, or unknown here) are skipped; how many were newly revoked."""
        new = self.net.resolver.to_revoke(serials, float(at))
        return self.run("revoke", {"serials": new, "at": float(at)}, time.time()) if new else 0

    def command(self, op: str, body: dict[str, Any], quiet: bool = False) -> Any:
        """A desk or HQ command (identity check-in/out, paper form, reconcile, reader online, report);
        with `quiet`, a refusal is returned as {"refused": code} instead of raised."""
        if op not in ("identity_in", "identity_out", "paper", "reconcile", "online", "report"):
            raise ValueError(f"unknown shelter command {op!r}")
        try:
            result = self.run(op, body, time.time())
        except TwinError as err:
            if not quiet:
                raise
            return {"refused": err.code}
        return tap_json(result) if isinstance(result, TapResult) else result

    # -- reads ------------------------------------------------------------------------------------
    def family(self, identity: dict[str, Any], now: float) -> list[dict[str, Any]]:
        """Where the asker's household members are, as this group's shelters record them (logged)."""
        locs = self.safety.family.household(identity_of(identity), now)
        return [{"resident_id": m.resident_id, "shelter_id": m.shelter_id, "since": m.since} for m in locs]

    def headcounts(self, now: float, report: bool = True) -> dict[str, Any]:
        """Every shelter reports now (journaled) unless `report` is False; the HQ view and desk counts."""
        if report:
            self.run("report", {"now": float(now), "shelters": None}, time.time())
        view = self.safety.hq.view(now).join(self.net.occupancy(), on="shelter_id", how="left")
        return {"group": self.group, "wards": self.wards, "rows": view.to_dicts()}

    def occupancy(self) -> pl.DataFrame:
        """Per shelter: capacity, desk and server counts, free places."""
        return self.net.occupancy()

    def register(self, start: int = 0) -> pl.DataFrame:
        """The tap register from row `start` on (every attempt, every channel)."""
        return self.net.taps.to_frame(start)

    def where(self, resident_ids: list[int]) -> list[int | None]:
        """The shelter each resident is recorded at in this group (None: not here)."""
        out = []
        for r in resident_ids:
            s = int(self.net.where[int(r)])
            out.append(None if s < 0 else int(self.net.facility_ids[s]))
        return out
