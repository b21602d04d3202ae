"""The review of a rollout design, per enabled service, from the report's chapter-3 viewpoints and chapter-4 tables.

`review(design, city)` evaluates twin/policy_data/services.toml (chapter 3's six viewpoints,
L110-186, and chapter 4's table per service with its seven rows ①-⑦) for a design and a city,
and returns a frozen `Review`: for each enabled service its legal status with the articles
(numbered as at the legal baseline's date), the ordinances to enact, systems (by who runs
them), process changes, safety measures and whether a PIA is required, the impact on
residents (how many hold no card and whether the design gives them a path), other points
(fees to the card agency, publicity), the national dependencies it waits for, the report's
main effects beside the costs, and the refusals that make a design unacceptable. Every line
carries its basis (twin/policy_basis.py): the report's words, the project's reading, an
assumption or a law. The verdict is REFUSED (a rule broken), CONDITIONAL (a dependency
unmet) or ACCEPTED.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twin.design import SERVICE_KEYS, Design
from twin.policy_basis import Basis, basis_of
from twin.policy_benefits import Effect, effect, horizon
from twin.policy_context import CityFacts, city_facts, holds, policy_context, render
from twin.policy_costs import CostLine, CostSummary, cost_lines, cost_summary
from twin.policy_rules import LEGAL_STATUSES, POINTS, ROW_TABLES, policy_data

VERDICTS = ("ACCEPTED", "CONDITIONAL", "REFUSED")


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the checklist: its point (1-7), what it says, and what it rests on."""

    point: int
    text: str
    basis: Basis
    item: str = ""  # the ordinance / system key the line is about, if any

    @property
    def ref(self) -> str:
        """The report lines the finding cites or interprets."""
        return self.basis.ref


@dataclass(frozen=True, slots=True)
class Refusal:
    """A rule the design breaks: which service, which rule, why, and what the rule rests on."""

    service: str
    rule: str
    reason: str
    basis: Basis

    @property
    def ref(self) -> str:
        """The report lines the rule cites or interprets."""
        return self.basis.ref


@dataclass(frozen=True, slots=True)
class Dependency:
    """Action by others a service waits for, and whether the design counts it as done (and when)."""

    service: str
    key: str
    what: str
    who: str  # nation | other_local | private
    until: str  # completes "blocked until ..."
    basis: Basis
    met: str  # "" (not met), "assumed", or the date it is met (YYYY-MM-DD)
    blocked: bool  # not met, or met only after the service starts

    def status(self) -> str:
        """'met on DATE', 'assumed met (an assumption)', or 'blocked until ...'."""
        if self.blocked:
            late = f" (the design dates it {self.met}, after the service starts)" if self.met not in ("", "assumed") else ""
            return f"blocked until {self.until}{late}"
        return "assumed met (an assumption of the design)" if self.met == "assumed" else f"met on {self.met}"


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
    dependencies: tuple[Dependency, ...] = ()
    effects: tuple[Effect, ...] = ()
    not_modelled: tuple[Finding, ...] = ()  # scope the report names that the twin does not model
    proposals: int = 0  # proposals of this category among the report's 74 (counts of proposals, not cities)
    proposals_basis: Basis | None = None

    @property
    def blocked(self) -> tuple[Dependency, ...]:
        """The dependencies that block this service."""
        return tuple(d for d in self.dependencies if d.blocked)

    @property
    def status(self) -> str:
        """'allowed' etc., or 'blocked until ...' when a dependency is unmet."""
        if self.blocked:
            return "blocked until " + "; and ".join(d.until for d in self.blocked)
        return self.legal_status

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
    cost_lines: tuple[CostLine, ...] = ()
    horizon: int = 0  # the last fiscal year of the design's timeline

    @property
    def refused(self) -> bool:
        """Whether the design breaks any rule."""
        return bool(self.refusals)

    @property
    def conditions(self) -> tuple[Dependency, ...]:
        """The unmet dependencies of enabled services (they make the design CONDITIONAL)."""
        return tuple(d for s in self.services for d in s.blocked)

    @property
    def verdict(self) -> str:
        """REFUSED when a rule is broken, else CONDITIONAL when a dependency is unmet, else ACCEPTED."""
        return "REFUSED" if self.refused else "CONDITIONAL" if self.conditions else "ACCEPTED"

    @property
    def effects(self) -> tuple[Effect, ...]:
        """Every service's effects, in service order."""
        return tuple(e for s in self.services for e in s.effects)

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
    services = tuple(_review_service(design, facts, key, data["services"][key], ctx) for key in design.enabled_services())
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
        costs=cost_summary(design, facts, services, ctx),
        refusals=tuple(r for s in services for r in s.refusals),
        cost_lines=cost_lines(design, facts, services, ctx),
        horizon=horizon(design),
    )


