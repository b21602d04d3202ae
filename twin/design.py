"""Rollout designs (導入設計): which of the nine services a city runs, and how, as validated data.

A design file (`designs/*.toml`) names the city preset, the rollout plan, unit costs, and one
table per service keyed by the service keys (onecard, linkage, certificates, vitals, portal,
business, safety, payments, faceid). Loading checks every key and value and either returns a
complete frozen `Design` or raises one `DesignError` listing every problem (file, dotted key,
what was expected, the nearest key for a typo). Nothing is half-loaded.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.design_schema import (
    DesignError,
    FieldSpec,
    Problem,
    check_value,
    nearest,
    specs_of,
    text,
)
from twin.design_sections import (
    Costs,
    Dependencies,
    Rollout,
    Section,
    linkage_task_catalogue,
)
from twin.design_services import (
    SECTIONS,
    SERVICE_SECTIONS,
    Business,
    Certificates,
    FaceId,
    Linkage,
    OneCard,
    Payments,
    Portal,
    Safety,
    Vitals,
)
from twin.errors import ValidationError
from twin.presets import DEFAULT_CITY, preset

SERVICE_KEYS: tuple[str, ...] = tuple(SERVICE_SECTIONS)
TOP_LEVEL = ("name", "city", "description")
REQUIRED_TOP = ("name", "city")

__all__ = [
    "SERVICE_KEYS",
    "Business",
    "Certificates",
    "Costs",
    "Dependencies",
    "Design",
    "DesignError",
    "FaceId",
    "FieldSpec",
    "Linkage",
    "OneCard",
    "Payments",
    "Portal",
    "Rollout",
    "Safety",
    "Vitals",
    "design_fields",
    "design_from_dict",
    "design_to_toml",
    "linkage_task_catalogue",
    "load_design",
    "with_overrides",
]


@dataclass(frozen=True)
class Design:
    """A whole rollout design: city preset, rollout plan, unit costs and the nine services."""

    name: str = text("untitled", "short name of the design, shown in reports")
    city: str = text(DEFAULT_CITY, "city preset (one of the 20 designated cities, e.g. kumamoto)")
    description: str = text("", "what this design is for, in a sentence or two")
    rollout: Rollout = field(default_factory=Rollout)
    costs: Costs = field(default_factory=Costs)
    dependencies: Dependencies = field(default_factory=Dependencies)
    onecard: OneCard = field(default_factory=OneCard)
    linkage: Linkage = field(default_factory=Linkage)
    certificates: Certificates = field(default_factory=Certificates)
    vitals: Vitals = field(default_factory=Vitals)
    portal: Portal = field(default_factory=Portal)
    business: Business = field(default_factory=Business)
    safety: Safety = field(default_factory=Safety)
    payments: Payments = field(default_factory=Payments)
    faceid: FaceId = field(default_factory=FaceId)

    def __post_init__(self) -> None:
        problems = _design_problems(self)
        if problems:
            raise DesignError("design", problems)

    def service(self, key: str) -> Section:
        """The section of service `key` (onecard … faceid)."""
        if key not in SERVICE_SECTIONS:
            raise ValidationError(f"unknown service {key!r}; services: {', '.join(SERVICE_KEYS)}")
        return getattr(self, key)

    def enabled_services(self) -> tuple[str, ...]:
        """Keys of the services this design runs, in SERVICES.md order."""
        return tuple(k for k in SERVICE_KEYS if getattr(self, k).enabled)

    def service_start_year(self, key: str) -> int | None:
        """Fiscal year service `key` starts, or None when it is disabled."""
        sec = self.service(key)
        return self.rollout.phase_fiscal_years[sec.phase - 1] if sec.enabled else None

    def value(self, key: str) -> Any:
        """The value at dotted key `key` (e.g. "safety.readers_per_shelter")."""
        head, _, tail = key.partition(".")
        if head not in SECTIONS and not tail and head in TOP_LEVEL:
            return getattr(self, head)
        if head not in SECTIONS or tail not in {f.name for f in dataclasses.fields(SECTIONS[head])}:
            raise ValidationError(f"unknown design key {key!r}{_hint(key)}")
        return getattr(getattr(self, head), tail)

    def to_dict(self) -> dict[str, Any]:
        """The design as nested TOML-ready data; `design_from_dict(d.to_dict())` gives it back."""
        out: dict[str, Any] = {k: getattr(self, k) for k in TOP_LEVEL}
        for key in SECTIONS:
            out[key] = getattr(self, key).to_dict()
        return out


def _design_problems(d: Design) -> list[Problem]:
    """Rules across sections: every section has its type, the city exists, phases exist."""
    out = []
    for key, cls in SECTIONS.items():
        if not isinstance(getattr(d, key), cls):
            out.append(Problem(key, f"expected a {cls.__name__} section, got {type(getattr(d, key)).__name__}"))
    for key in TOP_LEVEL:
        if not isinstance(getattr(d, key), str):
            out.append(Problem(key, f"expected a string, got {getattr(d, key)!r}"))
    if out:
        return out
    try:
        preset(d.city)
    except ValidationError as exc:
        out.append(Problem("city", str(exc)))
    if not d.name.strip():
        out.append(Problem("name", "expected a non-empty name, got ''"))
    phases = len(d.rollout.phase_fiscal_years)
    for key in SERVICE_KEYS:
        sec = getattr(d, key)
        if sec.enabled and sec.phase > phases:
            out.append(Problem(f"{key}.phase", f"expected a phase from 1 to {phases} (rollout.phase_fiscal_years has {phases}), got {sec.phase}"))
    return out


def design_fields() -> list[FieldSpec]:
    """Every design field with its kind, unit, range, options and default (one widget each)."""
    out = specs_of(Design, "")
    for key, cls in SECTIONS.items():
        out.extend(specs_of(cls, key))
    return out


def _all_keys() -> list[str]:
    return [s.key for s in design_fields()] + list(SECTIONS)


def _hint(key: str) -> str:
    near = nearest(key, _all_keys())
    return f" (did you mean {near!r}?)" if near else ""


def design_from_dict(data: Any, source: str = "<dict>") -> Design:
    """A validated Design from nested data (as read from TOML); DesignError lists every problem."""
    if not isinstance(data, dict):
        raise DesignError(source, [Problem("(top level)", f"expected a table of design keys, got {type(data).__name__}")])
    problems: list[Problem] = []
    top = _top_level(data, problems)
    sections = {key: _section(key, data.get(key), problems) for key in SECTIONS}
    if problems:
        raise DesignError(source, problems)
    try:
        return Design(**top, **{k: v for k, v in sections.items() if v is not None})
    except DesignError as exc:
        raise DesignError(source, exc.problems) from None


def _top_level(data: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """The top-level scalars; records unknown keys (with a hint) and missing required ones."""
    for key in data:
        if key not in TOP_LEVEL and key not in SECTIONS:
            problems.append(Problem(_shown(key), f"unknown key{_hint(str(key))}; top-level keys: {', '.join((*TOP_LEVEL, *SECTIONS))}"))
    for key in REQUIRED_TOP:
        if key not in data:
            problems.append(Problem(key, "missing; expected a string" + (" (a city preset, e.g. 'kumamoto')" if key == "city" else "")))
    out = {}
    for key in TOP_LEVEL:
        if key in data:
            if isinstance(data[key], str):
                out[key] = data[key]
                if key == "city":
                    _check_city(data[key], problems)
            else:
                problems.append(Problem(key, f"expected a string, got {data[key]!r}"))
    return out


def _shown(key: object) -> str:
    """A key as written, quoted when it is empty or not a plain string."""
    return key if isinstance(key, str) and key.strip() else repr(key)


def _check_city(name: str, problems: list[Problem]) -> None:
    """Record a problem when `name` is not a city preset."""
    try:
        preset(name)
    except ValidationError as exc:
        problems.append(Problem("city", str(exc)))


def _section(key: str, raw: Any, problems: list[Problem]) -> Section | None:
    """One section built from its table, or None (absent or invalid; problems recorded)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(Problem(key, f"expected a table [{key}], got {raw!r}"))
        return None
    cls = SECTIONS[key]
    specs = {s.name: s for s in specs_of(cls, key)}
    before = len(problems)
    for name in raw:
        if name not in specs:
            problems.append(Problem(f"{key}.{_shown(name)}", f"unknown key{_hint(f'{key}.{name}')}; keys of [{key}]: {', '.join(specs)}"))
    if key in SERVICE_SECTIONS and "enabled" not in raw:
        problems.append(Problem(f"{key}.enabled", "missing; expected true or false in every service table"))
    values = {}
    for name, value in raw.items():
        if name in specs:
            canon, err = check_value(specs[name], value)
            if err:
                problems.append(Problem(specs[name].key, err))
            values[name] = canon
    if len(problems) > before:
        return None
    try:
        return cls(**values)
    except DesignError as exc:
        problems.extend(exc.problems)
        return None


