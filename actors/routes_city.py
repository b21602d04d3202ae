"""City endpoints: HQ head counts, kiosk and counter certificates, payments and points,
agency linkage requests, clinic records, and the service's health.

Keys from devices are scoped by the device (`<device id>:<key>` in the ledger and the
certificate register), so two kiosks cannot collide and a retry from the same device with
the same key is answered with the first result.
"""

from __future__ import annotations

import asyncio
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse

from actors.auth import Device
from actors.context import Ctx, call
from actors.models import (
    CounterCertificateIn,
    DocumentOut,
    ErrorOut,
    FeeIn,
    GrantIn,
    HeadcountsOut,
    KioskCertificateIn,
    LinkageIn,
    LinkageOut,
    ReceiptOut,
    RefundIn,
    TopUpIn,
    VitalRecordIn,
)
from actors.routes_residents import posted
from twin.errors import ValidationError

router = APIRouter()
_ERRORS = {code: {"model": ErrorOut} for code in (401, 403, 404, 409, 413, 422, 429, 503)}


def device_of(*roles: str):
    """A dependency admitting devices of these roles only."""

    async def check(c: Ctx, authorization: Annotated[str | None, Header()] = None,
              x_device_id: Annotated[str | None, Header()] = None) -> Device:
        return c.credentials.device(authorization, x_device_id, roles)

    return check


async def agency(c: Ctx, authorization: Annotated[str | None, Header()] = None,
           x_agency_id: Annotated[str | None, Header()] = None) -> str:
    """The calling agency."""
    return c.credentials.agency(authorization, x_agency_id)


@router.get("/v1/health", tags=["service"], responses={429: {"model": ErrorOut}, 503: {"model": ErrorOut}}, summary="Is the service up; which city and design")
async def health(c: Ctx) -> dict[str, Any]:
    """Every actor answers a ping (503 if one is restarting)."""
    actors = [*c.shelters, *c.residents, c.trust, c.kiosks, c.linkage, c.childwatch]
    pings = await asyncio.gather(*[call(a.ping.remote()) for a in actors])
    return {"status": "ok", "city": c.spec.city, "scale": c.spec.scale, "design": c.design.name,
            "services": list(c.design.enabled_services()), "actors": len(pings), "now": c.now()}


@router.get("/v1/hq/headcounts", response_model=HeadcountsOut, tags=["hq"], responses=_ERRORS,
            summary="Every shelter reports now; the HQ's head counts")
async def headcounts(device: Annotated[Device, Depends(device_of("hq"))], c: Ctx,
                     report: Annotated[bool, Query(description="false: read the last reports, make none")] = True
                     ) -> dict[str, Any]:
    """Per shelter: the HQ's count and identified count, age of the report (null: never), desk and server counts."""
    c.require("safety")
    now = c.now()
    parts = await asyncio.gather(*[call(g.headcounts.remote(now, report)) for g in c.shelters])
    rows = sorted(({k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in r.items()}
                   for p in parts for r in p["rows"]), key=lambda r: r["shelter_id"])
    return {"at": now, "total_reported": int(sum(r["count"] for r in rows)), "shelters": rows}


@router.post("/v1/kiosks/certificates", response_model=DocumentOut, status_code=201, tags=["kiosks"],
             responses=_ERRORS, summary="Issue a certificate at a kiosk (after a kiosk_auth tap)")
async def kiosk_certificate(body: KioskCertificateIn, device: Annotated[Device, Depends(device_of("kiosk"))],
                            c: Ctx) -> JSONResponse:
    """The card authentication `auth_tap_id` (made at this kiosk, fresh) names the resident."""
    c.require("certificates")
    ident = await call(c.trust.kiosk_identity.remote(body.auth_tap_id, device.device_id))
    now = max(c.now(), float(ident["at"]))  # the kiosk's clock may run a little ahead of ours
    doc = await call(c.kiosks.kiosk_request.remote(device.facility_id, ident, body.certificate, now,
                                                   request_key=f"{device.device_id}:{body.request_key}",
                                                   copies=body.copies))
    return JSONResponse(doc, status_code=200 if doc["replayed"] else 201)


@router.post("/v1/counters/certificates", response_model=DocumentOut, status_code=201, tags=["counters"],
             responses=_ERRORS, summary="Issue a certificate at a ward counter (photo ID checked by staff)")
