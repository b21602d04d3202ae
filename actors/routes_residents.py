"""Resident endpoints: log in with the card, then read and act on one's own data only.

The session carries the identity the card login established (JPKI user certificate behind
the PIN, Assurance HIGH); each service still applies its own rules to it (the portal's
session age, the household for family look-up, guardianship for a child's handbook).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from actors import metrics
from actors.context import Context, Ctx, ServiceDisabled, call
from actors.models import (
    ID_MAX,
    NAME_PATTERN,
    ChallengeOut,
    ChildWatchIn,
    ErrorOut,
    LoginIn,
    MemberOut,
    MessageOut,
    PortalPaymentIn,
    ReceiptOut,
    RedeemIn,
    SessionOut,
    WalletOut,
)

router = APIRouter(tags=["residents"])
_ERRORS = {code: {"model": ErrorOut} for code in (401, 403, 404, 409, 413, 422, 429, 503)}


async def resident(c: Ctx, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """The identity in the caller's session token, if the session was not ended (logout, loss report)."""
    now = c.now()
    me = c.credentials.resident(authorization, now)
    await call(c.trust.session_check.remote(me.get("sid"), me.get("card_serial"), now))
    return me


Me = Annotated[dict, Depends(resident)]


async def reporting_resident(c: Ctx, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Like `resident`, but a session whose card was reported lost may still repeat its loss report (a retry
    with the same report id finishes what a 503 interrupted); a logout still ends it."""
    now = c.now()
    me = c.credentials.resident(authorization, now)
    await call(c.trust.session_check.remote(me.get("sid"), me.get("card_serial"), now, False))
    return me


Reporter = Annotated[dict, Depends(reporting_resident)]


@router.get("/v1/residents/challenge", response_model=ChallengeOut, responses=_ERRORS,
            summary="A login challenge for the card to sign")
async def challenge(c: Ctx) -> dict[str, Any]:
    """Sign it with the card's user key (after its PIN) and post it to /v1/residents/sessions (stateless:
    the service keeps nothing until it is answered, so asking many cannot crowd out anyone's)."""
    return {"challenge": c.challenges.issue(c.now()), "expires_in_s": c.challenges.ttl}


@router.post("/v1/residents/sessions", response_model=SessionOut, status_code=201, responses=_ERRORS,
             summary="Log in with the card: certificate, challenge, signature")
async def login(body: LoginIn, c: Ctx) -> dict[str, Any]:
    """A session token for the card's holder (chain, validity, revocation and signature checked)."""
    now = c.now()
    expires = c.challenges.check(body.challenge, now)  # the tag and age here; used ones in the trust actor
    ident = await call(c.trust.login.remote(body.certificate, body.challenge, body.signature, now, expires))
    token, expires = c.credentials.session_token(ident)
    return {"token": token, "resident_id": ident["resident_id"], "assurance": ident["assurance"],
            "expires_at": expires}


@router.post("/v1/me/logout", status_code=204, responses=_ERRORS, summary="End my session now")
async def logout(me: Me, c: Ctx) -> Response:
    """The session token is refused from now on (on every replica, and after a restart)."""
    await call(c.trust.logout.remote(str(me.get("sid", "")), float(me.get("exp", c.now())), c.now()))
    return Response(status_code=204)


@router.get("/v1/me/family", response_model=list[MemberOut], responses=_ERRORS,
            summary="Where my household members are checked in (family look-up)")
async def family(me: Me, c: Ctx) -> list[dict[str, Any]]:
    """Every other household member's shelter (null: not checked in); every look-up is logged."""
    c.require("safety")
    if not c.design.safety.family_lookup:
        raise ServiceDisabled(f"family look-up is not enabled in design {c.design.name!r}")
    now = c.now()
    parts = await asyncio.gather(*[call(g.family.remote(me, now)) for g in c.shelters])
    merged: dict[int, dict[str, Any]] = {}
    for rows in parts:
        for row in rows:
            if row["shelter_id"] is not None or row["resident_id"] not in merged:
                merged[row["resident_id"]] = row
    return [merged[k] for k in sorted(merged)]


@router.get("/v1/me/mailbox", response_model=list[MessageOut], responses=_ERRORS, summary="My portal mailbox")
async def mailbox(me: Me, c: Ctx, unread_only: Annotated[bool, Query()] = False) -> list[dict[str, Any]]:
    """The messages in my mailbox, oldest first."""
    c.require("portal")
    return await call(c.shard(me["resident_id"]).mailbox.remote(me, c.now(), unread_only))


@router.post("/v1/me/mailbox/{message_id}/read", status_code=204, responses=_ERRORS, summary="Mark a message read")
async def mark_read(message_id: Annotated[int, Path(ge=1, le=ID_MAX)], me: Me, c: Ctx) -> Response:
    """Only messages in my own mailbox."""
    c.require("portal")
    await call(c.shard(me["resident_id"]).mark_read.remote(me, message_id, c.now()))
    return Response(status_code=204)


@router.get("/v1/me/linkage-log", responses=_ERRORS, summary="Who exchanged what about me (linkage record)")
async def linkage_log(me: Me, c: Ctx) -> list[dict[str, Any]]:
    """The exchanges about me between agencies, as the portal discloses them."""
    c.require("linkage")
    return await call(c.linkage.linkage_log.remote(me, c.now()))


@router.get("/v1/me/vitals/{book}", responses=_ERRORS, summary="My (or my minor child's) handbook")
async def vitals(book: Annotated[str, Path(pattern=NAME_PATTERN)], me: Me, c: Ctx,
                 subject: Annotated[int | None, Query(ge=0, le=ID_MAX)] = None) -> list[dict[str, Any]]:
    """The e-maternal or e-medication handbook of me, or of my child while a minor (logged)."""
    c.require("vitals")
    who = me["resident_id"] if subject is None else subject
    return await call(c.shard(who).vitals_read.remote(me, who, book, c.now()))


@router.get("/v1/me/wallet", response_model=WalletOut, responses=_ERRORS, summary="My wallet and points")
async def wallet(me: Me, c: Ctx) -> dict[str, Any]:
    """Yen in my wallet and my unexpired points."""
    c.require("payments")
    return await call(c.shard(me["resident_id"]).wallet.remote(me["resident_id"], c.now()))


@router.post("/v1/me/payments", response_model=ReceiptOut, status_code=201, responses=_ERRORS,
             summary="Pay a fee on the portal (idempotent by reference)")
async def pay(body: PortalPaymentIn, me: Me, c: Ctx) -> JSONResponse:
    """201 paid; 200 the first receipt again for a repeated reference; 409 a changed repeat."""
    c.require("portal")
    receipt = await call(c.shard(me["resident_id"]).portal_pay.remote(
        me, body.reference, body.fee_type, body.amount, c.now(), body.method))
    return JSONResponse(receipt, status_code=200 if receipt["replayed"] else 201)


@router.post("/v1/me/points/redemptions", response_model=ReceiptOut, status_code=201, responses=_ERRORS,
             summary="Redeem points into my wallet (idempotent by key)")
async def redeem(body: RedeemIn, me: Me, c: Ctx) -> JSONResponse:
    """Soonest-expiring points first."""
    c.require("payments")
    rid = me["resident_id"]
    req = {"op": "redeem", "key": f"me:{rid}:{body.key}", "resident_id": rid, "points": body.points}
    return await posted(c, rid, req)


async def posted(c: Context, resident_id: int, request: dict[str, Any]) -> JSONResponse:
    """Post one ledger request on the resident's shard: 201, 200 for a replay, or the refusal."""
    (res,) = await call(c.shard(resident_id).post.remote([request], c.now()))
    if res.pop("refused"):
        metrics.posting(request.get("op", ""), res["status"], res["error"])
        return JSONResponse({"error": res["error"], "detail": res["detail"]}, status_code=res["status"])
    status = 200 if res["replayed"] else 201
    metrics.posting(request.get("op", ""), status)
    return JSONResponse(res, status_code=status)


@router.post("/v1/me/child-watch", status_code=204, responses=_ERRORS, summary="Consent to child watch for my child")
async def enrol(body: ChildWatchIn, me: Me, c: Ctx) -> Response:
    """The child's taps at school and cram school are then sent to my mailbox."""
    c.require("safety")
    await call(c.childwatch.enrol.remote(body.child_id, me, c.now()))
    return Response(status_code=204)


@router.delete("/v1/me/child-watch/{child_id}", responses=_ERRORS, summary="Withdraw child-watch consent")
async def withdraw(child_id: Annotated[int, Path(ge=0, le=ID_MAX)], me: Me, c: Ctx) -> dict[str, int]:
    """Tracking stops; the child's tap records and notices are deleted."""
    c.require("safety")
    return {"deleted": await call(c.childwatch.withdraw.remote(child_id, me, c.now()))}
