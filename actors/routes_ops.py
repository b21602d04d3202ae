"""Endpoints for load balancers and operators: liveness and readiness, unauthenticated and cheap.

`GET /healthz` answers as soon as the HTTP process runs (it calls no actor). `GET /readyz` asks
every actor to commit a one-row probe to its store, each within `READY_TIMEOUT_S`, and answers
200 when all can, else 503 naming each failing actor and why (restarting, too slow, store not
writable). Neither says anything about residents.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from actors import context as context_module
from actors.context import call
from twin.errors import TwinError

router = APIRouter()
READY_TIMEOUT_S = 5.0


@router.get("/healthz", tags=["operations"], summary="Liveness: the HTTP process answers")
async def healthz() -> dict[str, str]:
    """200 whenever this process can answer; it calls no actor."""
    return {"status": "ok"}


async def _probe(name: str, handle: Any) -> dict[str, Any]:
    """One actor's readiness within the timeout, or why not."""
    try:
        return await asyncio.wait_for(call(handle.ready.remote()), READY_TIMEOUT_S)
    except TimeoutError:
        return {"name": name, "ready": False, "why": f"no answer within {READY_TIMEOUT_S:g} s"}
    except TwinError as exc:
        return {"name": name, "ready": False, "why": str(exc)}
    except Exception as exc:  # noqa: BLE001 - any failure of the call means not ready
        return {"name": name, "ready": False, "why": f"{type(exc).__name__}: {exc}"}


@router.get("/readyz", tags=["operations"], summary="Readiness: every actor up, its store writable",
            responses={503: {"description": "not ready: the failing actors are named"}})
async def readyz() -> JSONResponse:
    """200 when every actor answers and can write to its store; 503 with the failing parts named."""
    c = context_module._CONTEXT
    if c is None:
        return JSONResponse({"ready": False, "failing": [{"name": "ingress", "why": "starting"}]},
                            status_code=503)
    actors = c.named_actors()
    probes = await asyncio.gather(*[_probe(n, h) for n, h in actors])
    failing = [{"name": p["name"], "why": p["why"]} for p in probes if not p["ready"]]
    body = {"ready": not failing, "actors": len(probes), "failing": failing}
    return JSONResponse(body, status_code=200 if not failing else 503)
