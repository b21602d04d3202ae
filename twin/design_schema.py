"""The vocabulary of design fields: kinds, units, ranges, and the checks every value passes.

A design section is a frozen dataclass whose fields are declared with the helpers below
(`flag`, `count`, `real`, `choice`, `choices`, `ints`, `text`). Each helper stores the
field's kind, unit, range and docstring in the dataclass field metadata, so the loader, the
`with_overrides` path and the dashboard's widgets all read the same description.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from twin.errors import ValidationError

KINDS = ("bool", "int", "float", "choice", "choices", "int_list", "str")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One design field as a widget would show it: dotted key, kind, unit, range and default."""

    key: str  # dotted path, e.g. "safety.readers_per_shelter"
    kind: str  # one of KINDS
    unit: str  # e.g. "count per shelter", "yen", "share 0-1", "minutes"
    doc: str
    default: Any
    minimum: float | None = None  # for int, float and int_list items
    maximum: float | None = None
    options: tuple[str, ...] = ()  # for choice and choices
    source: str = ""  # where a default figure comes from, or "assumption (unverified)"

    @property
    def section(self) -> str:
        """The section key (the part before the dot), or "" for a top-level field."""
        return self.key.rpartition(".")[0]

    @property
    def name(self) -> str:
        """The field name inside its section."""
        return self.key.rpartition(".")[2]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (tuples become lists)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["options"] = list(self.options)
        out["default"] = list(self.default) if isinstance(self.default, tuple) else self.default
        return out

    def expected(self) -> str:
        """What a valid value looks like, in words."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "str":
            return "a string"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(o) for o in self.options)
        if self.kind == "choices":
            return "a list of distinct values from " + ", ".join(repr(o) for o in self.options)
        what = {"int": "an integer", "float": "a number", "int_list": "a list of integers"}[self.kind]
        return f"{what} {_range_words(self)}".rstrip() + (f" ({self.unit})" if self.unit else "")


def _range_words(spec: FieldSpec) -> str:
    """'from LO to HI' in the field's terms."""
    lo, hi = spec.minimum, spec.maximum
    if lo is not None and hi is not None:
        return f"from {_num(lo)} to {_num(hi)}"
    if lo is not None:
        return f"of at least {_num(lo)}"
    if hi is not None:
        return f"of at most {_num(hi)}"
    return ""


def _num(x: float) -> str:
    """A bound without a spurious '.0'."""
    return str(int(x)) if float(x).is_integer() else str(x)


def _meta(kind: str, unit: str, doc: str, **kw: Any) -> dict[str, Any]:
    return {"kind": kind, "unit": unit, "doc": doc, **kw}


def flag(default: bool, doc: str) -> Any:
    """A yes/no field."""
    return dataclasses.field(default=default, metadata=_meta("bool", "flag", doc))


def count(default: int, lo: int, hi: int, unit: str, doc: str, source: str = "") -> Any:
    """An integer field in [lo, hi]."""
    return dataclasses.field(default=default, metadata=_meta("int", unit, doc, minimum=lo, maximum=hi, source=source))


def real(default: float, lo: float, hi: float, unit: str, doc: str, source: str = "") -> Any:
    """A real-number field in [lo, hi] (integers are accepted)."""
    return dataclasses.field(default=default, metadata=_meta("float", unit, doc, minimum=lo, maximum=hi, source=source))


def choice(default: str, options: Sequence[str], doc: str) -> Any:
    """One value out of `options`."""
    return dataclasses.field(default=default, metadata=_meta("choice", "choice", doc, options=tuple(options)))


def choices(default: Sequence[str], options: Sequence[str], doc: str) -> Any:
    """A set of distinct values out of `options`, kept as a tuple."""
    return dataclasses.field(
        default=tuple(default), metadata=_meta("choices", "choices", doc, options=tuple(options))
    )


def ints(default: Sequence[int], lo: int, hi: int, unit: str, doc: str) -> Any:
    """A list of integers, each in [lo, hi], kept as a tuple."""
    return dataclasses.field(default=tuple(default), metadata=_meta("int_list", unit, doc, minimum=lo, maximum=hi))


