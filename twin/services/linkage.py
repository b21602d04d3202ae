"""Linkage without attachments (情報連携による添付書類の省略): the broker and the intermediate servers.

Agencies know a resident only by their agency-specific code (機関別符号); the broker (the
information provision network, 情報提供ネットワークシステム) alone maps one agency's code to
another's, checks every request against the permission table, and logs every exchange so the
resident can read it on the portal. Copies (副本) wait on each body's intermediate server.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import polars as pl

from twin.errors import Forbidden, NotFound, ValidationError
from twin.events import Event, EventLog
from twin.ids import format_my_number
from twin.services.linkage_messages import (
    AgencyCode,
    LinkageRequest,
    LinkageResponse,
    Scalar,
    check_item,
    check_value,
)
from twin.services.linkage_tables import LinkageScope, PermissionTable

DISCLOSURE_KIND = "portal"


class NotPermitted(Forbidden):
    """A linkage request outside the permission table, or for a task no ordinance enables."""

    code = "linkage_not_permitted"


class NoCase(Forbidden):
    """A request about a resident the requesting agency has no application or case for."""

    code = "linkage_no_case"


class UnknownCode(NotFound):
    """An agency-specific code the broker never issued to that agency."""

    code = "unknown_agency_code"


@dataclass(frozen=True, slots=True)
class LinkageExchanged(Event):
    """One exchange went through: requester, provider, task, items (no person key)."""

    request_id: int
    requester: str
    provider: str
    task: str
    items: tuple[str, ...]
    missing: tuple[str, ...]
    kind: ClassVar[str] = "linkage_exchanged"


@dataclass(frozen=True, slots=True)
class LinkageRefused(Event):
    """A request was refused and logged; `reason` says why."""

    requester: str
    provider: str
    task: str
    items: tuple[str, ...]
    reason: str
    kind: ClassVar[str] = "linkage_refused"


class IntermediateServer:
    """One body's intermediate server (中間サーバー): the copies its agencies offer, by code."""

    def __init__(self, body: str) -> None:
        self.body = body
        self._copies: dict[tuple[str, str], dict[str, tuple[Scalar, float]]] = {}

    def store(
        self, provider: str, codes: list[AgencyCode], item: str, values: list, now: float
    ) -> None:
        """Store (or replace) copies of one item for many residents."""
        if len(codes) != len(values):
            raise ValidationError(f"{len(codes)} codes but {len(values)} values for item {item!r}")
        shelf = self._copies.setdefault((provider, check_item(item)), {})
        for code, value in zip(codes, values, strict=True):
            shelf[code.value] = (check_value(item, value), float(now))

    def fetch(
        self, provider: str, code: AgencyCode, items: tuple[str, ...]
    ) -> tuple[tuple[tuple[str, Scalar], ...], tuple[str, ...]]:
        """The copies held for one resident: (item, value) pairs found, and items missing."""
        found, missing = [], []
        for item in items:
            hit = self._copies.get((provider, item), {}).get(code.value)
            if hit is None:
                missing.append(item)
            else:
                found.append((item, hit[0]))
        return tuple(found), tuple(missing)

    def copies(self, provider: str, item: str) -> int:
        """How many residents have a copy of this item from this provider."""
        return len(self._copies.get((provider, item), {}))


