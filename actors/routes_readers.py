"""Reader endpoints: the reader contract (devices/contract.py, docs/readers.md) served by the actors.

A shelter reader's check-in or check-out goes to its shelter group (a face record is first
checked by the trust actor); a kiosk's card authentication to the trust actor; a school
reader's tap to child watch, whose notices are then put in the guardians' mailboxes. Each
tap id is recorded once; a repeat gets the first answer; another body under a known id is 409.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError

from actors import metrics, routing
from actors.auth import Device
from actors.context import MAX_SKEW_S, MAX_TAP_AGE_S, Context, Ctx, ServiceDisabled, call
from actors.models import ErrorOut, TapBatchIn, TapBatchOut, TapIn, TapResultOut
from devices import contract
from twin.errors import ValidationError
from twin.pki import split_cert_serial
from twin.trust_errors import UnknownCard

router = APIRouter(tags=["readers"])
READER_ROLES = tuple(contract.ROLE_KINDS)
MAX_SERIAL = 2**62  # card serials the registry can hold (a certificate serial may name a larger one)
_BATCH = TypeAdapter(TapBatchIn)
_ERRORS = {code: {"model": ErrorOut} for code in (401, 403, 404, 409, 413, 422, 429, 503)}
_TAP_ANSWERS = {200: {"model": TapResultOut, "description": "a repeat of a recorded tap: the first answer, "
                      "status duplicate"},
                **{code: {"model": TapResultOut | ErrorOut,
                          "description": "the tap refused (its answer), or the request refused (an error)"}
                   for code in (403, 404, 409, 422)}}
_BATCH_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["taps"],
                 "properties": {"taps": {"type": "array", "maxItems": contract.MAX_BATCH,
                                         "items": {"$ref": "#/components/schemas/TapIn"}}}}


async def reader(c: Ctx, authorization: Annotated[str | None, Header()] = None,
           x_device_id: Annotated[str | None, Header()] = None) -> Device:
    """The calling reader (shelter, kiosk or school device)."""
    return c.credentials.device(authorization, x_device_id, READER_ROLES)


Reader = Annotated[Device, Depends(reader)]


@router.post(contract.TAPS_PATH, response_model=TapResultOut, status_code=201, responses={**_ERRORS, **_TAP_ANSWERS},
             summary="Record one tap (check-in, check-out, kiosk authentication, child-watch tap)")
async def post_tap(tap: TapIn, device: Reader, c: Ctx) -> Response:
    """201 recorded; 200 a repeat of a recorded tap; 4xx a refusal (the body says why)."""
    (answer, status), = await process(c, device, [tap])
    return Response(orjson.dumps(answer), status_code=status, media_type="application/json")


@router.post(contract.BATCH_PATH, response_model=TapBatchOut, responses=_ERRORS,
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"application/json": {"schema": _BATCH_SCHEMA}}}},
             summary="Upload queued taps (at most 500); one answer per tap, in order")
async def post_batch(request: Request, device: Reader, c: Ctx) -> JSONResponse:
    """200 with one answer per tap; a malformed tap is rejected on its own (422 in its answer)."""
    taps = parse_batch(await request.body())
    results = await process(c, device, taps)
    return Response(orjson.dumps({"results": [a for a, _ in results]}), media_type="application/json")


class TooLarge(ValidationError):
    """More taps than one batch may hold."""

    code = "too_large"
    status = 413


def parse_batch(raw: bytes) -> list[TapIn | dict]:
    """The taps of a batch body: validated taps, or for a malformed one the answer refusing it."""
    try:
        taps = _BATCH.validate_json(raw).taps  # the fast path: the whole body at once, in Rust
    except PydanticError:
        taps = None
    if taps is not None:
        if len(taps) > contract.MAX_BATCH:
            raise TooLarge(f"{len(taps)} taps in one batch; at most {contract.MAX_BATCH}")
        return list(taps)
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValidationError("the body is not JSON") from None
    if not isinstance(data, dict) or set(data) != {"taps"} or not isinstance(data["taps"], list):
        raise ValidationError('expected {"taps": [tap, ...]}')
    if len(data["taps"]) > contract.MAX_BATCH:
        raise TooLarge(f"{len(data['taps'])} taps in one batch; at most {contract.MAX_BATCH}")
    return [_one(item) for item in data["taps"]]


def _one(item: Any) -> TapIn | dict:
    try:
        return TapIn.model_validate(item)
    except PydanticError as err:
        e = err.errors()[0]
        where = ".".join(str(p) for p in e.get("loc", ())) or "tap"
        tap_id = item.get("tap_id") if isinstance(item, dict) else None
        return {"tap_id": str(tap_id), "status": "rejected", "error": "invalid_input", "detail": f"{where}: {e['msg']}"}


def fingerprint(tap: TapIn) -> str:
    """A digest of every field of the tap: the same tap always has the same one, any change another."""
    c, f, a = tap.card, tap.card.face, tap.auth
    parts = (tap.tap_id, tap.device_id, tap.site_id, tap.kind, repr(tap.at), c.card_serial, c.certificate_serial,
             None if f is None else (f.name, f.address, f.birth_date, f.sex, f.expires_at, f.seal),
             None if a is None else (a.certificate, a.nonce, a.signature, a.hash))
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def serial_of(tap: TapIn) -> int:
    """The card serial a tap names (a real card's certificate serial carries it)."""
    if tap.card.card_serial is not None:
        return int(tap.card.card_serial)
    return split_cert_serial(int(tap.card.certificate_serial, 16))[0]


def _refused(tap: TapIn, status: int, code: str, detail: str) -> tuple[dict, int]:
    return {"tap_id": tap.tap_id, "status": "rejected", "error": code, "detail": detail}, status


def precheck(device: Device, tap: TapIn, now: float) -> tuple[dict, int] | None:
    """Refusals that need no actor (not stored): another device's tap, a kind outside the role, no possible card,
    a time in the future (beyond the clock skew) or older than a reader's queue keeps taps."""
    if tap.device_id != device.device_id or tap.site_id != device.site_id:
        return _refused(tap, 403, "forbidden", f"device {device.device_id} posts only its own taps at {device.site_id}")
    if tap.kind not in contract.ROLE_KINDS[device.role]:
        return _refused(tap, 403, "forbidden", f"a {device.role} reader cannot post {tap.kind} taps")
    if tap.auth is None and serial_of(tap) > MAX_SERIAL:  # a kiosk's card is named by its certificate (drill cards)
        return _refused(tap, 404, UnknownCard.code, "the certificate serial names no card this service issued")
    if tap.at > now + MAX_SKEW_S:
        return _refused(tap, 422, "invalid_input", f"at {tap.at:.3f} is {tap.at - now:.0f} s in the future; "
                        "check the reader's clock")
    if tap.at < now - MAX_TAP_AGE_S:
        return _refused(tap, 422, "invalid_input", f"at {tap.at:.3f} is {(now - tap.at) / 3600:.0f} h in the past; "
                        f"taps are accepted up to {MAX_TAP_AGE_S / 3600:.0f} h after they were read")
    return None


async def process(c: Context, device: Device, taps: list[TapIn | dict]) -> list[tuple[dict, int]]:
    """One answer per tap, in order."""
    out: list[tuple[dict, int] | None] = [None] * len(taps)
    todo: list[int] = []
    now = c.now()
    for i, tap in enumerate(taps):
        if isinstance(tap, dict):
            out[i] = (tap, 422)
            continue
        out[i] = precheck(device, tap, now)
        if out[i] is None:
            todo.append(i)
    if todo:
        kind = taps[todo[0]].kind  # one device posts one role's kinds; shelters split check-in/out
        handler = {"kiosk_auth": _kiosk, "childwatch": _school}.get(kind, _shelter)
        done = await handler(c, device, [taps[i] for i in todo])
        for i, answer in zip(todo, done, strict=True):
            out[i] = answer
    metrics.taps(device.role, out)  # type: ignore[arg-type]
    return out  # type: ignore[return-value]


async def _shelter(c: Context, device: Device, taps: list[TapIn]) -> list[tuple[dict, int]]:
    c.require("safety")
    out: list[tuple[dict, int] | None] = [None] * len(taps)
    faced = [i for i, t in enumerate(taps) if t.card.face is not None]
    if faced:
        checks = await call(c.trust.check_faces.remote([taps[i].model_dump(exclude_none=True) for i in faced]))
        for i, res in zip(faced, checks, strict=True):
            if isinstance(res, (tuple, list)):
                out[i] = _refused(taps[i], int(res[1]), str(res[0]), str(res[2]))
    for kind in ("checkin", "checkout"):
        idx = [i for i, t in enumerate(taps) if t.kind == kind and out[i] is None]
        if not idx:
            continue
        rows = [(taps[i].tap_id, fingerprint(taps[i]), device.reader_id, serial_of(taps[i]), taps[i].at) for i in idx]
        if len(rows) == 1:  # a single tap joins the others arriving now (one actor call, one commit)
            batcher = c.batcher(device.group, kind, send_taps)
            if _QUEUE_SEEN.get((device.group, kind)) != batcher.waiting:  # the gauge set only when it moves
                _QUEUE_SEEN[(device.group, kind)] = batcher.waiting
                metrics.record("batcher_queue", batcher.waiting, group=device.group, kind=kind)
            answers = [await batcher.submit(rows[0])]
        else:
            answers = await send_taps(c, device.group, kind, rows)
        for i, a in zip(idx, answers, strict=True):
            out[i] = (a[0], a[1])
    return out  # type: ignore[return-value]


_QUEUE_SEEN: dict[tuple[int, str], int] = {}  # the batcher_queue gauge's last value in this replica


async def send_taps(c: Context, group: int, kind: str, rows: list[tuple]) -> list[tuple[dict, int]]:
    """Taps (tuples in `routing.TAP_FIELDS` order) to one shelter group in one call, as columns; after
    check-ins, a resident recorded in more than one group is settled (`settle_elsewhere`)."""
    metrics.record("batch_size", len(rows), kind=kind)
    answers = await call(c.shelters[group].taps.remote(kind, routing.tap_columns(rows)))
    if kind == "checkin" and len(c.shelters) > 1:
        rids = {a["result"]["resident_id"] for a, _ in answers
                if a.get("status") == "recorded" and a["result"].get("outcome") in HELD}
        if rids:  # settled with the other batches' residents settling now (one look-up for all)
            await c.batcher(group, "settle", send_settles).submit((sorted(rids), max(r[4] for r in rows)))
    return answers


async def send_settles(c: Context, group: int, kind: str, items: list[tuple[list[int], float]]) -> list[None]:
    """Several batches' settlements (resident ids, release time) of one group as one `settle_elsewhere`."""
    rids = sorted({r for ids, _at in items for r in ids})
    await settle_elsewhere(c, rids, max(at for _ids, at in items), group)
    return [None] * len(items)


HELD = ("checked_in", "moved", "already_here")  # outcomes after which the resident is recorded here


async def settle_elsewhere(c: Context, resident_ids: list[int], at: float, here: int | None = None) -> None:
    """A resident is recorded at one shelter city-wide: where groups both hold one, the newest record
    (then the higher group) stays and the others are released, each only if it is still the record
    seen. Asked after the check-in is recorded, so of two check-ins racing in two groups at least the
    later asker sees both, and every asker settles them the same way. The group `here` (that just
    recorded them) is asked only when another group holds one of them: alone it has nothing to settle."""
    others = [g for g in range(len(c.shelters)) if g != here]
    seen: list[list[float | None]] = [[None] * len(resident_ids) for _ in c.shelters]
    for g, since in zip(others, await asyncio.gather(*[call(c.shelters[g].records.remote(resident_ids))
                                                     for g in others]), strict=True):
        seen[g] = since
    if here is not None and any(s is not None for g in others for s in seen[g]):
        seen[here] = await call(c.shelters[here].records.remote(resident_ids))
    drop: dict[int, tuple[list[int], list[float]]] = {}
    for i, rid in enumerate(resident_ids):
        held = [(since[i], k) for k, since in enumerate(seen) if since[i] is not None]
        for since, k in sorted(held)[:-1]:
            drop.setdefault(k, ([], []))[0].append(rid)
            drop[k][1].append(since)
    await asyncio.gather(*[call(c.shelters[k].release.remote(rids, at, before))
                           for k, (rids, before) in drop.items()])


async def _kiosk(c: Context, device: Device, taps: list[TapIn]) -> list[tuple[dict, int]]:
    c.require("certificates")
    raw = [t.model_dump(exclude_none=True) for t in taps]
    answers = await call(c.trust.kiosk_taps.remote(raw, [fingerprint(t) for t in taps]))
    return [(a[0], a[1]) for a in answers]


async def _school(c: Context, device: Device, taps: list[TapIn]) -> list[tuple[dict, int]]:
    c.require("safety")
    if not c.design.safety.child_watch:
        raise ServiceDisabled(f"child watch is not enabled in design {c.design.name!r}")
    rows = [{"tap_id": t.tap_id, "fingerprint": fingerprint(t), "facility_id": device.facility_id,
             "serial": serial_of(t), "at": t.at} for t in taps]
    answers = await call(c.childwatch.taps.remote(rows))
    await forward_notices(c)
    return [(a[0], a[1]) for a in answers]


async def forward_notices(c: Context) -> int:
    """Put child watch's pending notices in the guardians' mailboxes (each once), then acknowledge them."""
    pending = await call(c.childwatch.pending.remote())
    if not pending:
        return 0
    by_shard: dict[int, list] = {}
    for seq, guardian, topic, body, now in pending:  # keyed by sequence: a notice forwarded twice lands once
        by_shard.setdefault(routing.shard_of(guardian, len(c.residents)), []).append(
            (f"childwatch:{seq}", guardian, topic, body, now))
    await asyncio.gather(*[call(c.residents[k].deliver_once.remote(msgs)) for k, msgs in by_shard.items()])
    await call(c.childwatch.delivered.remote(max(p[0] for p in pending)))
    return len(pending)
