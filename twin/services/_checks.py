"""Shared checks for the resident-facing services: identities, parameters, data files."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from twin.errors import Forbidden, ValidationError
from twin.identity import Assurance, Identity

DATA = Path(__file__).resolve().parents[2] / "calibration" / "data"
T = TypeVar("T")


class WeakIdentity(Forbidden):
    """The identity presented is too weak, too old, or someone else's for this action."""

    code = "weak_identity"


def params_from_dict(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    """Build the frozen parameter dataclass `cls` from a mapping; unknown keys are errors."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValidationError(
            f"{where}: unknown key {unknown[0]!r}; known keys are {', '.join(sorted(names))}"
        )
    return cls(**data)


def check_identity(
    identity: Identity, now: float, minimum: Assurance, max_age: float, action: str
) -> None:
    """Refuse an identity below `minimum`, established in the future, or older than `max_age` s."""
    if not isinstance(identity, Identity):
        raise ValidationError(f"{action}: expected an Identity, got {type(identity).__name__}")
    if identity.at > now:
        raise ValidationError(f"{action}: identity established at {identity.at} is after now={now}")
    if identity.assurance < minimum:
        raise WeakIdentity(
            f"{action} needs assurance {minimum.name} (card and PIN); "
            f"resident {identity.resident_id} presented {identity.assurance.name} "
            f"via {identity.method}; authenticate again with the card and PIN"
        )
    if now - identity.at > max_age:
        raise WeakIdentity(
            f"{action}: the identity of resident {identity.resident_id} was established "
            f"{now - identity.at:.0f} s ago (limit {max_age:.0f} s); authenticate again"
        )


def read_table(name: str) -> list[dict[str, str]]:
    """The rows of a CSV under calibration/data/, each a dict of stripped strings."""
    path = DATA / name
    with path.open(newline="", encoding="utf-8") as f:
        rows = [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]
    for i, row in enumerate(rows, start=2):
        if not (row.get("source") or row.get("basis")):
            raise ValidationError(f"{path.name} line {i}: every row needs a source or basis")
    return rows
