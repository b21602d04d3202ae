"""Push-type service (プッシュ型サービス): who an event makes eligible, and who then applies."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl

from twin.errors import ValidationError
from twin.services._checks import params_from_dict, read_table

ADULT, WORKING_AGE_END = 18, 65


@dataclass(frozen=True, slots=True)
class TakeUp:
    """Take-up of one benefit: eligible residents, how many were pushed a notice, who applied."""

    benefit: str
    eligible: int
    notified: int
    applied: int
    applied_notified: int
    applied_unnotified: int

    @property
    def share(self) -> float:
        """Share of eligible residents who applied (0 when none were eligible)."""
        return self.applied / self.eligible if self.eligible else 0.0

    @property
    def share_notified(self) -> float:
        """Share who applied among those pushed a notice."""
        return self.applied_notified / self.notified if self.notified else 0.0

    @property
    def share_unnotified(self) -> float:
        """Share who applied among those never told."""
        rest = self.eligible - self.notified
        return self.applied_unnotified / rest if rest else 0.0


class TakeUpTracker:
    """Per benefit: when each resident became eligible, whether notified, whether applied."""

    def __init__(self) -> None:
        self._eligible: dict[str, dict[int, tuple[float, bool]]] = {}
        self._applied: dict[str, dict[int, float]] = {}

    def mark_eligible(
        self, ids: np.ndarray, benefit: str, now: float, notified: bool
    ) -> np.ndarray:
        """Record eligibility; returns the ids not already eligible (those to notify)."""
        book = self._eligible.setdefault(benefit, {})
        fresh = [int(r) for r in ids if int(r) not in book]
        for r in fresh:
            book[r] = (float(now), bool(notified))
        return np.asarray(fresh, dtype=np.int64)

    def mark_applied(self, resident_id: int, benefit: str, now: float) -> None:
        """Record an application (the first one counts)."""
        self._applied.setdefault(benefit, {}).setdefault(int(resident_id), float(now))

    def summary(self, benefit: str) -> TakeUp:
        """The take-up of `benefit` so far (applications by eligible residents only)."""
        book = self._eligible.get(benefit, {})
        applied = self._applied.get(benefit, {})
        notified = sum(1 for _, n in book.values() if n)
        a_n = sum(1 for r, (_, n) in book.items() if n and r in applied)
        a_u = sum(1 for r, (_, n) in book.items() if not n and r in applied)
        return TakeUp(benefit, len(book), notified, a_n + a_u, a_n, a_u)


@lru_cache(maxsize=1)
def benefit_triggers() -> pl.DataFrame:
    """Which life event makes whom eligible for which benefit (calibration/data/benefit_triggers.csv)."""
    return pl.DataFrame(read_table("benefit_triggers.csv"))


def benefits_after(event: str) -> list[str]:
    """The benefits a life event (birth, school_entry, move_in_with_children …) may open."""
    t = benefit_triggers()
    if event not in set(t["event"].to_list()):
        known = ", ".join(sorted(set(t["event"].to_list())))
        raise ValidationError(f"unknown life event {event!r}; known events: {known}")
    return t.filter(pl.col("event") == event)["benefit"].to_list()


def household_guardians(residents: pl.DataFrame, subject_ids: np.ndarray) -> np.ndarray:
    """For each subject's household, the applicant: its eldest working-age adult, else eldest adult."""
    hh = residents.filter(pl.col("resident_id").is_in(np.asarray(subject_ids, dtype=np.int64)))
    adults = (
        residents.join(hh.select("household_id").unique(), on="household_id", how="semi")
        .filter(pl.col("age") >= ADULT)
        .with_columns(working=pl.col("age") < WORKING_AGE_END)
    )
    best = adults.sort(["household_id", "working", "age"], descending=[False, True, True])
    return np.sort(
        best.group_by("household_id", maintain_order=True).first()["resident_id"].to_numpy()
    )


@dataclass(frozen=True, slots=True)
class TakeUpParams:
    """How likely an eligible resident applies within the window (assumptions, unverified)."""

    p_apply_notified: float = 0.90  # assumption: pushed a notice with a pre-filled e-application
    p_apply_unnotified: float = 0.70  # assumption: left to find out from publicity

    def __post_init__(self) -> None:
        for name in ("p_apply_notified", "p_apply_unnotified"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValidationError(f"{name} must be a probability in [0, 1], got {v!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TakeUpParams:
        """Parameters from a design table; unknown keys are errors."""
        return params_from_dict(cls, data, "portal.take_up")


def draw_applicants(
    rng: np.random.Generator, notified: np.ndarray, params: TakeUpParams
) -> np.ndarray:
    """Which eligible residents apply, given a notified mask (one draw each)."""
    notified = np.asarray(notified, dtype=bool)
    p = np.where(notified, params.p_apply_notified, params.p_apply_unnotified)
    return rng.random(notified.size) < p
