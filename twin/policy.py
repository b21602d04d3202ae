"""The seven-point review (検討の視点) of a rollout design, per enabled service, from the report's tables.

`review(design, city)` evaluates twin/policy_data/services.toml (chapter 3's seven points and
chapter 4's table per service) for a design and a city, and returns a frozen `Review`: for
each enabled service its legal status with the articles, the ordinances to enact, systems,
process changes, safety measures and whether a PIA is required, the impact on residents
(how many hold no card and whether the design gives them a path), other points (fees to the
card agency, publicity), and the refusals that make a design unacceptable, each with the
place in the report it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twin.design import SERVICE_KEYS, Design
from twin.policy_context import CityFacts, city_facts, holds, policy_context, render
from twin.policy_rules import LEGAL_STATUSES, POINTS, ROW_TABLES, policy_data


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the checklist: its point (1-7), what it says, and where in the report."""

    point: int
    text: str
    ref: str
    basis: str = "report"  # "report": a sentence of the report; "reading": the project's reading
    item: str = ""  # the ordinance / system key the line is about, if any


@dataclass(frozen=True, slots=True)
class Refusal:
    """A rule the design breaks: which service, which rule, why, and where in the report."""

    service: str
    rule: str
    reason: str
    ref: str


@dataclass(frozen=True, slots=True)
class ServiceReview:
    """The seven points for one enabled service."""

    service: str
    name: str
    name_ja: str
    start_fiscal_year: int
    legal_status: str  # allowed | ordinance | not_allowed
    articles: tuple[str, ...]
    ordinances: tuple[str, ...]  # keys of [ordinances] in the review data
    systems: tuple[str, ...]  # keys of [systems]
    spi_file: bool  # a specific-personal-information file (特定個人情報ファイル) is held
    card_needed: bool
    non_card_path: str  # what residents without a card use ("" when none is given)
    residents_without_card: int  # of this city, who need that path (0 when no card is needed)
    agency_fees: tuple[str, ...]  # fee lines to the card agency (J-LIS), e.g. "jlis_app_system"
    publicity: bool  # the service needs a publicity campaign
    findings: tuple[Finding, ...]
    refusals: tuple[Refusal, ...]

    @property
    def pia_required(self) -> bool:
        """A PIA is required exactly when a specific-personal-information file is held."""
        return self.spi_file

    @property
    def number_ordinances(self) -> tuple[str, ...]:
        """The ordinances under the My Number Act / Basic Resident Registers Act this service needs."""
        kinds = policy_data()["ordinances"]
        return tuple(o for o in self.ordinances if kinds[o]["kind"] == "number")

    def point(self, n: int) -> tuple[Finding, ...]:
        """The findings of checklist point `n`."""
        return tuple(f for f in self.findings if f.point == n)


@dataclass(frozen=True, slots=True)
class CostSummary:
    """Yen figures the review can price from the design's unit costs (assumptions flagged there)."""

    system_changes_yen: int
    public_kiosks_yen: int
    kiosk_upkeep_yen_per_year: int
    shelter_readers_yen: int
    card_agency_fees_yen_per_year: int
    publicity_yen_per_year: int