def text(default: str, doc: str) -> Any:
    """A free-text field."""
    return dataclasses.field(default=default, metadata=_meta("str", "text", doc))


def specs_of(cls: type, section: str) -> list[FieldSpec]:
    """The FieldSpecs of a section dataclass, keys prefixed with `section.` (none if "")."""
    out = []
    for f in dataclasses.fields(cls):
        m = f.metadata
        if "kind" not in m:
            continue
        out.append(
            FieldSpec(
                key=f"{section}.{f.name}" if section else f.name,
                kind=m["kind"],
                unit=m["unit"],
                doc=m["doc"],
                default=f.default,
                minimum=m.get("minimum"),
                maximum=m.get("maximum"),
                options=m.get("options", ()),
                source=m.get("source", ""),
            )
        )
    return out


def check_value(spec: FieldSpec, value: Any) -> tuple[Any, str | None]:
    """The value in canonical form and None, or (value, 'expected …, got …') when invalid."""
    ok, canon = _CHECKS[spec.kind](spec, value)
    if ok:
        return canon, None
    return value, f"expected {spec.expected()}, got {_show(value)}"


def _show(value: Any) -> str:
    """A value as the user wrote it, with its TOML-ish type."""
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", tuple: "list", dict: "table"}
    return f"{value!r} ({kind.get(type(value), type(value).__name__)})"


def _in_range(spec: FieldSpec, x: float) -> bool:
    if isinstance(x, float) and not math.isfinite(x):
        return False
    return (spec.minimum is None or x >= spec.minimum) and (spec.maximum is None or x <= spec.maximum)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_bool(spec: FieldSpec, v: Any) -> tuple[bool, Any]:
    return isinstance(v, bool), v


def _check_int(spec: FieldSpec, v: Any) -> tuple[bool, Any]:
    return _is_int(v) and _in_range(spec, v), v


def _check_float(spec: FieldSpec, v: Any) -> tuple[bool, Any]:
    ok = (_is_int(v) or isinstance(v, float)) and _in_range(spec, float(v) if _is_int(v) else v)
    return ok, float(v) if ok else v


def _check_choice(spec: FieldSpec, v: Any) -> tuple[bool, Any]:
    return isinstance(v, str) and v in spec.options, v


def _check_choices(spec: FieldSpec, v: Any) -> tuple[bool, Any]:
    if not isinstance(v, list | tuple) or len(set(map(str, v))) != len(v):
        return False, v
    return all(isinstance(x, str) and x in spec.options for x in v), tuple(v)


def _check_ints(spec: FieldSpec, v: Any) -> tuple[bool, Any]:
    if not isinstance(v, list | tuple):
        return False, v
    return all(_is_int(x) and _in_range(spec, x) for x in v), tuple(v)


def _check_str(spec: FieldSpec, v: Any) -> tuple[bool, Any]:
    return isinstance(v, str), v


_CHECKS = {
    "bool": _check_bool,
    "int": _check_int,
    "float": _check_float,
    "choice": _check_choice,
    "choices": _check_choices,
    "int_list": _check_ints,
    "str": _check_str,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a design: the dotted key and what was expected."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class DesignError(ValidationError):
    """A design file or dict that does not validate; lists every problem found, with the file."""

    code = "invalid_design"

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [f"{source}: {p}" for p in self.problems]
        head = f"{source}: invalid design ({len(self.problems)} problem{'s' * (len(self.problems) != 1)})"
        super().__init__("\n".join([head, *lines]) if len(lines) > 1 else lines[0] if lines else head)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description with each problem's key."""
        return {
            "error": self.code,
            "detail": str(self),
            "source": self.source,
            "problems": [{"key": p.key, "message": p.message} for p in self.problems],
        }


def nearest(key: str, known: Iterable[str]) -> str | None:
    """The known key closest to a mistyped one (difflib), or None."""
    known = list(known)
    near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not near:  # try the last part alone: `readers_per_shelte` vs `safety.readers_per_shelter`
        tails = {k.rpartition(".")[2]: k for k in known}
        hit = difflib.get_close_matches(key.rpartition(".")[2], list(tails), n=1, cutoff=0.75)
        near = [tails[hit[0]]] if hit else []
    return near[0] if near else None
