"""Scenario parameters: one frozen dataclass per scenario, validated when built.

Each field is declared with `param(default, unit=…, doc=…, lo=…, hi=…)`, so the dashboard's
widgets and the design files map onto fields one for one. A scenario's parameters are built in
layers: the dataclass defaults, then the calibrated values (`calibration/`), then what the
design file sets, then field-by-field overrides; an unknown key at any layer is an error that
names it (and suggests the nearest field).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, get_type_hints

from twin.errors import ValidationError
from twin.presets import DEFAULT_CITY, preset


def param(default: Any, *, unit: str, doc: str, lo: float | None = None,
          hi: float | None = None, choices: tuple[Any, ...] | None = None) -> Any:
    """A parameter field with its unit, meaning and allowed range (lo/hi inclusive)."""
    meta = {"unit": unit, "doc": doc, "lo": lo, "hi": hi, "choices": choices}
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """`value` as the field's type, or a ValidationError naming the field and what was expected."""
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
    elif str(kind) == "tuple[str, ...]":
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return tuple(value)
    elif str(kind).startswith("tuple"):
        if isinstance(value, (list, tuple)) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
        ):
            return tuple(float(v) for v in value)
    expected = getattr(kind, "__name__", str(kind))
    raise ValidationError(f"parameter {name!r} must be {expected}, got {value!r}")


def _check_range(name: str, meta: Mapping[str, Any], value: Any) -> None:
    """Raise if a value is outside its field's declared range or choices."""
    unit = f" {meta['unit']}" if meta.get("unit") else ""
    lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices")
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if choices is not None and v not in choices:
            raise ValidationError(f"parameter {name!r} must be one of {list(choices)}, got {v!r}")
        if lo is not None and v < lo or hi is not None and v > hi:
            rng = f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
            raise ValidationError(f"parameter {name!r} must be in {rng}{unit}, got {v!r}")


def unknown_key_error(key: str, known: list[str], where: str) -> ValidationError:
    """The error for a key that is not a field, suggesting the nearest field."""
    near = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return ValidationError(f"unknown parameter {key!r} in {where}{hint}; known: {', '.join(known)}")


@dataclass(frozen=True)
class ScenarioParams:
    """Fields every scenario shares: the city, how much of it to build, and the design's name."""

    scenario: ClassVar[str] = "scenario"

    city: str = param(DEFAULT_CITY, unit="", doc="city preset (one of the 20 designated cities)")
    scale: float = param(0.05, unit="share", doc="share of the population to build", lo=1e-6, hi=1.0)
    city_seed: int = param(0, unit="", doc="seed of the synthetic city (fixed across replications)",
                           lo=0)
    design: str = param("baseline", unit="", doc="name of the rollout design the parameters came from")

    def __post_init__(self) -> None:
        hints = get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = _coerce(f.name, hints[f.name], getattr(self, f.name))
            _check_range(f.name, f.metadata, value)
            object.__setattr__(self, f.name, value)
        preset(self.city)  # unknown city: an error listing the valid ones
        self.validate()

    def validate(self) -> None:
        """Cross-field checks (subclasses add theirs)."""

    @classmethod
    def field_names(cls) -> list[str]:
        """The parameter names, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Each field with its type, default, unit, meaning and range (for widgets and docs)."""
        hints = get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            kind = getattr(hints[f.name], "__name__", str(hints[f.name]))
            out.append({"name": f.name, "type": kind, "default": default} | dict(f.metadata))
        return out

    @classmethod
    def from_design(cls, design: Any) -> dict[str, Any]:
        """The fields a design sets (subclasses map their service tables here)."""
        return {"design": getattr(design, "name", "baseline")} if design is not None else {}

    @classmethod
    def calibrated(cls) -> dict[str, Any]:
        """The fields the calibration provides (subclasses read `calibration/`)."""
        return {}

    @classmethod
    def build(cls, city: str = DEFAULT_CITY, design: Any = None,
              overrides: Mapping[str, Any] | None = None) -> ScenarioParams:
        """Defaults, then calibration, then the design, then `overrides`; unknown keys are errors."""
        known = cls.field_names()
        values: dict[str, Any] = {"city": city}
        for where, layer in (("the calibration", cls.calibrated()),
                             ("the design", cls.from_design(design)),
                             ("the overrides", dict(overrides or {}))):
            for key in layer:
                if key not in known:
                    raise unknown_key_error(key, known, where)
            values.update(layer)
        return cls(**values)

    def replace(self, **changes: Any) -> ScenarioParams:
        """A copy with some fields changed (validated again)."""
        for key in changes:
            if key not in self.field_names():
                raise unknown_key_error(key, self.field_names(), "replace()")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-ready dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def parse_overrides(pairs: list[str], scenario: str | None = None) -> dict[str, Any]:
    """`KEY=VALUE` strings (VALUE parsed as JSON when it can be) and `@FILE` parameter files (their `scenario`
    section when they have one per scenario) as one dict."""
    import json

    out: dict[str, Any] = {}
    for pair in pairs:
        if pair.startswith("@"):  # a parameter file, e.g. from `run.py calibrate --from-drill`
            from calibration.fit_drill import overrides_from_file

            out |= overrides_from_file(pair[1:], scenario)
            continue
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValidationError(f"override {pair!r} must look like KEY=VALUE")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def parse_jst(text: str, name: str = "time") -> float:
    """POSIX seconds of a JST local time written 'YYYY-MM-DDTHH:MM'."""
    import datetime as dt

    from twin.clock import jst

    try:
        t = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M")
    except (TypeError, ValueError):
        raise ValidationError(f"parameter {name!r} must look like 2016-04-16T01:25 (JST), "
                              f"got {text!r}") from None
    return jst(t.year, t.month, t.day, t.hour, t.minute)
