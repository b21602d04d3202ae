"""The My Number card (個人番号カード): chip apps, PINs, lifecycle, and the city's columnar registry."""

from twin.card.chip import Card, InputSupportData, SignedFace
from twin.card.freearea import CATALOGUE, FREE_AREA_SLOTS, FreeAreaApp
from twin.card.registry import CardRegistry
from twin.card.rules import MAX_TRIES, PIN_APPS, STATUS_NAMES, Pins, derive_pins, mistype
from twin.pki import FaceData

__all__ = ["CATALOGUE", "FREE_AREA_SLOTS", "MAX_TRIES", "PIN_APPS", "STATUS_NAMES", "Card", "CardRegistry",
           "FaceData", "FreeAreaApp", "InputSupportData", "Pins", "SignedFace", "derive_pins", "mistype"]
