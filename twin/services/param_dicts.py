"""Building frozen parameter dataclasses from plain dicts (design files, dashboards, scenarios)."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any, TypeVar

from twin.errors import ValidationError

T = TypeVar("T")


def from_dict(cls: type[T], data: Mapping[str, Any], where: str = "") -> T:
    """`cls(**data)`, refusing an unknown key by name (with the nearest valid key as a hint)."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"{where or cls.__name__}: expected a table of settings, got {type(data).__name__}")
    names = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    for key in data:
        if key not in names:
            near = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValidationError(f"{where or cls.__name__}: unknown key {key!r}{hint}; "
                                  f"valid keys: {', '.join(names)}")
    return cls(**data)


def shared_fields(cls: type[T], section: Any, renames: Mapping[str, str] | None = None, **extra: Any) -> T:
    """`cls` built from the attributes of a design section that `cls` also has (others keep defaults).

    `renames` maps a section attribute to a differently named field of `cls`; `extra` overrides.
    """
    names = {f.name for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    renames = dict(renames or {})
    data = {}
    for f in dataclasses.fields(section):
        target = renames.get(f.name, f.name)
        if target in names:
            data[target] = getattr(section, f.name)
    return cls(**{**data, **extra})


def require_int(name: str, value: Any, low: int, high: int | None = None) -> None:
    """Refuse a value that is not an int in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < low or (high is not None and value > high):
        top = "" if high is None else f" and <= {high:,}"
        raise ValidationError(f"{name} must be >= {low:,}{top}, got {value:,}")


def require_rate(name: str, value: Any) -> None:
    """Refuse a value that is not a probability in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValidationError(f"{name} must be a probability in [0, 1], got {value!r}")


def require_positive(name: str, value: Any) -> None:
    """Refuse a value that is not a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < float("inf"):
        raise ValidationError(f"{name} must be a positive number, got {value!r}")
