"""`GET /v1/hq/forecast`: a nowcast from the live state, run as a Ray task beside the actors.

The route reads the head counts (without journaling a report) from every shelter group at one
instant, then starts a Ray task that reads the shelter journals read-only (SQLite data folders:
reader status, recent taps) and runs the replications (`scenarios.nowcast`). The actors only
answer the head-count call, so check-ins go on while the forecast runs.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from actors.auth import Device
from actors.context import Ctx, call
from actors.models import ErrorOut
from actors.routes_city import device_of
from twin.errors import ValidationError

router = APIRouter()
_ERRORS = {code: {"model": ErrorOut} for code in (401, 403, 422, 503)}


def parse_add_readers(text: str) -> dict[int, int]:
    """'SHELTER=N,SHELTER=N' as {shelter: n}; a clear error otherwise."""
    out: dict[int, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, n = part.partition("=")
        try:
            shelter, count = int(key), int(n)
        except ValueError:
            shelter, count = -1, -1
        if not sep or count < 0:
            raise ValidationError(f"add_readers: {part!r} must look like SHELTER=N with N >= 0")
        out[shelter] = count
    return out


def defaults() -> dict[str, float]:
    """The disaster scenario's calibrated times and curve; the card share is an assumption."""
    from scenarios.disaster_params import DisasterParams

    return {**DisasterParams.calibrated(), "horizon_h": 48.0, "card_share": 0.6}


def _run(rows: list[dict], folder: str | None, now: float, quake: float, reps: int, seed: int,
         add: dict[int, int]) -> dict[str, Any]:
    """The task body: read the journals, build the state, forecast."""
    from calibration.drill import read_drill
    from scenarios.nowcast import forecast
    from scenarios.nowcast_live import live_state

    data = None
    if folder is not None:
        try:
            data = read_drill(folder)
        except ValidationError:
            data = None  # no check-ins yet: the calibrated figures stand in
    state, notes = live_state(rows, data, now, quake, defaults())
    out = forecast(state, reps, seed, add).to_dict()
    out["lacking"] = notes + out["lacking"]
    return out


@router.get("/v1/hq/forecast", tags=["hq"], responses=_ERRORS,
            summary="Forecast from the live state: time to 95 % registered, filling shelters, peak waits")
async def hq_forecast(device: Annotated[Device, Depends(device_of("hq"))], c: Ctx,
                      quake_jst: Annotated[str, Query(description="main shock, YYYY-MM-DDTHH:MM JST")],
                      reps: Annotated[int, Query(ge=2, le=1000)] = 100, seed: int = 0,
                      add_readers: Annotated[str, Query(description="what-if: SHELTER=N,...")] = ""
                      ) -> dict[str, Any]:
    """Replications from now (95 % prediction intervals); with add_readers the what-if beside it."""
    import ray

    from scenarios.params import parse_jst

    c.require("safety")
    quake, add = parse_jst(quake_jst, "quake_jst"), parse_add_readers(add_readers)
    now = c.now()
    parts = await asyncio.gather(*[call(g.headcounts.remote(now, False)) for g in c.shelters])
    rows = sorted((r for p in parts for r in p["rows"]), key=lambda r: r["shelter_id"])
    folder = str(c.spec.folder) if c.spec.store_kind == "sqlite" else None
    task = ray.remote(num_cpus=0, max_retries=0)(_run)  # a worker process beside the actors
    out = await call(task.remote(rows, folder, now, quake, reps, seed, add))
    return {"at": now, **out}
