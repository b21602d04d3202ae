"""`GET /v1/hq/forecast`: a nowcast from the live state, run as a Ray task beside the actors.

The route reads the head counts (without journaling a report) from every shelter group at one
instant, then starts a Ray task that reads the shelter journals read-only (SQLite data folders:
reader status, recent taps) and runs the replications (`scenarios.nowcast`). The actors only
answer the head-count call, so check-ins go on while the forecast runs. A group that does not
answer within `wait_s` (restarting, say) is taken as of its last answer to this replica, with
its arrivals as unknown, or left out when it never answered; `lacking` says which.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from actors.auth import Device
from actors.context import Ctx, Unavailable, call
from actors.models import ErrorOut
from actors.routes_city import device_of
from twin.errors import ValidationError

router = APIRouter()
_ERRORS = {code: {"model": ErrorOut} for code in (401, 403, 422, 503)}


_LAST: dict[tuple[str, int], tuple[float, list[dict]]] = {}  # (namespace, group): its last answer here


def parse_ids(text: str, name: str) -> list[int]:
    """'S,S,...' as shelter ids; a clear error otherwise."""
    try:
        return [int(p) for p in filter(None, (p.strip() for p in text.split(",")))]
    except ValueError:
        raise ValidationError(f"{name}: {text!r} must be shelter ids separated by commas") from None


def merge_answers(parts: list[Any], now: float, last: dict[int, tuple[float, list[dict]]]
                  ) -> tuple[list[dict], list[int], list[str]]:
    """The groups' rows (a failed group's as of its last answer, marked `stale_s`), the groups
    never heard from, and notes; `last` is updated with the fresh answers."""
    rows: list[dict] = []
    never: list[int] = []
    notes: list[str] = []
    for g, part in enumerate(parts):
        if not isinstance(part, BaseException):
            last[g] = (now, part["rows"])
            rows += part["rows"]
            continue
        why = "no answer in time" if isinstance(part, TimeoutError) else type(part).__name__
        if g in last:
            at, old = last[g]
            rows += [{**r, "stale_s": now - at} for r in old]
            notes.append(f"shelter group {g} did not answer ({why}): shelters {[r['shelter_id'] for r in old]} "
                         f"taken as of its last answer {now - at:.0f} s ago; their arrivals as unknown (the "
                         "curve conditioned on their registrations, so a wider interval)")
        else:
            never.append(g)
    if not rows:
        raise Unavailable("no shelter group answered the head-count call; retry shortly")
    return sorted(rows, key=lambda r: r["shelter_id"]), never, notes


def parse_add_readers(text: str, name: str = "add_readers") -> dict[int, int]:
    """'SHELTER=N,SHELTER=N' as {shelter: n}; a clear error otherwise."""
    out: dict[int, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, n = part.partition("=")
        try:
            shelter, count = int(key), int(n)
        except ValueError:
            shelter, count = -1, -1
        if not sep or count < 0:
            raise ValidationError(f"{name}: {part!r} must look like SHELTER=N with N >= 0")
        out[shelter] = count
    return out


def defaults(spec: Any = None) -> dict[str, float]:
    """The disaster scenario's calibrated times and curve; the card share is an assumption; the mean
    arrival group from the spec's city (households of mean size m, a share t arriving together:
    m / (t + (1 - t) m) people per group, the disaster model's rule)."""
    from scenarios.disaster_params import DisasterParams

    out = {**DisasterParams.calibrated(), "horizon_h": 48.0, "card_share": 0.6}
    if spec is not None:
        from actors.world import city

        m, t = float(city(spec).households["size"].mean()), DisasterParams().household_together_share
        out["group_size"] = m / (t + (1 - t) * m)
    return out


def places_of(spec: Any, never: list[int]) -> tuple[dict[int, tuple[float, float]], str | None]:
    """Each shelter's place (km) from the spec's city; a note naming the shelters of groups never heard from."""
    import polars as pl

    from actors.world import city, group_wards

    c = city(spec)
    f = c.facilities.filter(pl.col("kind") == "shelter")
    places = {int(i): (float(x), float(y)) for i, x, y in f.select("facility_id", "x_km", "y_km").iter_rows()}
    if not never:
        return places, None
    wards = [w for g in never for w in group_wards(c, spec.shelter_groups)[g]]
    left = sorted(f.filter(pl.col("ward").is_in(wards))["facility_id"].to_list())
    return places, (f"shelter group(s) {never} did not answer and never had: shelters {left} are left out "
                    "of the forecast (their evacuees neither counted nor forecast)")


