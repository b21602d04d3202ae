"""A drill replayed through the load tester: a disaster scenario's card check-ins sent as reader taps.

`drill_of` runs the disaster scenario on the service's own city (same name, seed and scale, so
residents, cards and shelter ids match) and keeps the card check-ins of the evacuees who stay:
who, at which shelter, when (hours after the quake). `replay_ops` turns them into the load
tester's ops (`actors.load.run_load`): one check-in tap each at one of the shelter's readers,
stamped with the quake instant plus its hour, so the service records the drill's own times
however fast the taps are sent (time compression). Paper forms and face checks have no HTTP
route for a load tester, so a replayed drill is the scenario's card check-ins only.

Shelter places: the live service keeps the city's own places while scenarios scale them to each
shelter's catchment (`scenarios.scaling.with_shelter_places`); `drill_of` raises the scenario's
places (`shelter_capacity`) so that no shelter fills in either, and says so if one did.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from actors.workloads import Op, Target, _tap, headers
from devices import contract
from twin.errors import ValidationError


@dataclass(frozen=True)
class Drill:
    """The card check-ins to replay (sorted by time) and the drill's size per shelter."""

    resident_id: np.ndarray
    serial: np.ndarray
    shelter_id: np.ndarray
    hours: np.ndarray

    @property
    def per_shelter(self) -> dict[int, int]:
        """Check-ins per shelter (facility id)."""
        ids, n = np.unique(self.shelter_id, return_counts=True)
        return dict(zip(ids.tolist(), n.tolist(), strict=True))

    def where(self, keep: np.ndarray) -> Drill:
        """The check-ins where `keep` is true."""
        return Drill(self.resident_id[keep], self.serial[keep], self.shelter_id[keep], self.hours[keep])

    def until(self, hours: float) -> Drill:
        """The check-ins up to `hours` after the quake."""
        k = int(np.searchsorted(self.hours, hours, side="right"))
        return Drill(self.resident_id[:k], self.serial[:k], self.shelter_id[:k], self.hours[:k])

    def after(self, hours: float) -> Drill:
        """The check-ins after `hours`."""
        k = int(np.searchsorted(self.hours, hours, side="right"))
        return Drill(self.resident_id[k:], self.serial[k:], self.shelter_id[k:], self.hours[k:])

    def t95_h(self, before: int = 0) -> float:
        """Hours until 95 % of (`before` people registered earlier + this drill) were registered."""
        need = math.ceil(0.95 * (before + self.hours.size)) - before
        return float(self.hours[need - 1]) if need > 0 else 0.0


def drill_of(spec, seed: int, evacuation_share: float = 0.1, design: str = "full") -> Drill:
    """The disaster scenario's card check-ins on the service's city, stayers only."""
    from actors import world
    from scenarios import disaster
    from scenarios.runner import make_params

    p = make_params("disaster", design, spec.city, float(spec.scale),
                    {"city_seed": int(spec.seed), "face_check_enabled": False,
                     "evacuation_share": evacuation_share, "shelter_capacity": 100_000,
                     "reader_offline_probability": 0.0})
    result = disaster.run(p, seed)
    e = result.frames["evacuees"]
    if int(e["redirects"].sum()):
        raise ValidationError("a shelter filled in the scenario: the live service's places differ, so the replay "
                              "would not match it")
    e = e.filter((pl.col("shelter_id") >= 0) & (pl.col("method") == "card_tap")).sort("registered_h")
    cards = world.city(spec).residents.select("resident_id", "card_serial")
    e = e.join(cards, on="resident_id", how="left")
    return Drill(e["resident_id"].to_numpy(), e["card_serial"].to_numpy(), e["shelter_id"].to_numpy(),
                 e["registered_h"].to_numpy())


def replay_ops(t: Target, drill: Drill, quake: float) -> Iterator[Op]:
    """One check-in tap per drill check-in, at the shelter's readers in turn, stamped quake + hours."""
    readers: dict[int, list[dict]] = {}
    for d in t.devices("shelter"):
        readers.setdefault(int(d["facility_id"]), []).append(d)
    missing = sorted(set(drill.shelter_id.tolist()) - set(readers))
    if missing:
        raise ValidationError(f"the service has no shelter reader at shelters {missing}")
    turn = {s: itertools.cycle(devs) for s, devs in readers.items()}
    for serial, s, h in zip(drill.serial.tolist(), drill.shelter_id.tolist(), drill.hours.tolist(), strict=True):
        dev = next(turn[s])
        tap = _tap(dev, serial, "checkin", quake + h * 3600.0)
        yield Op("checkin", "POST", contract.TAPS_PATH, tap, headers(dev), tap["tap_id"])


