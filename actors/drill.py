"""A drill with real cards in the live service: its card CA and enrolled cards, as the trust actor applies them.

`run.py serve --trust-ca FILE --drill-cards FILE` reads both files once (errors name the file
and line, before anything starts) and carries their text in the service's spec, so every
actor on every node applies the same rules (`twin.drill_cards`). Each enrolled card plays a
synthetic resident who holds a card in the twin: the drill card is accepted as that card,
under its rules (status online, a loss report suspends it, a challenge answered once).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from actors.spec import ServiceSpec
from twin.drill_cards import DrillCards, short
from twin.errors import ValidationError
from twin.verifier import CertificateVerifier


def read_files(trust_ca: str | None, drill_cards: str | None) -> dict[str, str]:
    """The spec fields for `--trust-ca` and `--drill-cards` (both or neither), each file's content checked."""
    if not trust_ca and not drill_cards:
        return {}
    if not (trust_ca and drill_cards):
        raise ValidationError("--trust-ca and --drill-cards go together: the CA that issued the drill's cards, and "
                              "which synthetic resident each card plays")
    texts = {}
    for flag, value in (("--trust-ca", trust_ca), ("--drill-cards", drill_cards)):
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValidationError(f"{flag} {value}: no such file")
        try:
            texts[flag] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ValidationError(f"{flag} {value}: not a text file (the CA certificate must be PEM, the "
                                  "drill cards CSV)") from None
        except OSError as err:
            raise ValidationError(f"{flag} {value}: cannot be read ({err.strerror})") from None
    DrillCards.parse(texts["--trust-ca"], texts["--drill-cards"], ca_name=f"--trust-ca {trust_ca}",
                     cards_name=f"--drill-cards {drill_cards}")
    return {"trust_ca": texts["--trust-ca"], "drill_cards": texts["--drill-cards"]}


@lru_cache(maxsize=4)
def _parsed(ca_pem: str, cards: str) -> DrillCards:
    return DrillCards.parse(ca_pem, cards, ca_name="--trust-ca", cards_name="--drill-cards")


def cards(spec: ServiceSpec) -> DrillCards | None:
    """The drill's cards of a spec (None: no drill with real cards)."""
    return _parsed(spec.trust_ca, spec.drill_cards) if spec.trust_ca else None


def check_enrolment(spec: ServiceSpec, residents) -> None:
    """Refuse an enrolment naming a resident the city lacks or one without a card in the twin."""
    drill = cards(spec)
    if drill is None:
        return
    holders = dict(zip(residents["resident_id"].to_list(), residents["has_card"].to_list(), strict=True))
    for fp, rid in sorted(drill.enrolled.items(), key=lambda kv: kv[1]):
        if rid not in holders:
            raise ValidationError(f"--drill-cards: card {short(fp)} is enrolled for resident {rid}, whom "
                                  f"{spec.city} at scale {spec.scale:g} does not have (ids 0..{len(holders) - 1})")
        if not holders[rid]:
            raise ValidationError(f"--drill-cards: card {short(fp)} is enrolled for resident {rid}, who holds no "
                                  "card in the twin; enrol drill cards for card holders")


def configure(verifier: CertificateVerifier, spec: ServiceSpec, registry) -> None:
    """Make a verifier accept the spec's drill cards as their residents' cards (and, if asked, only those)."""
    drill = cards(spec)
    verifier.trust_drill_cards(drill, registry.serial_of_resident, virtual=not spec.drill_cards_only)


def summary(spec: ServiceSpec) -> str:
    """One line for the start-up banner: how many cards, which CA (by fingerprint), virtual cards or not."""
    drill = cards(spec)
    if drill is None:
        return ""
    cas = ", ".join(short(fp) for fp in drill.authority_fingerprints())
    virtual = "refused" if spec.drill_cards_only else "accepted beside them"
    n, m = len(drill.enrolled), len(drill.residents())
    return (f"drill cards: {n} enrolled, playing {m} synthetic resident{'s' if m != 1 else ''}; CA sha256 {cas}; "
            f"twin-made virtual cards {virtual}")
