"""Applications and their attachment certificates (添付書類), and which ones linkage removes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import polars as pl

from twin.errors import NotFound, ValidationError
from twin.events import Event, EventLog
from twin.services._checks import read_table
from twin.services.linkage_messages import Scalar, check_name
from twin.services.linkage_network import LinkageNetwork
from twin.services.linkage_tables import LinkageScope, PermissionTable

CHANNELS = ("counter", "portal", "kiosk", "mail")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A certificate an application needs, and the data item that could replace it."""

    application: str
    receiver: str  # the agency that receives the application
    certificate: str
    copies: int
    item: str  # "" when no agency holds the data (e.g. an employment certificate)
    provider: str
    provider_external: str  # who holds it when the data is not the city's ("" if always the city's)
    issued_by: str
    fee_type: str  # the ledger's fee type of a city certificate ("" when the city issues none)
    source: str


@lru_cache(maxsize=1)
def attachments() -> tuple[Attachment, ...]:
    """Every (application, certificate) row of calibration/data/linkage_applications.csv."""
    table = PermissionTable.load()
    out = []
    for row in read_table("linkage_applications.csv"):
        a = Attachment(**{**row, "copies": int(row["copies"])})
        check_name("application", a.application)
        table.agency(a.receiver)
        for who in (a.provider, a.provider_external):
            if who:
                table.agency(who)
        if a.copies < 1 or (a.item and not a.provider):
            raise ValidationError(
                f"linkage_applications.csv: bad row for {a.application}/{a.certificate}"
            )
        out.append(a)
    return tuple(out)


def applications() -> tuple[str, ...]:
    """The application types, in file order."""
    return tuple(dict.fromkeys(a.application for a in attachments()))


def _rows(application: str) -> list[Attachment]:
    """The attachment rows of one application type (unknown types are refused)."""
    rows = [a for a in attachments() if a.application == application]
    if not rows:
        raise NotFound(f"unknown application {application!r}; known: {', '.join(applications())}")
    return rows


def usable(att: Attachment, provider: str, table: PermissionTable, scope: LinkageScope) -> bool:
    """Whether the receiver may ask `provider` for this attachment's data in this scope."""
    perm = (
        table.find(att.receiver, att.application, att.item, provider)
        if att.item and provider
        else None
    )
    return perm is not None and table.enabled(perm, scope)


def holder(att: Attachment, held_elsewhere: bool) -> str:
    """Who holds the data: the city's provider, or the external one for a resident whose data is elsewhere."""
    return att.provider_external if held_elsewhere and att.provider_external else att.provider


def certificates_avoided(
    enabled_tasks: Iterable[str],
    external_tasks: Iterable[str] = (),
    held_elsewhere: bool = False,
    table: PermissionTable | None = None,
) -> pl.DataFrame:
    """Per application and certificate: copies needed and copies linkage avoids.

    `enabled_tasks` are the tasks the city's ordinances enable inside the city (庁内連携),
    `external_tasks` those enabled for exchanges with other authorities (規則連携); statutory
    external exchanges need no city ordinance. `held_elsewhere` models a resident whose data
    another authority holds (moved in this year, family register kept elsewhere).
    """
    table = table or PermissionTable.load()
    scope = LinkageScope.of(enabled_tasks, external_tasks)
    unknown = sorted((scope.internal_tasks | scope.external_tasks) - set(applications()))
    if unknown:
        raise ValidationError(
            f"unknown linkage task {unknown[0]!r}; known: {', '.join(applications())}"
        )
    rows = []
    for a in attachments():
        covered = usable(a, holder(a, held_elsewhere), table, scope)
        rows.append(
            (
                a.application,
                a.certificate,
                a.issued_by,
                a.fee_type,
                a.copies,
                a.copies if covered else 0,
            )
        )
    return pl.DataFrame(
        rows,
        schema={
            "application": pl.Utf8,
            "certificate": pl.Utf8,
            "issued_by": pl.Utf8,
            "fee_type": pl.Utf8,
            "copies_needed": pl.Int64,
            "copies_avoided": pl.Int64,
        },
        orient="row",
    )


