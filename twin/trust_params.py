"""The trust core's parameters as one frozen, validated value, and the wiring built from it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from twin.card.freearea import BY_NAME
from twin.card.registry import DEFAULT_LEAD_TIME, CardRegistry
from twin.clock import DAY
from twin.errors import ValidationError
from twin.events import EventLog
from twin.keys import Algorithm
from twin.pki import CertificateAuthority
from twin.reader import Reader
from twin.verifier import REVOCATION_MODES


@dataclass(frozen=True)
class TrustParams:
    """Authority, registry and reader settings (seconds for durations)."""

    algorithm: str = "ed25519"  # rsa2048 as the real card, p256 / ed25519 for large runs
    list_interval: float = DAY  # revocation lists published daily (FACTS.md: typical verifiers)
    revocation: str = "list"  # how readers check revocation: "list" or "online"
    max_list_age: float = 7 * DAY  # an offline reader stops full authentication past this (assumption)
    challenge_ttl: float = 60.0  # seconds a reader's challenge stays valid (assumption)
    lead_time: float = DEFAULT_LEAD_TIME  # application to hand-over (assumption: about a month)
    ordinances: tuple[str, ...] = ()  # free-area apps the city enacted ordinances for (Art. 18)

    def __post_init__(self) -> None:
        Algorithm.parse(self.algorithm)
        if self.revocation not in REVOCATION_MODES:
            raise ValidationError(f"revocation must be one of {', '.join(REVOCATION_MODES)}, got {self.revocation!r}")
        for name in ("list_interval", "max_list_age", "challenge_ttl", "lead_time"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value > 0:
                raise ValidationError(f"{name} must be a positive number of seconds, got {value!r}")
        unknown = [a for a in self.ordinances if a not in BY_NAME]
        if unknown:
            raise ValidationError(f"unknown free-area app(s) {', '.join(map(repr, unknown))} in ordinances; "
                                  f"catalogue: {', '.join(BY_NAME)}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrustParams:
        """Parameters from a mapping (TOML, a dashboard); an unknown key is an error naming it."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"unknown trust parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = dict(data)
        if "ordinances" in values:
            values["ordinances"] = tuple(values["ordinances"])
        return cls(**values)

    def authority(self, seed: int, events: EventLog | None = None) -> CertificateAuthority:
        """The certificate authority these parameters describe."""
        return CertificateAuthority(seed, self.algorithm, list_interval=self.list_interval, events=events)

    def registry(self, city, ca: CertificateAuthority, now: float) -> CardRegistry:
        """The city's card registry at `now`."""
        return CardRegistry.from_city(city, ca, now, ordinances=self.ordinances, lead_time=self.lead_time)

    def reader(self, ca: CertificateAuthority, registry: CardRegistry, reader_id: str, **kwargs: Any) -> Reader:
        """A reader with these revocation, list-age and challenge settings (`kwargs`: sink, rng, online)."""
        return Reader(ca, registry, reader_id=reader_id, revocation=self.revocation,
                      max_list_age=self.max_list_age, challenge_ttl=self.challenge_ttl, **kwargs)
