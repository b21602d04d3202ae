"""The shelter service's values and refusals: settings, the answer to one attempt, reader errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from twin.errors import Conflict, Forbidden, ValidationError
from twin.services.safety_validate import check_int, check_rate, params_from_dict
from twin.services.shelter_outcomes import Outcome


class UnknownReader(Forbidden):
    """A tap came from a reader that is not registered to any shelter."""

    code = "unknown_reader"


class ReaderOffline(Conflict):
    """The reader has no network for an operation that needs the server."""

    code = "reader_offline"


@dataclass(frozen=True)
class ShelterParams:
    """Shelter settings (mirrors the design's `safety` section where names match)."""

    readers_per_shelter: int = 2
    paper_form_staff_per_shelter: int = 2
    capacity_per_shelter: int = 0  # 0: each facility's own capacity column
    paper_wrong_resident_rate: float = 0.02  # assumption (unverified): form transcribed to another resident
    paper_unreadable_rate: float = 0.01  # assumption (unverified): form cannot be matched to anyone

    def __post_init__(self) -> None:
        check_int("readers_per_shelter", self.readers_per_shelter, 0, 100)
        check_int("paper_form_staff_per_shelter", self.paper_form_staff_per_shelter, 0, 100)
        check_int("capacity_per_shelter", self.capacity_per_shelter, 0, 10_000_000)
        check_rate("paper_wrong_resident_rate", self.paper_wrong_resident_rate)
        check_rate("paper_unreadable_rate", self.paper_unreadable_rate)
        if self.paper_wrong_resident_rate + self.paper_unreadable_rate > 1.0:
            raise ValidationError("paper_wrong_resident_rate + paper_unreadable_rate must be <= 1, got "
                                  f"{self.paper_wrong_resident_rate + self.paper_unreadable_rate}")

    @classmethod
    def from_dict(cls, data: dict) -> ShelterParams:
        """Build from a mapping; unknown keys are errors naming the key."""
        return params_from_dict(cls, data, "shelter params")


class TapResult(NamedTuple):
    """The answer to one attempt: outcome, where (facility ids), who, and the queued tap or form id.

    An immutable value (a named tuple: the cheapest to build on the per-tap path)."""

    outcome: Outcome
    shelter_id: int
    resident_id: int = -1
    redirect_to: int | None = None
    tap_id: int | None = None
