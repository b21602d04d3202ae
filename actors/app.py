"""The HTTP app: FastAPI routes (OpenAPI at /openapi.json), JSON errors, the Serve ingress.

Every refusal is a JSON body `{"error": code, "detail": sentence}` with the twin's status
(`TwinError.status`): malformed input 422 (with the problems listed), unknown things 404,
wrong credentials 401, not allowed 403, conflicts 409; an actor restarting is a 503 that
says to retry with the same key. Bad input never yields a 500.
"""

from __future__ import annotations

import gc
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from actors import (
    routes_cards,
    routes_city,
    routes_forecast,
    routes_linkage,
    routes_ops,
    routes_readers,
    routes_residents,
)
from actors.context import Context, install
from actors.edge import Edge
from actors.supervisor import Wiring
from twin.errors import TwinError

log = logging.getLogger(__name__)
DESCRIPTION = (
    "The myna-twin live endpoints: the twin's services (safety confirmation, certificates, "
    "payments and points, linkage, portal, vital records) served by Ray actors. Devices send "
    "`Authorization: Bearer <token>` with `X-Device-Id`, agencies with `X-Agency-Id`; residents "
    "log in with the card (`/v1/residents/challenge`, `/v1/residents/sessions`) and send the session token."
)


DETAIL_MAX = 300  # characters of a refusal's sentence (a refused value is echoed at most as a short prefix)


def shown(text: str, limit: int = DETAIL_MAX) -> str:
    """`text`, cut to `limit` characters (marked with an ellipsis) so a refusal never echoes a long input."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def problems_of(exc: RequestValidationError) -> list[dict]:
    """Pydantic's errors as plain JSON: where, what (the first 20; locations and messages cut short)."""
    return [{"loc": [shown(str(p), 64) for p in e.get("loc", ())], "msg": shown(str(e.get("msg", "")), 200)}
            for e in exc.errors()[:20]]


def make_app() -> FastAPI:
    """The FastAPI app with every route and the JSON error handlers."""
    app = FastAPI(title="myna-twin live endpoints", version="1", description=DESCRIPTION)

    @app.exception_handler(TwinError)
    async def _twin(_request: Request, exc: TwinError) -> JSONResponse:
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        body = exc.to_dict()
        body["detail"] = shown(str(body.get("detail", "")))
        return JSONResponse(body, status_code=int(exc.status), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        probs = problems_of(exc)
        first = probs[0] if probs else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'][1:] or first['loc']) or 'body'}: {first['msg']}"
        return JSONResponse({"error": "invalid_input", "detail": detail, "problems": probs}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "detail": shown(str(exc.detail), 200)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse({"error": "internal", "detail": f"{type(exc).__name__}: the service failed; "
                             "nothing was acknowledged, retry with the same key"}, status_code=500)

    for module in (routes_readers, routes_residents, routes_city, routes_cards, routes_ops, routes_linkage,
                   routes_forecast):
        app.include_router(module.router)
    app.add_middleware(Edge)  # sizes, authentication before the body, rates (actors/edge.py)
    return app


app = make_app()


def ingress_deployment():
    """The Serve deployment of the app (imported lazily: Serve is heavy)."""
    from ray import serve

    @serve.deployment(name="ingress", ray_actor_options={"num_cpus": 0}, max_ongoing_requests=256)
    @serve.ingress(app)
    class Ingress:
        """One replica: the app plus this replica's context."""

        def __init__(self, wiring: Wiring, front_token: str = "") -> None:
            install(Context(wiring, front_token))
            gc.freeze()  # the app and its context live as long as the replica

    return Ingress
