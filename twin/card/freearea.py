"""The chip's free area (空き領域): municipal apps installed under a city ordinance (My Number Act Art. 18)."""

from __future__ import annotations

from dataclasses import dataclass

from twin.errors import ValidationError


@dataclass(frozen=True, slots=True)
class FreeAreaApp:
    """A municipal app the free area can hold; `needs_pin` apps open with the user-authentication PIN."""

    name: str
    name_ja: str
    needs_pin: bool


# The catalogue (one bit each in the registry's `apps` column). Which apps need the PIN is an
# assumption: apps that move money or medical data open with the user PIN, the rest by a tap.
CATALOGUE = (
    FreeAreaApp("library", "図書館カード", False),
    FreeAreaApp("seal", "印鑑登録証", False),
    FreeAreaApp("facility", "施設予約カード", False),
    FreeAreaApp("hospital", "市立病院診察券", True),
    FreeAreaApp("points", "行政ポイント", True),
    FreeAreaApp("child_watch", "児童見守り", False),
)
BY_NAME = {a.name: i for i, a in enumerate(CATALOGUE)}
FREE_AREA_SLOTS = 4  # apps one card holds at once (assumption, unverified: chip memory is small)


def app_bit(name: str) -> int:
    """The catalogue index of a free-area app; unknown names are an error listing the catalogue."""
    try:
        return BY_NAME[name]
    except (KeyError, TypeError):
        raise ValidationError(f"unknown free-area app {name!r}; catalogue: {', '.join(BY_NAME)}") from None


def names_in(mask: int) -> tuple[str, ...]:
    """The app names set in a bitmask."""
    return tuple(a.name for i, a in enumerate(CATALOGUE) if mask >> i & 1)
