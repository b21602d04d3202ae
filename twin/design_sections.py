"""The plan-level sections of a rollout design (rollout plan, unit costs, national dependencies)
and the `Section` base every section shares; the nine service sections are in `twin.design_services`.

Every field carries its unit (in its name or its metadata) and its valid range; building a
section checks them, so a section that exists is valid. Service sections are keyed by the
service keys of SERVICES.md: onecard, linkage, certificates, vitals, portal, business,
safety, payments, faceid.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from twin.design_schema import (
    DesignError,
    Problem,
    check_value,
    count,
    flag,
    ints,
    real,
    specs_of,
    text,
)

POLICY_DATA = Path(__file__).resolve().parent / "policy_data"
SOKA_COUNTER_COST = "Soka City FY2020 actual, about ¥900 per certificate (FACTS.md)"
ASSUMED = "assumption (unverified)"
JLIS_FEE_ASSUMED = "assumption (unverified): the report says only that J-LIS's system brings fees (負担金, L425) and gives no figure"
DEPENDENCY_KEYS = ("free_area_apps", "portal_functions", "corporate_portal", "medical_number_use", "face_photo_access")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CERTIFICATE_TYPES = (
    "residence_record",
    "residence_record_items",
    "seal_registration",
    "tax_certificate",
    "family_register",
    "family_register_attachment",
)
ONECARD_APPS = ("library", "seal", "facility", "hospital", "points")
FEE_TYPES = (*CERTIFICATE_TYPES, "facility_booking", "bulky_waste")


@cache
def linkage_task_catalogue() -> dict[str, dict[str, Any]]:
    """The tasks a design may put under linkage, by key (twin/policy_data/linkage_tasks.toml)."""
    with open(POLICY_DATA / "linkage_tasks.toml", "rb") as fh:
        return tomllib.load(fh)["tasks"]


class Section:
    """Mixin: check every field on construction; subclasses add cross-field checks."""

    KEY: ClassVar[str] = ""

    def __post_init__(self) -> None:
        problems = []
        for spec in specs_of(type(self), self.KEY):
            canon, err = check_value(spec, getattr(self, spec.name))
            if err:
                problems.append(Problem(spec.key, err))
            elif canon is not getattr(self, spec.name):
                object.__setattr__(self, spec.name, canon)
        if not problems:
            problems = self.cross_problems()
        if problems:
            raise DesignError("design", problems)

    def cross_problems(self) -> list[Problem]:
        """Rules that tie two fields of this section together (none by default)."""
        return []

    def to_dict(self) -> dict[str, Any]:
        """The section as TOML-ready values (tuples become lists)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _plain(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def enabled_field() -> Any:
    """A service section's on/off switch."""
    return flag(False, "whether the city runs this service in the design")


def phase_field() -> Any:
    """A service section's rollout phase."""
    return count(1, 1, 10, "phase number", "rollout phase in which the service starts (1 = first entry of rollout.phase_fiscal_years)")


@dataclass(frozen=True)
class Rollout(Section):
    """The rollout plan: card-ownership target and the fiscal year each phase starts."""

    KEY: ClassVar[str] = "rollout"
    card_ownership_target_share: float = real(0.85, 0.0, 1.0, "share 0-1", "share of residents holding a valid card that the city aims for by target_fiscal_year")
    target_fiscal_year: int = count(2030, 2015, 2100, "fiscal year", "fiscal year by which the ownership target is reached")
    phase_fiscal_years: tuple[int, ...] = ints((2026,), 2015, 2100, "fiscal year", "fiscal year each rollout phase starts, strictly increasing")

    def cross_problems(self) -> list[Problem]:
        """Phases exist, increase strictly, and start no later than the target year."""
        ys = self.phase_fiscal_years
        if not ys:
            return [Problem("rollout.phase_fiscal_years", "expected at least one phase, got []")]
        if any(b <= a for a, b in zip(ys, ys[1:], strict=False)):
            return [Problem("rollout.phase_fiscal_years", f"expected strictly increasing fiscal years, got {list(ys)}")]
        if ys[0] > self.target_fiscal_year:
            return [Problem("rollout.target_fiscal_year", f"expected a year no earlier than the first phase ({ys[0]}), got {self.target_fiscal_year}")]
        return []

    def card_ownership_in(self, fiscal_year: int, current_share: float) -> float:
        """Ownership share in a fiscal year: linear from `current_share` at phase 1 to the target."""
        start, end = self.phase_fiscal_years[0], self.target_fiscal_year
        goal = max(current_share, self.card_ownership_target_share)
        if fiscal_year <= start:
            return current_share
        if fiscal_year >= end or end == start:
            return goal
        return current_share + (goal - current_share) * (fiscal_year - start) / (end - start)


@dataclass(frozen=True)
class Costs(Section):
    """Unit costs in yen that scenarios and the review price a design with."""

    KEY: ClassVar[str] = "costs"
    card_reader_yen: int = count(30_000, 0, 10_000_000, "yen per reader", "a shelter / school card reader with its tablet", ASSUMED)
    public_kiosk_yen: int = count(5_000_000, 0, 100_000_000, "yen per kiosk", "buying and installing one kiosk in a public building", ASSUMED)
    kiosk_upkeep_yen_per_year: int = count(600_000, 0, 100_000_000, "yen per kiosk per year", "maintenance and lease of one public kiosk", ASSUMED)
    staff_hour_yen: int = count(3_000, 0, 100_000, "yen per staff hour", "fully loaded cost of one hour of city staff", ASSUMED)
    card_agency_fee_yen_per_year: int = count(1_000_000, 0, 10_000_000_000, "yen per year", "the city's yearly share of the card agency's app-management system (J-LIS 負担金), per fee line; also used by the one-card service", JLIS_FEE_ASSUMED)
    card_agency_fee_yen_per_install: int = count(100, 0, 1_000_000, "yen per app install", "the card agency's charge per app written to a chip; also used by the one-card service", JLIS_FEE_ASSUMED)
    system_change_yen: int = count(30_000_000, 0, 10_000_000_000, "yen per system", "building or changing one system named by the review", ASSUMED)
    publicity_yen_per_year: int = count(5_000_000, 0, 10_000_000_000, "yen per year", "publicity for each enabled service (広報・周知)", ASSUMED)


def _met(what: str) -> Any:
    return text("", f"{what}: a date (YYYY-MM-DD) when it was or will be met, 'assumed' (assumed met, printed as an assumption), or '' (not met)")


@dataclass(frozen=True)
class Dependencies(Section):
    """Which national actions the design counts as done (the review's dependencies, services.toml)."""

    KEY: ClassVar[str] = "dependencies"
    free_area_apps: str = _met("the chip's free area open to city apps (report L83)")
    portal_functions: str = _met("the Mynaportal functions the nation was considering (report L756-759)")
    corporate_portal: str = _met("the national corporate portal (report L101-103)")
    medical_number_use: str = _met("the law change widening the My Number to vital records (report L613-614, L660-661)")
    face_photo_access: str = _met("access to the nationally held face photos (report L1131-1132)")

    def cross_problems(self) -> list[Problem]:
        """Each entry is '', 'assumed' or a real date."""
        out = []
        for key in DEPENDENCY_KEYS:
            v = getattr(self, key)
            if v in ("", "assumed"):
                continue
            try:
                ok = bool(_DATE.fullmatch(v)) and datetime.date.fromisoformat(v) is not None
            except ValueError:
                ok = False
            if not ok:
                out.append(Problem(f"dependencies.{key}", f"expected a date YYYY-MM-DD, 'assumed' or '', got {v!r}"))
        return out