@dataclass(frozen=True)
class Review:
    """The whole review of a design for a city, with totals across services."""

    design: str
    city: CityFacts
    services: tuple[ServiceReview, ...]
    disabled: tuple[str, ...]
    common: tuple[Finding, ...]
    ordinances_to_enact: tuple[str, ...]
    pias_needed: tuple[str, ...]
    systems_touched: tuple[str, ...]
    residents_on_non_card_path: int
    residents_on_non_card_path_at_target: int
    costs: CostSummary
    refusals: tuple[Refusal, ...]

    @property
    def refused(self) -> bool:
        """Whether the design breaks any rule."""
        return bool(self.refusals)

    def service(self, key: str) -> ServiceReview:
        """The review of enabled service `key`."""
        for s in self.services:
            if s.service == key:
                return s
        raise KeyError(f"service {key!r} is not enabled in design {self.design!r}; enabled: {[s.service for s in self.services]}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: services keyed by the design file's service keys."""
        from twin.policy_report import review_dict

        return review_dict(self)


def review(design: Design, city: Any = None) -> Review:
    """Review `design` for `city` (a preset name, CityPreset or built City; default: the design's city)."""
    facts = city_facts(design.city if city is None else city)
    ctx = policy_context(design, facts)
    data = policy_data()
    services = tuple(_review_service(design, key, data["services"][key], ctx) for key in design.enabled_services())
    common = tuple(_finding(row["point"], row, ctx) for row in data.get("common", []) if holds(row.get("when", []), ctx))
    city_ords = tuple(r["ordinance"] for r in data.get("common", []) if "ordinance" in r)
    card_users = any(s.card_needed for s in services)
    return Review(
        design=design.name,
        city=facts,
        services=services,
        disabled=tuple(k for k in SERVICE_KEYS if k not in design.enabled_services()),
        common=common,
        ordinances_to_enact=_unique((*(o for s in services for o in s.ordinances), *city_ords)),
        pias_needed=tuple(s.service for s in services if s.pia_required),
        systems_touched=_unique(x for s in services for x in s.systems),
        residents_on_non_card_path=facts.residents_without_card if card_users else 0,
        residents_on_non_card_path_at_target=ctx["city.residents_without_card_at_target"] if card_users else 0,
        costs=_costs(design, facts, services, ctx),
        refusals=tuple(r for s in services for r in s.refusals),
    )


def _unique(items: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _finding(point: int, row: dict[str, Any], ctx: dict[str, Any], **extra: Any) -> Finding:
    return Finding(
        point=point,
        text=render(row["text"], ctx, **extra),
        ref=row["ref"],
        basis=row.get("basis", "report"),
        item=row.get("ordinance") or row.get("system") or "",
    )


def _review_service(design: Design, key: str, svc: dict[str, Any], ctx: dict[str, Any]) -> ServiceReview:
    """The seven points of one service: the rows whose conditions hold, gathered by point."""
    rows = {t: [r for r in svc.get(t, []) if holds(r.get("when", []), ctx)] for t in ROW_TABLES}
    findings = [_finding(ROW_TABLES[t], r, ctx) for t in ROW_TABLES for r in rows[t]]
    card_needed, path, ncp_finding = _non_card_path(svc["non_card_path"], ctx)
    findings.append(ncp_finding)
    findings.sort(key=lambda f: f.point)
    statuses = [r["status"] for r in rows["legal"] if "status" in r]
    refusals = [
        Refusal(key, r["rule"], render(r["reason"], ctx), r["ref"]) for r in svc.get("refuse", []) if holds(r["when"], ctx)
    ]
    if card_needed and not path:
        refusals.append(_no_path_refusal(key, svc, ctx))
    return ServiceReview(
        service=key,
        name=svc["name"],
        name_ja=svc["name_ja"],
        start_fiscal_year=design.service_start_year(key),
        legal_status=max(statuses, key=LEGAL_STATUSES.index),
        articles=_unique(a for r in rows["legal"] for a in r.get("articles", [])),
        ordinances=_unique(r["ordinance"] for r in rows["ordinances"] if "ordinance" in r),
        systems=_unique(r["system"] for r in rows["systems"]),
        spi_file=any(r.get("spi_file", False) for r in rows["safety"]),
        card_needed=card_needed,
        non_card_path=path,
        residents_without_card=ctx["city.residents_without_card"] if card_needed else 0,
        agency_fees=_unique(r["agency_fee"] for r in rows["other"] if r.get("agency_fee")),
        publicity=any(r.get("publicity", False) for r in rows["other"]),
        findings=tuple(findings),
        refusals=tuple(refusals),
    )


def _non_card_path(ncp: dict[str, Any], ctx: dict[str, Any]) -> tuple[bool, str, Finding]:
    """Whether a card is needed, the path the design gives non-holders ("" if none), and the point-6 line."""
    tmpl = policy_data()["non_card_template"]
    row = {"ref": ncp["ref"], "basis": ncp.get("basis", "report")}
    if not ncp["card_needed"]:
        return False, "", _finding(6, {**row, "text": tmpl["not_needed"]}, ctx, why=render(ncp["why"], ctx))
    given = holds(ncp["given_when"], ctx)
    path = render(ncp["path"], ctx) if given else ""
    shown = path or f"{ncp['offer']}, which this design does not give"
    return True, path, _finding(6, {**row, "text": tmpl["needed"]}, ctx, path=shown)


def _no_path_refusal(key: str, svc: dict[str, Any], ctx: dict[str, Any]) -> Refusal:
    """The refusal for a card-only service: who is left out and which design field would fix it."""
    ncp = svc["non_card_path"]
    fix = "; ".join(f"{c['key']} {_op_words(c)}" for c in ncp["given_when"])
    reason = (
        f"{svc['name']} has no path for residents without a card ({ctx['city.residents_without_card']:,} in {ctx['city.name']}): "
        f"the card is optional, so give them {ncp['offer']} (set {fix})."
    )
    return Refusal(key, "no_non_card_path", reason, ncp["ref"])


def _op_words(cond: dict[str, Any]) -> str:
    (op, want), = ((k, v) for k, v in cond.items() if k != "key")
    words = {"equals": "=", "not_equals": "!=", "at_least": ">=", "at_most": "<=", "contains": "to include", "not_contains": "to exclude"}
    shown = str(want).lower() if isinstance(want, bool) else repr(want) if isinstance(want, str) else want
    return f"{words.get(op, op)} {shown}"


def _costs(design: Design, city: CityFacts, services: tuple[ServiceReview, ...], ctx: dict[str, Any]) -> CostSummary:
    """Price the review's counts with the design's unit costs."""
    c = design.costs
    kiosks = ctx["certificates.public_kiosks"] if design.certificates.enabled else 0
    readers = city.shelters * design.safety.readers_per_shelter if design.safety.enabled else 0
    fee_lines = _unique(f for s in services for f in s.agency_fees)
    publicised = sum(1 for s in services if s.publicity)
    systems = policy_data()["systems"]
    return CostSummary(
        system_changes_yen=len(_unique(x for s in services for x in s.systems if systems[x]["change"])) * c.system_change_yen,
        public_kiosks_yen=kiosks * c.public_kiosk_yen,
        kiosk_upkeep_yen_per_year=kiosks * c.kiosk_upkeep_yen_per_year,
        shelter_readers_yen=readers * c.card_reader_yen,
        card_agency_fees_yen_per_year=len(fee_lines) * c.card_agency_fee_yen_per_year,
        publicity_yen_per_year=publicised * c.publicity_yen_per_year,
    )


def point_names() -> dict[int, str]:
    """The seven points by number."""
    return dict(POINTS)


__all__ = ["CityFacts", "CostSummary", "Finding", "Refusal", "Review", "ServiceReview", "point_names", "review"]
