"""Card endpoints: a lost card reported (紛失届) at a counter or by its holder, suspended everywhere.

The trust actor applies the domain's loss-report rule (`CardRegistry.report_loss`: the card
suspended, its user and signing certificates revoked by the authority), once per report id.
Then every shelter group and child watch journal the revocation (`revoke`), and only then
does the caller get an answer: an acknowledged report means every live service refuses the
card (`card_revoked`) for taps from the report's time on. Taps before it stay recorded. A
repeat of a report id gets the first answer (200) and re-sends the revocation (a no-op where
it is held), so a retry after a 503 finishes what the first attempt began.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from actors import routing
from actors.auth import Device, RoleForbidden
from actors.context import MAX_SKEW_S, Context, Ctx, call
from actors.models import ErrorOut, LossReportIn, LossReportOut, MyLossReportIn
from actors.routes_city import device_of
from actors.routes_residents import Reporter
from twin.errors import ValidationError
from twin.trust_errors import when

router = APIRouter(tags=["cards"])
_ERRORS = {code: {"model": ErrorOut} for code in (401, 403, 404, 409, 413, 422, 429, 503)}


@router.post("/v1/counters/cards/loss-reports", response_model=LossReportOut, status_code=201, responses=_ERRORS,
             summary="Report a card lost at a ward counter: suspended, certificates revoked, refused everywhere")
async def counter_loss_report(body: LossReportIn, device: Annotated[Device, Depends(device_of("counter"))],
                              c: Ctx) -> JSONResponse:
    """201 suspended; 200 the first answer for a repeated report id; 409 a changed repeat or a card
    that is not active; 404 an unknown card; 422 a report dated in the future."""
    at = report_time(c, body.at)
    fp = _fingerprint("counter", body.report_id, body.card_serial, body.at)
    return await report(c, f"{device.device_id}:{body.report_id}", body.report_id, fp, body.card_serial, at)


@router.post("/v1/me/card/loss-reports", response_model=LossReportOut, status_code=201, responses=_ERRORS,
             summary="Report my own card lost (from a card-login session)")
async def my_loss_report(body: MyLossReportIn, me: Reporter, c: Ctx) -> JSONResponse:
    """Only a card I hold; the report is dated now. Same answers as the counter's report."""
    serial = me.get("card_serial") if body.card_serial is None else body.card_serial
    if serial is None:
        raise RoleForbidden("this session did not come from a card login; name the card or report it at a counter")
    rid = int(me["resident_id"])
    fp = _fingerprint(f"me:{rid}", body.report_id, int(serial), None)
    return await report(c, f"me:{rid}:{body.report_id}", body.report_id, fp, int(serial), c.now(), holder=rid)


def report_time(c: Context, at: float) -> float:
    """When the suspension takes effect: the report's time, never after the service's now; refuses a
    report dated in the future (beyond a device clock's skew) or before the card registry's records."""
    now = c.now()
    if at > now + MAX_SKEW_S:
        raise ValidationError(f"at {at:.3f} is {at - now:.0f} s in the future; a loss is reported when it is "
                              "reported (check the counter's clock)")
    if at < c.spec.built_at:
        raise ValidationError(f"at {at:.3f} is before {when(c.spec.built_at)}, when this service's card "
                              "registry begins; report the loss as of now")
    return min(float(at), now)


async def report(c: Context, key: str, report_id: str, fingerprint: str, serial: int, at: float,
                 holder: int | None = None) -> JSONResponse:
    """Suspend once in the trust actor, then make every shelter group and child watch refuse the card."""
    answer, status = await call(c.trust.report_loss.remote(key, fingerprint, serial, at, holder))
    if answer.get("status") not in ("recorded", "duplicate"):
        return JSONResponse({"error": answer["error"], "detail": answer["detail"]}, status_code=status)
    res = answer["result"]
    refused_by = await propagate(c, int(res["card_serial"]), float(res["suspended_at"]))
    return JSONResponse({"report_id": report_id, "status": answer["status"], **res, "refused_by": refused_by},
                        status_code=status)


async def propagate(c: Context, serial: int, at: float) -> list[str]:
    """Every shelter group and child watch journal the card's revocation from `at`; their names."""
    hosts = [(routing.actor_name(routing.SHELTERS, g), h) for g, h in enumerate(c.shelters)]
    hosts.append((routing.CHILDWATCH, c.childwatch))
    await asyncio.gather(*[call(h.revoke.remote([serial], at)) for _, h in hosts])
    return [name for name, _ in hosts]


def _fingerprint(who: str, report_id: str, serial: int, at: Any) -> str:
    """A digest of the report as posted: the same report always has the same one, any change another."""
    return hashlib.blake2b(repr((who, report_id, int(serial), at)).encode(), digest_size=16).hexdigest()
