"""The report's main effects (主な効果) as quantities and yen, computed from the city and the design.

Each effect row of twin/policy_data/services.toml names a `measure` below (or says why the twin
cannot compute it). A measure is a quantity per year (or per disaster event) computed from the
city's population, the design's card-ownership path (`Rollout.card_ownership_in`) and the
figures in twin/policy_data/benefits.toml, each with its source and status; no scenario runs,
so the review stays fast. Over the design's timeline a yearly effect is summed from the
service's start year to the design's horizon at each year's ownership.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from twin.design import Design
from twin.errors import ValidationError
from twin.policy_basis import Basis
from twin.policy_context import CityFacts
from twin.services.onecard import OneCardCosts

BENEFITS_FILE = Path(__file__).resolve().parent / "policy_data" / "benefits.toml"
STATUSES = ("published", "assumption")


@cache
def benefit_values() -> dict[str, dict[str, Any]]:
    """The unit values and rates of benefits.toml, checked: value, unit, source, status."""
    with open(BENEFITS_FILE, "rb") as fh:
        values = tomllib.load(fh)["values"]
    for key, v in values.items():
        if not isinstance(v.get("value"), int | float) or not v.get("unit") or not v.get("source") or v.get("status") not in STATUSES:
            raise ValidationError(f"{BENEFITS_FILE.name}: values.{key} needs a number value, a unit, a source and a status in {STATUSES}")
    return values


@dataclass(frozen=True, slots=True)
class Measure:
    """How one effect is counted and valued."""

    unit: str
    figures: tuple[str, ...]  # keys of benefits.toml it uses
    count: Callable[[Design, CityFacts, float, dict[str, float]], float]  # (design, city, ownership, values) -> quantity
    value: Callable[[Design, dict[str, float]], tuple[float, str, bool]] | None = None  # yen per unit, label, assumed
    per_event: bool = False  # a quantity per disaster event, left out of yearly totals


def _holders(c: CityFacts, o: float) -> float:
    return c.population * o


def _old_cards(d: Design, c: CityFacts, o: float, v: dict[str, float]) -> float:
    apps = [a for a in d.onecard.apps if a != "points"]
    return _holders(c, o) * v["onecard_uptake_share"] * len(apps)


def _linked_certificates(d: Design, c: CityFacts, o: float, v: dict[str, float]) -> float:
    from twin.design import linkage_task_catalogue

    cat = linkage_task_catalogue()
    tasks = dict.fromkeys((*d.linkage.internal_tasks, *d.linkage.external_tasks))
    return c.population / 1000 * v["linkage_applications_per_1000_residents_per_year"] * sum(len(cat[t]["attachments"]) for t in tasks)


def _kiosk_certificates(d: Design, c: CityFacts, o: float, v: dict[str, float]) -> float:
    if not (d.certificates.store_kiosks or d.certificates.public_kiosks_per_ward):
        return 0.0
    return _holders(c, o) * v["certificate_requests_per_resident_per_year"] * v["kiosk_share_of_holder_requests"]


def _card_payments(d: Design, c: CityFacts, o: float, v: dict[str, float]) -> float:
    return _holders(c, o) * v["fee_payments_per_resident_per_year"] * v["card_payment_share_of_holders"]


def _evacuees_with_card(c: CityFacts, o: float, v: dict[str, float]) -> float:
    return c.population * v["evacuee_share"] * o


def _resident_hour(d: Design, v: dict[str, float]) -> tuple[float, str, bool]:
    return v["resident_yen_per_hour"], f"¥{v['resident_yen_per_hour']:,.0f} per resident hour", True


def _staff_hour(d: Design, v: dict[str, float]) -> tuple[float, str, bool]:
    return float(d.costs.staff_hour_yen), f"¥{d.costs.staff_hour_yen:,} per staff hour (costs.staff_hour_yen)", True


MEASURES: dict[str, Measure] = {
    "onecard_old_cards_replaced": Measure(
        "old city cards replaced by the card (held at the time)", ("onecard_uptake_share",), _old_cards
    ),
    "onecard_card_costs_saved": Measure(
        "old-card card-years of management saved per year",
        ("onecard_uptake_share",),
        _old_cards,
        lambda d, v: (float(OneCardCosts().old_card_manage_yen_per_year), f"¥{OneCardCosts().old_card_manage_yen_per_year} per old card per year (twin/services/onecard.py)", True),
    ),
    "linkage_certificates_avoided": Measure(
        "attachment certificates residents no longer fetch per year",
        ("linkage_applications_per_1000_residents_per_year", "counter_trip_minutes", "resident_yen_per_hour"),
        _linked_certificates,
        lambda d, v: (v["counter_trip_minutes"] / 60 * v["resident_yen_per_hour"], f"{v['counter_trip_minutes']:g} resident minutes at ¥{v['resident_yen_per_hour']:,.0f}/h per certificate", True),
    ),
    "linkage_issuance_cost_avoided": Measure(
        "certificates the city no longer issues per year",
        ("linkage_applications_per_1000_residents_per_year",),
        _linked_certificates,
        lambda d, v: (d.certificates.counter_cost_per_certificate_yen, f"¥{d.certificates.counter_cost_per_certificate_yen:,.0f} per counter certificate (certificates.counter_cost_per_certificate_yen)", False),
    ),
    "certificates_resident_hours_saved": Measure(
        "resident hours saved per year (kiosk instead of counter)",
        ("certificate_requests_per_resident_per_year", "kiosk_share_of_holder_requests", "counter_trip_minutes", "kiosk_trip_minutes"),
        lambda d, c, o, v: _kiosk_certificates(d, c, o, v) * (v["counter_trip_minutes"] - v["kiosk_trip_minutes"]) / 60,
        _resident_hour,
    ),
    "certificates_counter_cost_avoided": Measure(
        "certificates issued at kiosks instead of counters per year",
        ("certificate_requests_per_resident_per_year", "kiosk_share_of_holder_requests"),
        _kiosk_certificates,
        lambda d, v: (
            d.certificates.counter_cost_per_certificate_yen - d.certificates.kiosk_cost_per_certificate_yen,
            f"¥{d.certificates.counter_cost_per_certificate_yen:,.0f} counter − ¥{d.certificates.kiosk_cost_per_certificate_yen:,.0f} kiosk cost per certificate (the kiosk figure is an assumption)",
            True,
        ),
    ),
    "portal_counter_hours_saved": Measure(
        "counter staff hours saved per year by e-applications",
        ("online_applications_per_resident_per_year", "online_share_of_holders", "counter_minutes_per_application"),
        lambda d, c, o, v: (
            _holders(c, o) * v["online_applications_per_resident_per_year"] * v["online_share_of_holders"] * v["counter_minutes_per_application"] / 60
            if d.portal.e_applications
            else 0.0
        ),
        _staff_hour,
    ),
    "payments_resident_hours_saved": Measure(
        "resident hours saved per year paying by card",
        ("fee_payments_per_resident_per_year", "card_payment_share_of_holders", "resident_minutes_saved_per_card_payment"),
        lambda d, c, o, v: _card_payments(d, c, o, v) * v["resident_minutes_saved_per_card_payment"] / 60,
        _resident_hour,
    ),
    "payments_staff_hours_saved": Measure(
        "staff hours saved per year collecting fees",
        ("fee_payments_per_resident_per_year", "card_payment_share_of_holders", "staff_minutes_saved_per_card_payment"),
        lambda d, c, o, v: _card_payments(d, c, o, v) * v["staff_minutes_saved_per_card_payment"] / 60,
        _staff_hour,
    ),
    "safety_checkin_staff_hours_per_event": Measure(
        "shelter check-in staff hours saved per large disaster",
        ("evacuee_share", "paper_checkin_minutes", "card_checkin_minutes"),
        lambda d, c, o, v: _evacuees_with_card(c, o, v) * (v["paper_checkin_minutes"] - v["card_checkin_minutes"]) / 60,
        _staff_hour,
        per_event=True,
    ),
    "faceid_checks_per_event": Measure(
        "identity checks possible without documents per large disaster",
        ("evacuee_share", "lost_id_share_of_evacuees"),
        lambda d, c, o, v: _evacuees_with_card(c, o, v) * v["lost_id_share_of_evacuees"],
        per_event=True,
    ),
}


@dataclass(frozen=True, slots=True)
class Effect:
    """One main effect of a service: the report's words, and the twin's quantity and yen if it can compute them."""

    service: str
    text: str
    basis: Basis  # the report's words naming the effect
    measure: str  # "" when the twin cannot compute it
    unit: str = ""
    quantity_at_horizon: float = 0.0  # per year (or per event) at the design's horizon
    yen_per_unit: float | None = None
    valuation: str = ""  # the unit value in words, with its field or file
    yen_per_year_at_horizon: int | None = None
    yen_over_timeline: int | None = None  # summed from the service's start to the horizon (None per event)
    per_event: bool = False
    figures: tuple[str, ...] = ()  # benefits.toml keys used ("key (assumption)" / "key (published)")
    assumed: bool = False  # rests on at least one assumption
    not_computed: str = ""  # why the twin cannot compute it

    @property
    def computed(self) -> bool:
        """Whether the twin computes this effect."""
        return bool(self.measure)


def horizon(design: Design) -> int:
    """The last fiscal year of the design's timeline: its target year or last phase, whichever is later."""
    return max(design.rollout.target_fiscal_year, design.rollout.phase_fiscal_years[-1])


