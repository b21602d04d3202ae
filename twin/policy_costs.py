"""The review's costs: yen totals (CostSummary) and priced lines per service with their bases (CostLine).

Every figure comes from the design's unit costs (`[costs]`, each marked as an assumption in
`run.py design fields`); the card agency's (J-LIS) fees are one yearly figure per fee line
plus one per app install, the same figures the one-card service uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twin.design import Design, design_fields
from twin.policy_basis import Basis
from twin.policy_benefits import app_installs, horizon, timeline_years
from twin.policy_context import CityFacts
from twin.policy_rules import policy_data


def _unique(items: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True, slots=True)
class CostLine:
    """One priced line: which service, what, yen once and per year, over the timeline, and its basis."""

    service: str
    item: str
    yen_once: int
    yen_per_year: int
    years: int  # years the yearly cost runs within the timeline
    basis: Basis

    @property
    def yen_over_timeline(self) -> int:
        """One-off cost plus the yearly cost over the service's years in the timeline."""
        return self.yen_once + self.yen_per_year * self.years


@dataclass(frozen=True, slots=True)
class CostSummary:
    """Yen figures the review can price from the design's unit costs (assumptions flagged there)."""

    system_changes_yen: int
    public_kiosks_yen: int
    kiosk_upkeep_yen_per_year: int
    shelter_readers_yen: int
    card_agency_fees_yen_per_year: int
    publicity_yen_per_year: int
    card_agency_install_fees_yen: int = 0


def cost_summary(design: Design, city: CityFacts, services: tuple[Any, ...], ctx: dict[str, Any]) -> CostSummary:
    """Price the review's counts with the design's unit costs (services: the ServiceReviews)."""
    c = design.costs
    kiosks = ctx["certificates.public_kiosks"] if design.certificates.enabled else 0
    readers = city.shelters * design.safety.readers_per_shelter if design.safety.enabled else 0
    fee_lines = _unique(f for s in services for f in s.agency_fees)
    publicised = sum(1 for s in services if s.publicity)
    systems = policy_data()["systems"]
    end = design.rollout.card_ownership_in(horizon(design), city.card_ownership)
    return CostSummary(
        system_changes_yen=len(_unique(x for s in services for x in s.systems if systems[x]["change"])) * c.system_change_yen,
        public_kiosks_yen=kiosks * c.public_kiosk_yen,
        kiosk_upkeep_yen_per_year=kiosks * c.kiosk_upkeep_yen_per_year,
        shelter_readers_yen=readers * c.card_reader_yen,
        card_agency_fees_yen_per_year=len(fee_lines) * c.card_agency_fee_yen_per_year,
        publicity_yen_per_year=publicised * c.publicity_yen_per_year,
        card_agency_install_fees_yen=app_installs(design, city, end) * c.card_agency_fee_yen_per_install if fee_lines else 0,
    )


def cost_lines(design: Design, city: CityFacts, services: tuple[Any, ...], ctx: dict[str, Any]) -> tuple[CostLine, ...]:
    """The costs per service (a system or fee line shared by two services is charged to the first)."""
    c, systems = design.costs, policy_data()["systems"]
    src = {f.key: f.source for f in design_fields()}

    def assumed(*keys: str) -> Basis:
        return Basis("assumption", source="; ".join(f"{k}: {src.get(k) or 'design value'}" for k in keys))

    out: list[CostLine] = []
    seen_sys: set[str] = set()
    seen_fee: set[str] = set()
    end = design.rollout.card_ownership_in(horizon(design), city.card_ownership)
    for s in services:
        years = len(timeline_years(design, s.start_fiscal_year))
        changed = [x for x in s.systems if systems[x]["change"] and x not in seen_sys]
        seen_sys.update(changed)
        if changed:
            out.append(CostLine(s.service, f"{len(changed)} system(s) built or changed", len(changed) * c.system_change_yen, 0, years, assumed("costs.system_change_yen")))
        if s.service == "certificates" and ctx["certificates.public_kiosks"]:
            k = ctx["certificates.public_kiosks"]
            out.append(CostLine(s.service, f"{k} public kiosks", k * c.public_kiosk_yen, k * c.kiosk_upkeep_yen_per_year, years, assumed("costs.public_kiosk_yen", "costs.kiosk_upkeep_yen_per_year")))
        if s.service == "safety":
            n = city.shelters * design.safety.readers_per_shelter
            out.append(CostLine(s.service, f"{n:,} shelter readers", n * c.card_reader_yen, 0, years, assumed("costs.card_reader_yen")))
        new_fees = [f for f in s.agency_fees if f not in seen_fee]
        seen_fee.update(new_fees)
        if new_fees:
            installs = app_installs(design, city, end)
            out.append(CostLine(s.service, f"card agency (J-LIS) fees: {len(new_fees)} line(s), {installs:,} app installs", installs * c.card_agency_fee_yen_per_install,
                                len(new_fees) * c.card_agency_fee_yen_per_year, years, assumed("costs.card_agency_fee_yen_per_year", "costs.card_agency_fee_yen_per_install")))
        if s.publicity:
            out.append(CostLine(s.service, "publicity", 0, c.publicity_yen_per_year, years, assumed("costs.publicity_yen_per_year")))
    return tuple(out)