def check_out(url: str, t: Target, drill: Drill, seed: int = 0, rate: float = 150.0) -> tuple[int, Counter]:
    """After a replay: the drill's people tap out now (so the next drill on the service starts from empty
    shelters); how many the service checked out, and the other answers counted by status and code."""
    from actors.load import LoadSettings, run_load

    back = replay_ops(t, drill, 0.0)
    ops = []
    for op in back:
        tap = {**op.body, "kind": "checkout", "at": round(t.spec.now(), 3)}
        ops.append(Op("checkout", "POST", contract.TAPS_PATH, tap, op.headers, tap["tap_id"]))
    if not ops:
        return 0, Counter()
    n = len(ops)
    report = run_load(url, "disaster", iter(ops), LoadSettings(rate=rate, duration=2 * n / rate + 5, max_requests=n,
                                                               max_in_flight=min(n, 512), retries=5, timeout=120,
                                                               seed=seed))
    out, other = 0, Counter()
    for o in report.outcomes:
        a = o.answer or {}
        if 200 <= o.status < 300 and a.get("result", {}).get("outcome") == "checked_out":
            out += 1
        else:
            other[(o.status, a.get("error") or a.get("result", {}).get("outcome") or a.get("status"))] += 1
    return out, other


@dataclass(frozen=True)
class ReplayCheck:
    """A replayed drill's forecast at `third_h` and what the replay then showed."""

    forecast: dict
    truth_h: float  # hours until 95 % registered, as the service's check-ins show (the snapshot's time if before)
    sent: int
    checked_in: int
    before: int  # people registered before the drill (other check-ins on the service)
    drill: Drill  # the check-ins replayed (residents already in a shelter left out)

    @property
    def covered(self) -> bool:
        """Whether the forecast's interval holds what the replay showed."""
        t = self.forecast["t95_h"]
        return t["low"] is not None and t["low"] <= self.truth_h <= t["high"]


def _send(url: str, t: Target, drill: Drill, quake: float, seed: int, rate: float) -> list[float]:
    """Send the check-ins through the load tester; the hours of those the service checked in."""
    from actors.load import LoadSettings, run_load

    ops = list(replay_ops(t, drill, quake))
    if not ops:
        return []
    hours = dict(zip((o.key for o in ops), drill.hours.tolist(), strict=True))
    n = len(ops)
    # every tap must go: a start skipped at the in-flight bound would drop a participant (an error below)
    report = run_load(url, "disaster", iter(ops), LoadSettings(rate=rate, duration=2 * n / rate + 5, max_requests=n,
                                                               max_in_flight=min(n, 512), retries=5, timeout=120,
                                                               seed=seed))
    if len(report.outcomes) < n:
        raise ValidationError(f"the load tester sent {len(report.outcomes)} of the drill's {n} taps")
    return [hours[o.key] for o in report.outcomes if 200 <= o.status < 300 and o.answer
            and o.answer.get("result", {}).get("outcome") == "checked_in"]


def replay_and_forecast(url: str, t: Target, where: Callable[[list[int]], list[bool]], seed: int,
                        third_h: float = 16.0, reps: int = 200, rate: float = 150.0) -> ReplayCheck:
    """Replay a drill's first `third_h` hours, ask GET /v1/hq/forecast, replay the rest, compare.

    Taps are stamped in the past (a quake just over the drill's length ago: the service takes
    queued taps up to 72 h old), so the whole drill is accepted however fast it is sent; the
    forecast is asked on the drill's own clock (the quake declared `third_h` ago) with the
    drill's size per shelter (plus what the service had registered before) as `expected`.
    `where(resident_ids)` says who is already in a shelter: they are left out of the drill.
    """
    import httpx

    from twin.clock import to_jst

    hq = headers(t.devices("hq")[0])
    drill = drill_of(t.spec, seed)
    drill = drill.where(~np.asarray(where(drill.resident_id.tolist()), dtype=bool))
    with httpx.Client(base_url=url, timeout=300) as http:
        rows = http.get("/v1/hq/headcounts", headers=hq).raise_for_status().json()["shelters"]
        before = {int(r["shelter_id"]): int(r["registered"]) for r in rows}
        quake = t.spec.now() - (float(drill.hours.max()) + 0.5) * 3600.0
        ok = _send(url, t, drill.until(third_h), quake, seed, rate)
        expected = ",".join(f"{s}={before.get(s, 0) + n}" for s, n in drill.per_shelter.items())
        r = http.get("/v1/hq/forecast", headers=hq, params={
            "quake_jst": to_jst(t.spec.now() - third_h * 3600).strftime("%Y-%m-%dT%H:%M"), "reps": reps,
            "seed": seed, "expected": expected})
        if r.status_code != 200:
            raise ValidationError(f"the forecast was refused ({r.status_code}): {r.text}")
    f = r.json()
    ok += _send(url, t, drill.after(third_h), quake, seed + 1, rate)
    shown, p = np.sort(np.asarray(ok, dtype=float)), sum(before.values())
    need = math.ceil(0.95 * (p + shown.size)) - p
    truth = float(shown[need - 1]) if 0 < need <= shown.size else (0.0 if need <= 0 else math.inf)
    return ReplayCheck(f, max(truth, f["hours"]), int(drill.hours.size), len(ok), p, drill)