def avoided_per_application(
    enabled_tasks: Iterable[str], external_tasks: Iterable[str] = (), held_elsewhere: bool = False
) -> dict[str, dict[str, int]]:
    """For each application type, the certificate requests linkage avoids, by certificate type."""
    out: dict[str, dict[str, int]] = {app: {} for app in applications()}
    frame = certificates_avoided(enabled_tasks, external_tasks, held_elsewhere)
    for app, cert, avoided in frame.select(
        "application", "certificate", "copies_avoided"
    ).iter_rows():
        out[app][cert] = out[app].get(cert, 0) + avoided
    return out


def certificate_demand(
    filed: pl.DataFrame, enabled_tasks: Iterable[str], external_tasks: Iterable[str] = ()
) -> pl.DataFrame:
    """Certificate requests a batch of filed applications causes, with and without linkage.

    `filed` has an `application` column and optionally a boolean `held_elsewhere` column;
    the result has one row per certificate (with the ledger's fee type): needed, avoided,
    remaining.
    """
    if "application" not in filed.columns:
        raise ValidationError("filed applications need an 'application' column")
    unknown = set(filed["application"].unique().to_list()) - set(applications())
    if unknown:
        raise NotFound(
            f"unknown application(s) {sorted(unknown)}; known: {', '.join(applications())}"
        )
    if "held_elsewhere" not in filed.columns:
        filed = filed.with_columns(held_elsewhere=pl.lit(False))
    per = pl.concat(
        certificates_avoided(enabled_tasks, external_tasks, flag).with_columns(
            held_elsewhere=pl.lit(flag)
        )
        for flag in (False, True)
    )
    joined = filed.select("application", "held_elsewhere").join(
        per, on=["application", "held_elsewhere"]
    )
    return (
        joined.group_by("certificate", "fee_type")
        .agg(needed=pl.col("copies_needed").sum(), avoided=pl.col("copies_avoided").sum())
        .with_columns(remaining=pl.col("needed") - pl.col("avoided"))
        .sort("certificate")
    )


@dataclass(frozen=True, slots=True)
class ApplicationReceipt:
    """What filing gave: certificates linkage fetched, and those the resident must still bring."""

    application_id: int
    application: str
    resident_id: int
    channel: str
    fetched: tuple[str, ...]
    must_attach: tuple[tuple[str, int], ...]
    values: tuple[tuple[str, Scalar], ...]
    request_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ApplicationFiled(Event):
    """An application was filed; counts of certificates fetched by linkage and still needed."""

    application_id: int
    application: str
    resident_id: int
    channel: str
    fetched: int
    must_attach: int
    kind: ClassVar[str] = "application_filed"


class ApplicationDesk:
    """The receiving agency's desk: files an application, asking linkage for what it covers."""

    def __init__(self, network: LinkageNetwork, events: EventLog | None = None) -> None:
        self.network = network
        self.events = events if events is not None else EventLog()
        self._count = 0

    def file(
        self, resident_id: int, application: str, now: float, channel: str = "counter"
    ) -> ApplicationReceipt:
        """File one application; each covered attachment is fetched, the rest must be brought."""
        if channel not in CHANNELS:
            raise ValidationError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
        rows = _rows(application)
        fetched, bring, values, requests = [], [], [], []
        for a in rows:
            got = self._fetch(resident_id, a, now)
            if got is None:
                bring.append((a.certificate, a.copies))
            else:
                fetched.append(a.certificate)
                values.append((a.item, got[0]))
                requests.append(got[1])
        self._count += 1
        receipt = ApplicationReceipt(
            self._count,
            application,
            int(resident_id),
            channel,
            tuple(fetched),
            tuple(bring),
            tuple(values),
            tuple(requests),
        )
        self.events.append(
            ApplicationFiled(
                now,
                self._count,
                application,
                int(resident_id),
                channel,
                len(fetched),
                sum(c for _, c in bring),
            )
        )
        return receipt

    def _fetch(self, resident_id: int, a: Attachment, now: float) -> tuple[Scalar, int] | None:
        """The item's value and request id from the first provider holding it, or None."""
        broker = self.network.broker
        receiver = self.network.system(a.receiver)
        for provider in dict.fromkeys((a.provider, a.provider_external)):
            if not usable(a, provider, broker.table, broker.scope):
                continue
            if not receiver.has_case(resident_id, a.application):
                receiver.open_case(resident_id, a.application)  # the application makes them its case
            resp = receiver.ask(resident_id, a.application, (a.item,), provider, now)
            if resp.values:
                return resp.values[0][1], resp.request_id
        return None
