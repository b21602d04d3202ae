"""Who a caller is, once a reader, counter or face check has established it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from twin.fast_init import fast_init


class Assurance(IntEnum):
    """How sure the twin is that a person is who they claim (higher is stronger)."""

    NONE = 0  # self-declared, nothing checked
    LOW = 1  # paper form, name and address as written
    MEDIUM = 2  # card face / serial tap without PIN, or face photo plus interview
    HIGH = 3  # JPKI user certificate with PIN, or a counter check of photo ID


@fast_init
@dataclass(frozen=True, slots=True)
class Identity:
    """An established identity: a resident, how it was established, when, and how strongly."""

    resident_id: int
    method: str  # e.g. "jpki_user_cert", "card_serial", "counter_photo_id", "face_photo", "paper_form"
    assurance: Assurance
    at: float
    card_serial: int | None = None