def _run(rows: list[dict], source: str | None, now: float, quake: float, reps: int, seed: int,
         add: dict[int, int], spec: Any = None, never: tuple[int, ...] = (), notes: tuple[str, ...] = (),
         opened: tuple[int, ...] = (), closed: tuple[int, ...] = (), expected: dict[int, int] | None = None
         ) -> dict[str, Any]:
    """The task body: read the journals (`source`: the data folder or the PostgreSQL DSN), build the
    state, forecast."""
    from calibration.drill import read_drill
    from scenarios.nowcast import forecast
    from scenarios.nowcast_live import live_state

    places, left = places_of(spec, list(never)) if spec is not None else (None, None)

    data = None
    if source is not None:
        postgres = spec is not None and spec.store_kind == "postgresql"
        try:
            data = read_drill(source, spec.instance if postgres else None)
        except ValidationError:
            data = None  # no check-ins yet: the calibrated figures stand in
    folder = str(spec.folder) if spec is not None else None
    state, more = live_state(rows, data, now, quake, defaults(spec), places=places, closed=closed,
                             expected=expected, folder=folder)
    out = forecast(state, reps, seed, add, list(opened)).to_dict()
    out["lacking"] = [*notes, *([left] if left else []), *more, *out["lacking"]]
    return out


@router.get("/v1/hq/forecast", tags=["hq"], responses=_ERRORS,
            summary="Forecast from the live state: time to 95 % registered, filling shelters, peak waits")
async def hq_forecast(device: Annotated[Device, Depends(device_of("hq"))], c: Ctx,
                      quake_jst: Annotated[str, Query(description="main shock, YYYY-MM-DDTHH:MM JST")],
                      reps: Annotated[int, Query(ge=2, le=1000)] = 100, seed: int = 0,
                      add_readers: Annotated[str, Query(description="what-if: SHELTER=N,...")] = "",
                      open_: Annotated[str, Query(alias="open", description="what-if: open these closed shelters now: S,...")] = "",
                      closed: Annotated[str, Query(description="shelters not opened yet (the service keeps no "
                                                   "opening state): S,...")] = "",
                      expected: Annotated[str, Query(description="evacuees in all per shelter when known "
                                                     "(a drill's participants): SHELTER=N,...")] = "",
                      wait_s: Annotated[float, Query(gt=0, le=60, description="how long to wait for each "
                                                     "shelter group's head counts")] = 10.0
                      ) -> dict[str, Any]:
    """Replications from now (95 % prediction intervals); with add_readers or open the what-if beside it."""
    import ray

    from scenarios.params import parse_jst

    c.require("safety")
    quake, add = parse_jst(quake_jst, "quake_jst"), parse_add_readers(add_readers)
    opened, shut = tuple(parse_ids(open_, "open")), tuple(parse_ids(closed, "closed"))
    total = parse_add_readers(expected, "expected")
    now = c.now()
    parts = await asyncio.gather(*[asyncio.wait_for(call(g.headcounts.remote(now, False)), wait_s)
                                   for g in c.shelters], return_exceptions=True)
    for p in parts:
        if isinstance(p, ValidationError):
            raise p
    last = {g: v for (ns, g), v in _LAST.items() if ns == c.spec.namespace}
    rows, never, notes = merge_answers(parts, now, last)
    _LAST.update({(c.spec.namespace, g): v for g, v in last.items()})
    source = str(c.spec.folder) if c.spec.store_kind == "sqlite" else c.spec.store
    task = ray.remote(num_cpus=0, max_retries=0)(_run)  # a worker process beside the actors
    out = await call(task.remote(rows, source, now, quake, reps, seed, add, c.spec, tuple(never), tuple(notes),
                                 opened, shut, total))
    return {"at": now, **out}
