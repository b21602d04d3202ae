"""Checks for the safety and face-check parameter dataclasses: ranges, and unknown keys by name."""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from typing import Any, TypeVar

from twin.errors import ValidationError

T = TypeVar("T")


def params_from_dict(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    """`cls(**data)`, refusing a key that is not a field (naming it and the nearest valid one)."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"{where}: expected a table of settings, got {type(data).__name__}")
    names = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    for key in data:
        if key not in names:
            near = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValidationError(f"{where}: unknown key {key!r}{hint}; valid keys: {', '.join(names)}")
    return cls(**data)


def check_int(name: str, value: Any, low: int, high: int) -> None:
    """Refuse anything but an int in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{name} must be an int in [{low:,}, {high:,}], got {value!r}")


def check_rate(name: str, value: Any) -> None:
    """Refuse anything but a probability in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValidationError(f"{name} must be a probability in [0, 1], got {value!r}")


def check_positive(name: str, value: Any) -> None:
    """Refuse anything but a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value and math.isfinite(value)):
        raise ValidationError(f"{name} must be a positive finite number, got {value!r}")