def timeline_years(design: Design, start_fiscal_year: int) -> list[int]:
    """The fiscal years a service runs within the timeline (start to horizon)."""
    return list(range(start_fiscal_year, horizon(design) + 1))


def effect(design: Design, city: CityFacts, service: str, start: int, row: dict[str, Any], basis: Basis) -> Effect:
    """The Effect of one data row for this design and city."""
    if not row.get("measure"):
        return Effect(service, row["text"], basis, "", not_computed=row["not_computed"])
    m = MEASURES[row["measure"]]
    vals = {k: float(v["value"]) for k, v in benefit_values().items()}
    own = [design.rollout.card_ownership_in(y, city.card_ownership) for y in timeline_years(design, start)]
    at_end = m.count(design, city, own[-1] if own else city.card_ownership, vals)
    figures = tuple(f"{k} = {vals[k]:g} ({benefit_values()[k]['status']})" for k in m.figures)
    assumed = any(benefit_values()[k]["status"] == "assumption" for k in m.figures)
    if m.value is None:
        return Effect(service, row["text"], basis, row["measure"], m.unit, at_end, per_event=m.per_event, figures=figures, assumed=assumed)
    unit_yen, label, value_assumed = m.value(design, vals)
    total = None if m.per_event else round(sum(m.count(design, city, o, vals) * unit_yen for o in own))
    return Effect(
        service, row["text"], basis, row["measure"], m.unit, at_end, unit_yen, label, round(at_end * unit_yen), total,
        m.per_event, figures, assumed or value_assumed,
    )


def app_installs(design: Design, city: CityFacts, ownership: float) -> int:
    """Apps written to chips by the design's free-area services at this ownership (for the J-LIS per-install fee)."""
    vals = {k: float(v["value"]) for k, v in benefit_values().items()}
    n = _old_cards(design, city, ownership, vals) if design.onecard.enabled and design.onecard.use_jlis_app_system else 0.0
    if design.payments.enabled and design.payments.uses_free_area_app:
        n += _holders(city, ownership) * vals["card_payment_share_of_holders"]
    return round(n)