def load_design(path: str | Path) -> Design:
    """Read and validate a design TOML file; errors name the file, the key and what was expected."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DesignError(str(p), [Problem("(file)", "no such design file")]) from None
    except OSError as exc:
        raise DesignError(str(p), [Problem("(file)", f"cannot be read: {exc.strerror}")]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DesignError(str(p), [Problem("(file)", f"expected UTF-8 text: {exc.reason} at byte {exc.start}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise DesignError(str(p), [Problem("(syntax)", f"not valid TOML: {exc}")]) from None
    return design_from_dict(data, str(p))


def with_overrides(design: Design, overrides: dict[str, Any], source: str = "overrides") -> Design:
    """A copy of `design` with dotted keys replaced (e.g. {"safety.readers_per_shelter": 4}), validated."""
    data = design.to_dict()
    problems = []
    for key, value in overrides.items():
        head, _, tail = str(key).partition(".")
        if not tail and head in TOP_LEVEL:
            data[head] = value
        elif head in SECTIONS and tail in data[head]:
            data[head][tail] = value
        elif head in SECTIONS and not tail:
            problems.append(Problem(head, f"expected a dotted key inside [{head}], e.g. '{head}.{next(iter(data[head]))}'"))
        else:
            problems.append(Problem(_shown(key), f"unknown key{_hint(str(key))}"))
    if problems:
        raise DesignError(source, problems)
    return design_from_dict(data, source)


def design_to_toml(design: Design) -> str:
    """The design as a TOML document that `load_design` reads back to an equal Design."""
    d = design.to_dict()
    lines = [f"{k} = {_toml_value(d[k])}" for k in TOP_LEVEL]
    for key in SECTIONS:
        lines += ["", f"[{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in d[key].items()]
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    """One TOML value: booleans, integers, floats, strings, flat lists of these."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return "[" + ", ".join(_toml_value(x) for x in v) + "]"