class Broker:
    """The information provision network: issues and converts codes, checks, logs."""

    def __init__(
        self,
        resident_ids: np.ndarray,
        my_numbers: np.ndarray,
        table: PermissionTable,
        scope: LinkageScope,
        master_key: bytes | None = None,
        events: EventLog | None = None,
    ) -> None:
        order = np.argsort(np.asarray(resident_ids, dtype=np.int64))
        self._rid = np.asarray(resident_ids, dtype=np.int64)[order]
        self._mn = np.asarray(my_numbers, dtype=np.int64)[order]
        self.table, self.scope = table, scope
        self.events = events if events is not None else EventLog()
        self._master = master_key if master_key is not None else os.urandom(32)
        self._organ_keys: dict[str, bytes] = {}
        self._pivots: dict[int, bytes] = {}
        self._by_code: dict[str, dict[str, int]] = {}  # organ -> code -> resident id
        self.servers: dict[str, IntermediateServer] = {}
        self._log: dict[str, list] = {k: [] for k in _LOG_COLUMNS}

    def server(self, body: str) -> IntermediateServer:
        """The intermediate server of a body (made on first use)."""
        return self.servers.setdefault(body, IntermediateServer(body))

    # --- codes ---------------------------------------------------------------------------------
    def _organ_key(self, organ: str) -> bytes:
        """The secret from which an organ's codes are derived (held by the broker only)."""
        if organ not in self._organ_keys:
            self._organ_keys[organ] = hmac.digest(
                self._master, b"organ:" + organ.encode(), hashlib.sha256
            )
        return self._organ_keys[organ]

    def _pivot(self, resident_id: int) -> bytes:
        """The broker-internal key of a person, from their My Number (never leaves the broker)."""
        hit = self._pivots.get(resident_id)
        if hit is not None:
            return hit
        i = int(np.searchsorted(self._rid, resident_id))
        if i >= self._rid.size or self._rid[i] != resident_id:
            raise NotFound(f"resident {resident_id} is not registered with the network")
        mn = format_my_number(int(self._mn[i])).encode()
        pivot = self._pivots[resident_id] = hmac.digest(
            self._master, b"person:" + mn, hashlib.sha256
        )
        return pivot

    def _code(self, organ: str, resident_id: int) -> AgencyCode:
        """An organ's code for a resident; remembered so the broker can convert it back."""
        code = AgencyCode.from_digest(
            hmac.digest(self._organ_key(organ), self._pivot(resident_id), hashlib.sha256)
        )
        self._by_code.setdefault(organ, {})[code.value] = int(resident_id)
        return code

    def issue_codes(self, agency: str, resident_ids: np.ndarray) -> list[AgencyCode]:
        """Codes for residents as `agency`'s organ knows them (符号の取得); divisions of one organ share them."""
        organ = self.table.agency(agency).organ
        return [self._code(organ, int(r)) for r in np.asarray(resident_ids, dtype=np.int64)]

    def _resolve(self, agency: str, code: AgencyCode) -> int:
        """The resident behind an agency's code (broker-internal only)."""
        organ = self.table.agency(agency).organ
        rid = self._by_code.get(organ, {}).get(code.value)
        if rid is None:
            raise UnknownCode(
                f"{code!r} was never issued to {agency} ({organ}); obtain the code first"
            )
        return rid

    # --- exchanges -----------------------------------------------------------------------------
    def permits(self, requester: str, task: str, item: str, provider: str) -> str | None:
        """Why the exchange would be refused, or None if the table and the scope allow it."""
        perm = self.table.find(requester, task, item, provider)
        if perm is None:
            return f"outside the permission table: {requester} may not ask {provider} for {item} for {task}"
        if not self.table.enabled(perm, self.scope):
            need = "an Art. 9(2)" if perm.basis == "ordinance_9_2" else "an Art. 19(9)"
            return f"{task} is not enabled by the city's ordinances ({need} ordinance is needed)"
        return None

    def request(self, req: LinkageRequest, now: float) -> LinkageResponse:
        """Answer a request from the provider's copies, or refuse and log why."""
        if not isinstance(req, LinkageRequest):
            raise ValidationError(
                f"the network carries LinkageRequest only, got {type(req).__name__}"
            )
        rid = None
        try:
            for who in (req.requester, req.provider):
                self.table.agency(who)
            rid = self._resolve(req.requester, req.subject)
            reasons = [
                r
                for r in (self.permits(req.requester, req.task, i, req.provider) for i in req.items)
                if r
            ]
            if reasons:
                raise NotPermitted(
                    reasons[0] + (f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else "")
                )
        except (NotFound, NotPermitted) as e:
            self._refuse(req, rid, str(e), now)
            raise
        return self._provide(req, rid, now)

    def _provide(self, req: LinkageRequest, rid: int, now: float) -> LinkageResponse:
        """Convert the code, read the copies, log the exchange, answer under the requester's code."""
        provider = self.table.agency(req.provider)
        their_code = self._code(provider.organ, rid)
        values, missing = self.server(provider.body).fetch(req.provider, their_code, req.items)
        request_id = len(self._log["request_id"]) + 1
        bases = {self.table.find(req.requester, req.task, i, req.provider).basis for i in req.items}
        self._append_log(rid, request_id, now, req, ",".join(sorted(bases)), "provided")
        self.events.append(
            LinkageExchanged(
                now, request_id, req.requester, req.provider, req.task, req.items, missing
            )
        )
        return LinkageResponse(
            request_id, req.requester, req.provider, req.task, req.subject, values, missing, now
        )

    def _refuse(self, req: LinkageRequest, rid: int | None, reason: str, now: float) -> None:
        """Log a refused request (shown to the resident when the code was known)."""
        self._log_refusal(req.requester, req.provider, req.task, req.items, rid, reason, now)

    def refuse_uncased(
        self, requester: str, provider: str, task: str, items: tuple[str, ...], resident_id: int,
        now: float,
    ) -> NoCase:
        """Log (for the resident to see) an ask about a resident the requester has no case of; the refusal."""
        err = NoCase(
            f"{requester} has no application or case of this resident for {task}; an agency asks "
            "only about residents it serves"
        )
        self._log_refusal(requester, provider, task, tuple(items), int(resident_id), str(err), now)
        return err

    def _log_refusal(
        self, requester: str, provider: str, task: str, items: tuple[str, ...], rid: int | None,
        reason: str, now: float,
    ) -> None:
        row = (requester, provider, task, ",".join(items), "", "refused: " + reason)
        self._append_row(rid, len(self._log["request_id"]) + 1, now, row)
        self.events.append(LinkageRefused(now, requester, provider, task, items, reason))

    def _append_log(
        self,
        rid: int | None,
        request_id: int,
        now: float,
        req: LinkageRequest,
        basis: str,
        outcome: str,
    ) -> None:
        """One row of the exchange record (情報提供等記録)."""
        what = (req.requester, req.provider, req.task, ",".join(req.items), basis, outcome)
        self._append_row(rid, request_id, now, what)

    def _append_row(self, rid: int | None, request_id: int, now: float, what: tuple) -> None:
        row = (rid, request_id, float(now), *what)
        for col, value in zip(_LOG_COLUMNS, row, strict=True):
            self._log[col].append(value)

    # --- the record of exchanges ---------------------------------------------------------------
    def disclosure(self, agency: str, code: AgencyCode, now: float) -> pl.DataFrame:
        """The exchanges about one resident, for the portal only (Art. 23 disclosure)."""
        if self.table.agency(agency).kind != DISCLOSURE_KIND:
            raise Forbidden(
                f"{agency} may not read the exchange record; only the portal discloses it to the resident"
            )
        rid = self._resolve(agency, code)
        frame = self.exchange_frame(with_person=True).filter(pl.col("person") == rid).drop("person")
        names = {a.agency: a.name for a in self.table.agencies.values()}
        return frame.with_columns(
            requester_name=pl.col("requester").replace_strict(names, default=None),
            provider_name=pl.col("provider").replace_strict(names, default=None),
        )

    def exchange_frame(self, with_person: bool = False) -> pl.DataFrame:
        """Every logged exchange and refusal (the person column only on request, internally)."""
        frame = pl.DataFrame(self._log, schema=_LOG_SCHEMA)
        return frame if with_person else frame.drop("person")


_LOG_SCHEMA = {
    "person": pl.Int64,
    "request_id": pl.Int64,
    "at": pl.Float64,
    "requester": pl.Utf8,
    "provider": pl.Utf8,
    "task": pl.Utf8,
    "items": pl.Utf8,
    "basis": pl.Utf8,
    "outcome": pl.Utf8,
}
_LOG_COLUMNS = tuple(_LOG_SCHEMA)