def _unique(items: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _finding(point: int, row: dict[str, Any], ctx: dict[str, Any], **extra: Any) -> Finding:
    return Finding(
        point=point,
        text=render(row["text"], ctx, **extra),
        basis=basis_of(row),
        item=row.get("ordinance") or row.get("system") or "",
    )


def _review_service(design: Design, facts: CityFacts, key: str, svc: dict[str, Any], ctx: dict[str, Any]) -> ServiceReview:
    """The seven points of one service: the rows whose conditions hold, gathered by point."""
    rows = {t: [r for r in svc.get(t, []) if holds(r.get("when", []), ctx)] for t in ROW_TABLES}
    findings = [_finding(ROW_TABLES[t], r, ctx) for t in ROW_TABLES for r in rows[t]]
    card_needed, path, ncp_finding = _non_card_path(svc["non_card_path"], ctx)
    findings.append(ncp_finding)
    findings.sort(key=lambda f: f.point)
    statuses = [r["status"] for r in rows["legal"] if "status" in r]
    refusals = [
        Refusal(key, r["rule"], render(r["reason"], ctx), basis_of(r)) for r in svc.get("refuse", []) if holds(r["when"], ctx)
    ]
    if card_needed and not path:
        refusals.append(_no_path_refusal(key, svc, ctx))
    start = design.service_start_year(key)
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
        dependencies=tuple(_dependency(design, key, start, r) for r in svc.get("depends", []) if holds(r.get("when", []), ctx)),
        effects=tuple(effect(design, facts, key, start, r, basis_of(r)) for r in svc.get("effects", [])),
        not_modelled=tuple(Finding(0, r["text"], basis_of(r)) for r in svc.get("not_modelled", [])),
        proposals=svc["proposals"],
        proposals_basis=Basis("report", svc["proposals_ref"], svc["proposals_quote"]),
    )


def _dependency(design: Design, service: str, start: int, row: dict[str, Any]) -> Dependency:
    """A dependency of a service with the design's statement of it; blocked when unmet or met after the start."""
    dep = policy_data()["dependencies"][row["on"]]
    met = getattr(design.dependencies, row["on"])
    late = met not in ("", "assumed") and met > f"{start}-04-01"  # the fiscal year starts on 1 April
    return Dependency(service, row["on"], dep["what"], dep["who"], dep["until"], basis_of(dep), met, met == "" or late)


def _non_card_path(ncp: dict[str, Any], ctx: dict[str, Any]) -> tuple[bool, str, Finding]:
    """Whether a card is needed, the path the design gives non-holders ("" if none), and the point-6 line."""
    tmpl = policy_data()["non_card_template"]
    row = {k: ncp[k] for k in ("ref", "basis", "quote", "why", "source", "law") if k in ncp}
    if not ncp["card_needed"]:
        return False, "", _finding(6, {**row, "text": tmpl["not_needed"]}, ctx, reason=render(ncp["reason"], ctx))
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
    basis = Basis("reading", ncp["ref"], why="holding the card is optional (L420-421, L533, L568-569), so a card-only service must give non-holders another way; the path named is the report's or the project's as the point-6 line says.")
    return Refusal(key, "no_non_card_path", reason, basis)


def _op_words(cond: dict[str, Any]) -> str:
    (op, want), = ((k, v) for k, v in cond.items() if k != "key")
    words = {"equals": "=", "not_equals": "!=", "at_least": ">=", "at_most": "<=", "contains": "to include", "not_contains": "to exclude"}
    shown = str(want).lower() if isinstance(want, bool) else repr(want) if isinstance(want, str) else want
    return f"{words.get(op, op)} {shown}"


def point_names() -> dict[int, str]:
    """The seven points by number."""
    return dict(POINTS)


__all__ = ["VERDICTS", "CityFacts", "CostLine", "CostSummary", "Dependency", "Effect", "Finding", "Refusal", "Review", "ServiceReview", "point_names", "review"]
