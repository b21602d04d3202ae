"""The agencies on the network and the permission table (情報連携の可否) that binds them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import polars as pl

from twin.errors import NotFound, ValidationError
from twin.services._checks import read_table
from twin.services.linkage_messages import FORBIDDEN_ITEM_WORDS, check_item, check_name

BASES = ("statutory", "ordinance_9_2", "ordinance_19_9")


@dataclass(frozen=True, slots=True)
class Agency:
    """An agency on the network: a division belongs to an organ (機関) of a body (団体)."""

    agency: str
    organ: str  # the agency-specific code is per organ: the mayor's divisions share one
    body: str  # city, other_municipality, national
    kind: str
    name: str
    name_ja: str


@dataclass(frozen=True, slots=True)
class Permission:
    """One row of the table: who may ask whom for which item, for which task, on what basis."""

    requester: str
    task: str
    item: str
    provider: str
    basis: str  # statutory, ordinance_9_2 (Art. 9(2)), ordinance_19_9 (Art. 19(9))
    source: str


@dataclass(frozen=True, slots=True)
class LinkageScope:
    """Which tasks the city's ordinances switch on: inside the city (庁内) and outside (規則連携)."""

    internal_tasks: frozenset[str]
    external_tasks: frozenset[str] = frozenset()

    @classmethod
    def of(cls, internal: Iterable[str], external: Iterable[str] = ()) -> LinkageScope:
        """A scope from plain task names (e.g. a design's linkage.internal_tasks)."""
        for task in (*internal, *external):
            check_name("task", task)
        return cls(frozenset(internal), frozenset(external))

    @classmethod
    def from_design(cls, section: Any) -> LinkageScope:
        """The scope of a design's `linkage` section (empty when the service is off)."""
        if not section.enabled:
            return cls(frozenset())
        return cls.of(section.internal_tasks, section.external_tasks)


def load_agencies() -> dict[str, Agency]:
    """The agencies of calibration/data/linkage_agencies.csv, by name."""
    out: dict[str, Agency] = {}
    for row in read_table("linkage_agencies.csv"):
        a = Agency(*(row[k] for k in ("agency", "organ", "body", "kind", "name", "name_ja")))
        check_name("agency", a.agency)
        if a.agency in out:
            raise ValidationError(f"linkage_agencies.csv: agency {a.agency!r} listed twice")
        out[a.agency] = a
    return out


class PermissionTable:
    """The permission table: a request is allowed only for a listed row in an enabled scope."""

    def __init__(self, agencies: dict[str, Agency], rows: Iterable[Permission]) -> None:
        self.agencies = dict(agencies)
        self._rows: dict[tuple[str, str, str, str], Permission] = {}
        for p in rows:
            self._check_row(p)
            self._rows[(p.requester, p.task, p.item, p.provider)] = p

    def tasks_of(self, requester: str) -> frozenset[str]:
        """The tasks `requester` asks for in the table (what it runs applications or cases for)."""
        return frozenset(task for (who, task, _, _) in self._rows if who == requester)

    @classmethod
    def load(cls) -> PermissionTable:
        """The table of calibration/data/linkage_permissions.csv."""
        return _default_table()

    def _check_row(self, p: Permission) -> None:
        """Refuse a row naming an unknown agency, a bad basis, or a basis that cannot apply."""
        where = f"permission {p.requester} -> {p.provider} ({p.task}, {p.item})"
        for who in (p.requester, p.provider):
            if who not in self.agencies:
                raise ValidationError(f"{where}: unknown agency {who!r}")
        check_name("task", p.task)
        check_name("item", p.item)
        if any(w in p.item for w in FORBIDDEN_ITEM_WORDS):
            raise ValidationError(f"{where}: the My Number itself is never a linkage item")
        check_item(p.item)
        if p.basis not in BASES:
            raise ValidationError(f"{where}: basis {p.basis!r} is not one of {', '.join(BASES)}")
        if p.basis != self.required_basis(p):
            raise ValidationError(
                f"{where}: basis {p.basis!r} cannot apply; this exchange needs "
                f"{self.required_basis(p)!r}"
            )

    def required_basis(self, p: Permission) -> str:
        """The basis an exchange between these two agencies can rest on."""
        req, prov = self.agencies[p.requester], self.agencies[p.provider]
        if req.body != prov.body:
            return "statutory" if p.basis == "statutory" else "ordinance_9_2"  # Act or 規則連携
        return "ordinance_9_2" if req.organ == prov.organ else "ordinance_19_9"

    def find(self, requester: str, task: str, item: str, provider: str) -> Permission | None:
        """The row allowing this exchange, if any."""
        return self._rows.get((requester, task, item, provider))

    def enabled(self, p: Permission, scope: LinkageScope) -> bool:
        """Whether the city's ordinances (the scope) switch this row on."""
        if self.agencies[p.requester].body == self.agencies[p.provider].body:
            return p.task in scope.internal_tasks
        return p.basis == "statutory" or p.task in scope.external_tasks

    def items(self) -> frozenset[str]:
        """Every data item the table names (the item catalogue)."""
        return frozenset(k[2] for k in self._rows)

    def tasks(self) -> frozenset[str]:
        """Every task the table names."""
        return frozenset(k[1] for k in self._rows)

    def agency(self, name: str) -> Agency:
        """The agency called `name`."""
        try:
            return self.agencies[name]
        except KeyError:
            raise NotFound(
                f"unknown agency {name!r}; known: {', '.join(sorted(self.agencies))}"
            ) from None

    def ordinances_needed(self, scope: LinkageScope) -> frozenset[str]:
        """The ordinance bases the enabled rows rest on (ordinance_9_2, ordinance_19_9)."""
        return frozenset(
            p.basis
            for p in self._rows.values()
            if self.enabled(p, scope) and p.basis != "statutory"
        )

    def frame(self) -> pl.DataFrame:
        """The table as a frame (one row per permission)."""
        cols = ("requester", "task", "item", "provider", "basis", "source")
        return pl.DataFrame([{c: getattr(p, c) for c in cols} for p in self._rows.values()])


@lru_cache(maxsize=1)
def _default_table() -> PermissionTable:
    """The shipped table, loaded once."""
    keys = ("requester", "task", "item", "provider", "basis", "source")
    rows = [Permission(*(r[k] for k in keys)) for r in read_table("linkage_permissions.csv")]
    return PermissionTable(load_agencies(), rows)