async def counter_certificate(body: CounterCertificateIn, device: Annotated[Device, Depends(device_of("counter"))],
                              c: Ctx) -> JSONResponse:
    """Staff checked the resident's photo ID (Assurance HIGH at the counter)."""
    c.require("certificates")
    now = c.now()
    ident = {"resident_id": body.resident_id, "method": "counter_photo_id", "assurance": "HIGH", "at": now,
             "card_serial": None}
    doc = await call(c.kiosks.counter_request.remote(device.ward, ident, body.certificate, now,
                                                     request_key=f"{device.device_id}:{body.request_key}",
                                                     window=body.window, copies=body.copies))
    return JSONResponse(doc, status_code=200 if doc["replayed"] else 201)


def _channel(device: Device) -> tuple[str, int]:
    return ("kiosk", device.facility_id) if device.role == "kiosk" else ("counter", device.ward)


@router.post("/v1/payments/fees", response_model=ReceiptOut, status_code=201, tags=["payments"], responses=_ERRORS,
             summary="A fee paid in cash at a kiosk or counter")
async def fee(body: FeeIn, device: Annotated[Device, Depends(device_of("kiosk", "counter"))],
              c: Ctx) -> JSONResponse:
    """201 posted; 200 the first receipt for a repeated key; 409 a changed repeat."""
    c.require("payments")
    channel, site = _channel(device)
    req = {"op": "fee", "key": f"{device.device_id}:{body.key}", "resident_id": body.resident_id,
           "fee_type": body.fee_type, "amount": body.amount, "channel": channel, "method": "cash", "site": site}
    return await posted(c, body.resident_id, req)


@router.post("/v1/payments/top-ups", response_model=ReceiptOut, status_code=201, tags=["payments"],
             responses=_ERRORS, summary="Cash loaded into a resident's wallet at a kiosk or counter")
async def top_up(body: TopUpIn, device: Annotated[Device, Depends(device_of("kiosk", "counter"))],
                 c: Ctx) -> JSONResponse:
    """The wallet is the resident's own shard's account."""
    c.require("payments")
    channel, site = _channel(device)
    req = {"op": "top_up", "key": f"{device.device_id}:{body.key}", "resident_id": body.resident_id,
           "amount": body.amount, "channel": channel, "site": site}
    return await posted(c, body.resident_id, req)


@router.post("/v1/payments/refunds", response_model=ReceiptOut, status_code=201, tags=["payments"],
             responses=_ERRORS, summary="Refund a fee at a counter")
async def refund(body: RefundIn, device: Annotated[Device, Depends(device_of("counter"))],
                 c: Ctx) -> JSONResponse:
    """All of the fee unless an amount is given; never more than was paid."""
    c.require("payments")
    req = {"op": "refund", "key": f"{device.device_id}:{body.key}", "payment_key": body.payment_key,
           "amount": body.amount}
    return await posted(c, body.resident_id, req)


@router.post("/v1/points/grants", response_model=ReceiptOut, status_code=201, tags=["payments"], responses=_ERRORS,
             summary="Grant administrative points for a civic activity")
async def grant(body: GrantIn, device: Annotated[Device, Depends(device_of("counter"))],
                c: Ctx) -> JSONResponse:
    """Points expire after the ledger's validity period."""
    c.require("payments")
    now = c.now()
    req = {"op": "grant", "key": f"{device.device_id}:{body.key}", "resident_id": body.resident_id,
           "points": body.points, "activity": body.activity,
           "expires_at": now + c.design.payments.point_expiry_days * 86400.0}
    return await posted(c, body.resident_id, req)


@router.post("/v1/linkage/requests", response_model=LinkageOut, tags=["linkage"], responses=_ERRORS,
             summary="An agency asks another for items about a resident (no attachments)")
async def linkage_request(body: LinkageIn, who: Annotated[str, Depends(agency)], c: Ctx) -> dict[str, Any]:
    """Checked against the permission table and the design's ordinances; logged for the resident."""
    c.require("linkage")
    return await call(c.linkage.ask.remote(who, body.resident_id, body.task, body.items, body.provider, c.now()))


@router.post("/v1/vitals/records", status_code=204, tags=["clinics"], responses=_ERRORS,
             summary="A clinic adds an entry to a resident's handbook")
async def vital_record(body: VitalRecordIn, device: Annotated[Device, Depends(device_of("clinic"))],
                       c: Ctx) -> Response:
    """Kept under the handbook's own number (never the My Number)."""
    c.require("vitals")
    if not body.detail.strip():
        raise ValidationError("detail must say what was recorded")
    await call(c.shard(body.subject).vitals_record.remote(body.subject, body.book, body.entry, body.detail,
                                                          device.site_id, c.now()))
    return Response(status_code=204)
