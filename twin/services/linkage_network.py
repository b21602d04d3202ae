"""The agencies' business systems on the network, and building a network for a city."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

from twin.errors import NotFound, ValidationError
from twin.events import EventLog
from twin.services.linkage import Broker
from twin.services.linkage_messages import AgencyCode, LinkageRequest, LinkageResponse
from twin.services.linkage_tables import Agency, LinkageScope, PermissionTable

INCOME_MEDIAN_YEN = 3_000_000  # assumption: synthetic taxable income, lognormal around ¥3 M
INCOME_SIGMA = 0.6  # assumption
SINGLE_PARENT_SHARE = 0.1  # assumption: share of households with children headed by one parent


class AgencySystem:
    """One agency's business system: residents under its internal numbers (宛名番号) and codes."""

    def __init__(self, agency: Agency, broker: Broker, cases_required: bool = False) -> None:
        self.agency = agency
        self.broker = broker
        self.cases_required = cases_required  # ask only about residents with a case here (the live service)
        self._internal: dict[int, int] = {}  # resident (as met at the counter) -> internal number
        self._codes: dict[int, AgencyCode] = {}  # internal number -> agency-specific code
        self._cases: dict[int, set[str]] = {}  # resident -> tasks they applied for or are a case of here

    def open_case(self, resident_id: int, task: str) -> int:
        """A resident applies to this agency for `task` (or becomes its case): enrolled; their internal number."""
        tasks = self.broker.table.tasks_of(self.agency.agency)
        if task not in tasks:
            raise ValidationError(f"{self.agency.agency} runs no task {task!r}; its tasks: "
                                  f"{', '.join(sorted(tasks)) or 'none'}")
        self._cases.setdefault(int(resident_id), set()).add(task)
        return int(self.enroll([int(resident_id)])[0])

    def has_case(self, resident_id: int, task: str) -> bool:
        """Whether the resident applied to this agency for `task` (or is its case)."""
        return task in self._cases.get(int(resident_id), ())

    def enroll(self, resident_ids: Iterable[int]) -> np.ndarray:
        """Give residents internal numbers and obtain their codes from the broker."""
        ids = np.asarray(
            list(resident_ids) if not isinstance(resident_ids, np.ndarray) else resident_ids,
            dtype=np.int64,
        )
        new = [int(r) for r in ids if int(r) not in self._internal]
        codes = self.broker.issue_codes(self.agency.agency, np.asarray(new, dtype=np.int64))
        for r, code in zip(new, codes, strict=True):
            internal = len(self._internal) + 1
            self._internal[r] = internal
            self._codes[internal] = code
        return np.fromiter((self._internal[int(r)] for r in ids), np.int64, ids.size)

    def internal_number(self, resident_id: int) -> int:
        """This agency's internal number for a resident it serves."""
        try:
            return self._internal[int(resident_id)]
        except KeyError:
            raise NotFound(
                f"resident {resident_id} is not on {self.agency.agency}'s records"
            ) from None

    def code_of(self, resident_id: int) -> AgencyCode:
        """This agency's code for a resident (enrolling them first if needed)."""
        if int(resident_id) not in self._internal:
            self.enroll([int(resident_id)])
        return self._codes[self._internal[int(resident_id)]]

    def offer(self, resident_ids: np.ndarray, item: str, values: list, now: float) -> None:
        """Put copies (副本) of one item on this body's intermediate server."""
        ids = np.asarray(resident_ids, dtype=np.int64)
        self.enroll(ids)
        codes = [self._codes[self._internal[int(r)]] for r in ids]
        self.broker.server(self.agency.body).store(
            self.agency.agency, codes, item, list(values), now
        )

    def ask(
        self, resident_id: int, task: str, items: tuple[str, ...], provider: str, now: float
    ) -> LinkageResponse:
        """Request items about a resident from another agency through the broker (refused and logged for the
        resident when cases are required and the resident has no application or case here for `task`)."""
        if self.cases_required and not self.has_case(resident_id, task):
            raise self.broker.refuse_uncased(self.agency.agency, provider, task, tuple(items),
                                             int(resident_id), now)
        req = LinkageRequest(
            self.agency.agency, provider, task, self.code_of(resident_id), tuple(items), now
        )
        return self.broker.request(req, now)


@dataclass
class LinkageNetwork:
    """The broker, its intermediate servers, and one business system per agency."""

    broker: Broker
    systems: dict[str, AgencySystem]

    @classmethod
    def build(
        cls,
        residents: pl.DataFrame,
        scope: LinkageScope,
        master_key: bytes | None = None,
        events: EventLog | None = None,
        table: PermissionTable | None = None,
        cases_required: bool = False,
    ) -> LinkageNetwork:
        """A network for a city's residents (columns resident_id, my_number); with `cases_required`,
        an agency asks only about residents who applied to it or are its cases (`open_case`)."""
        for col in ("resident_id", "my_number"):
            if col not in residents.columns:
                raise ValidationError(f"residents need a {col!r} column to build the network")
        table = table or PermissionTable.load()
        broker = Broker(
            residents["resident_id"].to_numpy(),
            residents["my_number"].to_numpy(),
            table,
            scope,
            master_key,
            events,
        )
        systems = {name: AgencySystem(a, broker, cases_required) for name, a in table.agencies.items()}
        return cls(broker, systems)

    def system(self, agency: str) -> AgencySystem:
        """The business system of `agency`."""
        try:
            return self.systems[agency]
        except KeyError:
            raise NotFound(
                f"unknown agency {agency!r}; known: {', '.join(sorted(self.systems))}"
            ) from None


def seed_copies(
    network: LinkageNetwork, residents: pl.DataFrame, rng: np.random.Generator, now: float
) -> None:
    """Fill the intermediate servers with synthetic copies for a city (assumptions above).

    Income: the city's tax division for residents with a tax record here; the previous
    municipality for other working-age adults (they moved in). Household composition: the
    resident records division. Family-register relation: the city if the register is kept
    here, else the Ministry of Justice system.
    """
    r = residents
    ids = r["resident_id"].to_numpy()
    age = r["age"].to_numpy()
    taxed = r["tax_record"].to_numpy()
    income = (
        np.round(rng.lognormal(np.log(INCOME_MEDIAN_YEN), INCOME_SIGMA, ids.size), -3)
    ).astype(np.int64)
    moved_in = ~taxed & (age >= 18) & (age < 80)
    network.system("city.tax").offer(ids[taxed], "resident_tax_income", income[taxed].tolist(), now)
    network.system("other.tax").offer(
        ids[moved_in], "resident_tax_income", income[moved_in].tolist(), now
    )
    size = r.select(pl.len().over("household_id"))[:, 0].to_numpy()
    network.system("city.resident_records").offer(
        ids, "household_composition", size.astype(np.int64).tolist(), now
    )
    relation = np.where(rng.random(ids.size) < SINGLE_PARENT_SHARE, "single_parent", "two_parents")
    here = r["family_register_here"].to_numpy()
    network.system("city.family_register").offer(
        ids[here], "family_register_relation", relation[here].tolist(), now
    )
    network.system("nat.moj").offer(
        ids[~here], "family_register_relation", relation[~here].tolist(), now
    )
