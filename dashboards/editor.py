"""Edit a copy of a design in the page: one widget per design field, validated like a file.

The widgets come from `twin.design.design_fields()` (kind, unit, range, options, default),
and the edited values go through `design_from_dict`, the loader's own checks, so the page
accepts exactly what `run.py review` and the scenarios accept, with the same messages.
Widgets carry no bounds of their own: a value out of range is shown as the loader's error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import streamlit as st

from twin.design import Design, DesignError, FieldSpec, design_fields, design_from_dict

SOURCE = "edited design"
TOP = "design"  # the tab of the top-level fields (name, city, description)


def parse_int_list(text: str) -> list[int] | str:
    """'2026, 2028' -> [2026, 2028]; text that is not a list of integers is returned as is."""
    parts = [p.strip() for p in text.strip().strip("[]").split(",")]
    if parts == [""]:
        return []
    try:
        return [int(p) for p in parts]
    except ValueError:
        return text


def nested(values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys {'safety.enabled': True, 'name': 'x'} as design data {'safety': {...}}."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        section, _, name = key.rpartition(".")
        if section:
            out.setdefault(section, {})[name] = value
        else:
            out[name] = value
    return out


def validate(values: Mapping[str, Any]) -> tuple[Design | None, list[str]]:
    """The Design the edited values make, or None and the loader's problems ('key: message')."""
    try:
        return design_from_dict(nested(values), SOURCE), []
    except DesignError as exc:
        return None, [str(p) for p in exc.problems]


def step(spec: FieldSpec) -> float:
    """A widget step for a real field: about a hundredth of its range, a power of ten."""
    lo, hi = spec.minimum or 0.0, spec.maximum if spec.maximum is not None else 100.0
    span = max(hi - lo, 1e-9)
    return float(10 ** math.floor(math.log10(span / 100.0))) if span >= 1 else span / 100.0


def help_text(spec: FieldSpec) -> str:
    """The widget's tooltip: what the field means, what is valid, where the default comes from."""
    out = f"{spec.doc}. Valid: {spec.expected()}."
    return out + (f" Source: {spec.source}." if spec.source else "")


def field_widget(spec: FieldSpec, value: Any, key: str, box: Any = st) -> Any:
    """One widget for one design field, showing `value`; returns what the planner entered."""
    label, tip = spec.name, help_text(spec)
    if spec.kind == "bool":
        return box.checkbox(label, value=bool(value), key=key, help=tip)
    if spec.kind == "int":
        return int(box.number_input(label, value=int(value), step=1, key=key, help=tip))
    if spec.kind == "float":
        return float(box.number_input(label, value=float(value), step=step(spec), format="%g",
                                      key=key, help=tip))
    if spec.kind == "choice":
        return box.selectbox(label, spec.options, index=spec.options.index(value), key=key,
                             help=tip)
    if spec.kind == "choices":
        return list(box.multiselect(label, spec.options, default=list(value), key=key, help=tip))
    if spec.kind == "int_list":
        text = box.text_input(label, value=", ".join(str(v) for v in value), key=key, help=tip)
        return parse_int_list(text)
    return box.text_input(label, value=str(value), key=key, help=tip)


def sections() -> dict[str, list[FieldSpec]]:
    """The design fields grouped by section, top-level fields first."""
    out: dict[str, list[FieldSpec]] = {}
    for spec in design_fields():
        out.setdefault(spec.section or TOP, []).append(spec)
    return out


def editor(base: Design, base_key: str, rename: str) -> dict[str, Any]:
    """Every field of `base` as a widget, in a tab per section; the entered values by dotted key."""
    groups = sections()
    values: dict[str, Any] = {}
    for tab, specs in zip(st.tabs(list(groups)), groups.values(), strict=True):
        cols = tab.columns(2)
        for i, spec in enumerate(specs):
            shown = rename if spec.key == "name" else base.value(spec.key)
            values[spec.key] = field_widget(spec, shown, f"edit:{base_key}:{spec.key}",
                                            cols[i % 2])
    return values
