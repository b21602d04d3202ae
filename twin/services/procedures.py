"""Procedures and the identity assurance each one needs (手続ごとの本人確認の水準)."""

from __future__ import annotations

from dataclasses import dataclass

from twin.errors import Forbidden, NotFound
from twin.identity import Assurance, Identity


@dataclass(frozen=True, slots=True)
class Procedure:
    """A procedure a resident asks for and the weakest identity assurance it accepts."""

    key: str
    name_ja: str
    required: Assurance
    why: str


PROCEDURES: dict[str, Procedure] = {
    p.key: p
    for p in (
        Procedure("shelter_registration", "避難所受付", Assurance.LOW,
                  "anyone who arrives is sheltered; the record only needs a plausible name"),
        Procedure("family_lookup", "家族の安否照会", Assurance.MEDIUM,
                  "reveals where household members are, so the asker must be who they claim"),
        Procedure("relief_payment", "被災者への給付金・見舞金", Assurance.MEDIUM,
                  "money leaves the city; a face-photo match plus interview is the floor"),
        Procedure("child_watch_consent", "見守りサービスの同意", Assurance.HIGH,
                  "a guardian's consent to track a child needs the card's PIN or a counter check"),
    )
}


class InsufficientAssurance(Forbidden):
    """The identity was established too weakly for the procedure asked for."""

    code = "insufficient_assurance"


def procedure(key: str) -> Procedure:
    """The procedure called `key`; an unknown key is an error listing the known ones."""
    try:
        return PROCEDURES[key]
    except KeyError:
        raise NotFound(f"unknown procedure {key!r}; known: {', '.join(sorted(PROCEDURES))}") from None


def require_assurance(identity: Identity, key: str) -> Identity:
    """Return `identity` if it is strong enough for procedure `key`, else refuse saying what is missing."""
    p = procedure(key)
    if identity.assurance < p.required:
        raise InsufficientAssurance(
            f"{p.key} ({p.name_ja}) needs assurance {p.required.name} or higher; resident "
            f"{identity.resident_id} was identified by {identity.method} at {identity.assurance.name}"
        )
    return identity
