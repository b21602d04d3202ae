"""A resident's application to an agency (申請): the only way an agency comes to ask the network about them.

In the real network an agency holds a resident's agency-specific code only for people who
applied to it or are its cases. Here a resident, logged in with the card, applies to an
agency for one of its tasks; the agency may then ask the broker about them for that task.
An agency's ask about anyone else is refused (`linkage_no_case`) and the refusal is logged
where the resident reads who asked about them (`/v1/me/linkage-log`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from actors.context import Ctx, call
from actors.models import ErrorOut, Model
from actors.routes_residents import Me

router = APIRouter(tags=["linkage"])
_ERRORS = {code: {"model": ErrorOut} for code in (401, 403, 404, 422, 503)}
_NAME = r"^[a-z][a-z0-9_.]{0,63}$"


class ApplicationIn(Model):
    """Which agency the resident applies to, for which of its tasks."""

    agency: str = Field(pattern=_NAME, max_length=64)
    task: str = Field(pattern=_NAME, max_length=64)


class ApplicationOut(Model):
    """The application on the agency's records (its internal number for the resident)."""

    agency: str
    task: str
    resident_id: int
    internal_number: int


@router.post("/v1/me/linkage/applications", response_model=ApplicationOut, status_code=201, responses=_ERRORS,
             summary="Apply to an agency for one of its tasks (the agency may then ask the network about me)")
async def apply(body: ApplicationIn, me: Me, c: Ctx) -> dict[str, Any]:
    """201 with the agency's internal number; 404 an unknown agency; 422 a task the agency does not run."""
    c.require("linkage")
    return await call(c.linkage.open_case.remote(body.agency, int(me["resident_id"]), body.task))
