"""Typed events of the face-photo identity check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from twin.events import Event


@dataclass(frozen=True, slots=True)
class FaceCheckAttempted(Event):
    """One face check: the claim, the procedure, the score, both verdicts, the level and the result."""

    claimed_id: int
    procedure: str
    score: float  # cosine score; NaN if no registered photo or no capture
    matched: bool
    interview_ok: bool
    assurance: int  # twin.identity.Assurance value earned
    accepted: bool
    reason: str  # refusal code, "" if accepted
    kind: ClassVar[str] = "face_check_attempted"
