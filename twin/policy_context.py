"""What the review's data rows can ask about: the design's fields, the city's counts, derived facts.

The review data (twin/policy_data/services.toml) states conditions and texts in terms of
dotted keys. This module builds the dictionary they are evaluated against: every design field
by its dotted key, the city's figures under `city.*`, and facts derived from the design with
the linkage task catalogue (tasks outside the permitted fields, tasks crossing organs …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from twin.design import Design, design_fields, linkage_task_catalogue
from twin.design_sections import DEPENDENCY_KEYS
from twin.errors import ValidationError
from twin.policy_basis import as_of
from twin.presets import CityPreset, preset, structure

CONDITION_OPS = ("equals", "not_equals", "at_least", "at_most", "nonempty", "empty", "contains", "not_contains")


@dataclass(frozen=True, slots=True)
class CityFacts:
    """The city figures the review needs: population, wards, card holding, children, shelters."""

    name: str
    name_ja: str
    population: int
    wards: int
    card_ownership: float  # share 0-1 of residents holding a valid card
    residents_without_card: int
    children_0_14: int
    shelters: int
    basis: str  # where the counts come from

    @classmethod
    def from_preset(cls, p: CityPreset) -> CityFacts:
        """Counts from a preset: residents without a card = population x (1 - ownership)."""
        s = structure()
        return cls(
            name=p.name,
            name_ja=p.name_ja,
            population=p.population,
            wards=p.wards,
            card_ownership=p.card_ownership,
            residents_without_card=round(p.population * (1.0 - p.card_ownership)),
            children_0_14=round(p.population * s["age_share_0_14"]),
            shelters=max(p.wards, round(p.population / s["residents_per_shelter"])),
            basis=f"preset {p.name}: population {p.population:,}, card ownership {p.card_ownership:.1%} ({dict(p.sources).get('card_ownership', '')})",
        )

    @classmethod
    def from_city(cls, city: Any) -> CityFacts:
        """Counts from a built twin.population.City (its own residents and facilities)."""
        r = city.residents
        n = r.height
        holders = int(r["has_card"].sum())
        return cls(
            name=city.preset.name,
            name_ja=city.preset.name_ja,
            population=n,
            wards=city.preset.wards,
            card_ownership=holders / n if n else 0.0,
            residents_without_card=n - holders,
            children_0_14=int((r["age"] < 15).sum()),
            shelters=int((city.facilities["kind"] == "shelter").sum()),
            basis=f"built city {city.preset.name} seed={city.seed} scale={city.scale}: {n:,} residents",
        )


def city_facts(city: Any) -> CityFacts:
    """CityFacts from a preset name, a CityPreset, a built City, or CityFacts itself."""
    if isinstance(city, CityFacts):
        return city
    if isinstance(city, str):
        return CityFacts.from_preset(preset(city))
    if isinstance(city, CityPreset):
        return CityFacts.from_preset(city)
    if hasattr(city, "residents") and hasattr(city, "preset"):
        return CityFacts.from_city(city)
    raise ValidationError(f"expected a city preset name, a CityPreset or a built City, got {type(city).__name__}")


def policy_context(design: Design, city: CityFacts) -> dict[str, Any]:
    """Every key a review row may test or quote, with its value for this design and city."""
    ctx: dict[str, Any] = {s.key: design.value(s.key) for s in design_fields()}
    target = max(city.card_ownership, design.rollout.card_ownership_target_share)
    ctx.update(
        {
            "city.name": city.name,
            "city.population": city.population,
            "city.wards": city.wards,
            "city.card_ownership": city.card_ownership,
            "city.residents_without_card": city.residents_without_card,
            "city.no_card_share": city.residents_without_card / city.population if city.population else 0.0,
            "city.residents_without_card_at_target": round(city.population * (1.0 - target)),
            "city.children_0_14": city.children_0_14,
            "city.shelters": city.shelters,
            "certificates.fee_differs": design.certificates.kiosk_fee_yen != design.certificates.counter_fee_yen,
            "certificates.public_kiosks": design.certificates.public_kiosks_per_ward * city.wards,
            "portal.uses_network": design.portal.e_applications and design.portal.e_applications_use_linkage,
            "portal.features": tuple(f for f in ("mailbox", "push_notices", "e_applications", "e_payment") if getattr(design.portal, f)),
        }
    )
    ctx.update(linkage_facts(design))
    ctx["law.as_of"] = as_of()
    ctx.update({f"deps.{k}": getattr(design.dependencies, k) != "" for k in DEPENDENCY_KEYS})
    return ctx


def linkage_facts(design: Design) -> dict[str, Any]:
    """Facts about the design's linkage tasks, read from the task catalogue."""
    cat = linkage_task_catalogue()
    internal, external = design.linkage.internal_tasks, design.linkage.external_tasks
    tasks = tuple(dict.fromkeys((*internal, *external)))
    rows = [cat[t] for t in tasks]
    return {
        "linkage.tasks": tasks,
        "linkage.tasks_outside_fields": tuple(t for t in tasks if cat[t]["domain"] == "other"),
        "linkage.external_tasks_not_permitted": tuple(t for t in external if cat[t]["external"] == "none"),
        "linkage.internal_tasks_crossing_organs": tuple(
            t for t in internal if cat[t]["requesting_organ"] != cat[t]["providing_organ"]
        ),
        # internal linkage of statutory or independent tasks (ch.3 ②③) and rule-based external linkage (※)
        "linkage.tasks_needing_art9_2": tuple(
            dict.fromkeys((*internal, *(t for t in external if cat[t]["external"] == "rule")))
        ),
        "linkage.attachments_avoided": tuple(dict.fromkeys(a for r in rows for a in r["attachments"])),
        "linkage.domains": tuple(dict.fromkeys(r["domain"] for r in rows)),
        "linkage.requesting_organs": tuple(dict.fromkeys(r["requesting_organ"] for r in rows)),
    }


def holds(conditions: list[dict[str, Any]], ctx: dict[str, Any]) -> bool:
    """Whether every condition of a row's `when` list holds in `ctx`."""
    return all(_holds_one(c, ctx) for c in conditions)


def _holds_one(cond: dict[str, Any], ctx: dict[str, Any]) -> bool:
    key = cond["key"]
    if key not in ctx:
        raise ValidationError(f"review data: condition on unknown key {key!r}")
    (op, want), = ((k, v) for k, v in cond.items() if k != "key")
    v = ctx[key]
    if op == "equals":
        return v == want
    if op == "not_equals":
        return v != want
    if op == "at_least":
        return v >= want
    if op == "at_most":
        return v <= want
    if op in ("nonempty", "empty"):
        return bool(v) == ((op == "nonempty") == want)
    if op == "contains":
        return want in v
    if op == "not_contains":
        return want not in v
    raise ValidationError(f"review data: unknown condition operator {op!r}; expected one of {CONDITION_OPS}")


_PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)(?::([^}]*))?\}")


def render(template: str, ctx: dict[str, Any], **extra: Any) -> str:
    """A row's text with {key} and {key:format} replaced by values from `ctx` (lists joined)."""

    def one(m: re.Match[str]) -> str:
        key, spec = m.group(1), m.group(2) or ""
        if key in extra:
            v = extra[key]
        elif key in ctx:
            v = ctx[key]
        else:
            raise ValidationError(f"review data: text quotes unknown key {key!r}")
        if isinstance(v, tuple | list):
            return ", ".join(map(str, v)) if v else "none"
        return format(v, spec)

    return _PLACEHOLDER.sub(one, template)
