"""Messages between agencies on the information provision network (情報提供ネットワークシステム).

They are typed so that they cannot carry a My Number: a resident appears only as an
agency-specific code (機関別符号) spelled in letters; agency, task and item names are letters;
every item is in the catalogue (calibration/data/linkage_items.csv) with a type and a range
of at most 10 digits; strings are scanned for 12 digits in a row (separators and full-width
digits included); and a time or id of 11 digits or more is refused on construction.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from twin.errors import ValidationError
from twin.services._checks import read_table

CODE_ALPHABET = str.maketrans("0123456789", "ghijklmnop")  # hex digits -> letters a-p
CODE_RE = re.compile(r"[a-p]{32}")
NAME_RE = re.compile(r"[a-z][a-z_.]{0,63}")  # agency, task and item names: letters only
# 12 digits in a row, each pair optionally split by one separator (space, hyphen, dot, slash …)
TWELVE_DIGITS = re.compile(r"\d(?:[\s\-‐‑‒–—―ー−./_,]?\d){11}")
MAX_TIME = 1e10  # POSIX seconds before the year 2286; a larger `at` could smuggle a number
MAX_NUMERIC = 10**10  # numbers of 11 digits or more could be a My Number (leading zero dropped)
MAX_SIGNIFICANT = 10  # floats must be rounded to at most 10 significant digits
FORBIDDEN_ITEM_WORDS = ("my_number", "mynumber", "individual_number", "kojin_bango")
Scalar = bool | int | float | str | dt.date | None


class CarriesMyNumber(ValidationError):
    """A value shaped like a My Number was put into a message between agencies."""

    code = "my_number_in_linkage_message"


def my_number_shaped(value: object) -> bool:
    """Whether a value could hold a My Number: 11+ digits as a number, 12 in a row in text."""
    if isinstance(value, bool) or value is None or isinstance(value, dt.date):
        return False
    if isinstance(value, int):
        return abs(value) >= MAX_NUMERIC
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) >= MAX_NUMERIC:
            return True
        mantissa = repr(value).split("e")[0]
        return sum(c.isdigit() for c in mantissa.lstrip("-0.")) > MAX_SIGNIFICANT
    if isinstance(value, str):
        return TWELVE_DIGITS.search(unicodedata.normalize("NFKC", value)) is not None
    return True  # anything else (bytes, containers, objects) cannot be checked: refuse it


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """A data item that may travel: its type and its allowed values."""

    item: str
    type: str  # int, str, date, bool
    low: int | None
    high: int | None
    choices: frozenset[str]


@lru_cache(maxsize=1)
def item_catalogue() -> dict[str, ItemSpec]:
    """The data items messages may carry (calibration/data/linkage_items.csv)."""
    out = {}
    for r in read_table("linkage_items.csv"):
        low, high = (int(r[k]) if r[k] else None for k in ("min", "max"))
        if high is not None and high >= MAX_NUMERIC:
            raise ValidationError(
                f"linkage_items.csv: {r['item']} max must stay below {MAX_NUMERIC}"
            )
        choices = frozenset(c for c in r["choices"].split("|") if c)
        if any(w in r["item"] for w in FORBIDDEN_ITEM_WORDS):
            raise ValidationError(
                f"linkage_items.csv: {r['item']!r}: the My Number is never an item"
            )
        out[check_name("item", r["item"])] = ItemSpec(r["item"], r["type"], low, high, choices)
    return out


def check_item(item: object) -> str:
    """Return an item name from the catalogue, or refuse it."""
    name = check_name("item", item)
    if name not in item_catalogue():
        raise ValidationError(
            f"unknown linkage item {name!r}; known: {', '.join(sorted(item_catalogue()))}"
        )
    return name


_TYPES = {"int": int, "str": str, "date": dt.date, "bool": bool, "float": float}


def check_value(item: str, value: object) -> Scalar:
    """Return a data value fit for a message (catalogue type and range, no My Number shape)."""
    if not isinstance(value, bool | int | float | str | dt.date) and value is not None:
        raise ValidationError(
            f"linkage item {item!r}: values must be scalars (bool, int, float, str, date, None), "
            f"got {type(value).__name__}"
        )
    if my_number_shaped(value):
        raise CarriesMyNumber(
            f"linkage item {item!r}: the value could hold a My Number (11+ digits as a number, "
            "12 digits in a row as text); messages between agencies carry agency codes only"
        )
    spec = item_catalogue()[check_item(item)]
    if value is None:
        return None
    if not isinstance(value, _TYPES[spec.type]) or (spec.type == "int" and isinstance(value, bool)):
        raise ValidationError(f"linkage item {item!r} is {spec.type}, got {type(value).__name__}")
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        raise ValidationError(
            f"linkage item {item!r} must be in [{spec.low}, {spec.high}], got {value!r}"
        )
    if spec.choices and value not in spec.choices:
        raise ValidationError(
            f"linkage item {item!r} must be one of {sorted(spec.choices)}, got {value!r}"
        )
    return value


def check_name(what: str, name: object) -> str:
    """Return an agency, task or item name (lower-case letters, dots, underscores) or refuse it."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ValidationError(
            f"{what} must be a name of lower-case letters, '.' and '_' (no digits), got {name!r}"
        )
    return name


def check_time(at: object) -> float:
    """Return a plausible POSIX time, or refuse it."""
    if isinstance(at, bool) or not isinstance(at, int | float) or not 0 <= at < MAX_TIME:
        raise ValidationError(
            f"message time must be POSIX seconds in [0, {MAX_TIME:.0e}), got {at!r}"
        )
    return float(at)


@dataclass(frozen=True, slots=True)
class AgencyCode:
    """A resident as one agency knows them (機関別符号): 32 letters, no digits."""

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not CODE_RE.fullmatch(self.value):
            raise ValidationError(
                f"an agency-specific code is 32 letters a-p, got {str(self.value)[:40]!r}"
            )

    @classmethod
    def from_digest(cls, digest: bytes) -> AgencyCode:
        """The code spelled from the first 16 bytes of a keyed hash."""
        return cls(digest[:16].hex().translate(CODE_ALPHABET))

    def __repr__(self) -> str:
        return f"AgencyCode({self.value[:6]}…)"


@dataclass(frozen=True, slots=True)
class LinkageRequest:
    """An information request (情報照会): who asks, about whom (their code), for which items."""

    requester: str
    provider: str
    task: str
    subject: AgencyCode
    items: tuple[str, ...]
    at: float

    def __post_init__(self) -> None:
        check_name("requester", self.requester)
        check_name("provider", self.provider)
        check_name("task", self.task)
        if not isinstance(self.subject, AgencyCode):
            raise ValidationError(
                f"a request names its subject by an AgencyCode, got {type(self.subject).__name__}"
            )
        if not isinstance(self.items, tuple) or not self.items:
            raise ValidationError(f"a request needs a non-empty tuple of items, got {self.items!r}")
        for item in self.items:
            check_item(item)
        object.__setattr__(self, "at", check_time(self.at))


@dataclass(frozen=True, slots=True)
class LinkageResponse:
    """An information provision (情報提供): the items found, under the requester's own code."""

    request_id: int
    requester: str
    provider: str
    task: str
    subject: AgencyCode
    values: tuple[tuple[str, Scalar], ...]
    missing: tuple[str, ...]
    at: float

    def __post_init__(self) -> None:
        if isinstance(self.request_id, bool) or not isinstance(self.request_id, int):
            raise ValidationError(f"request_id must be an int, got {self.request_id!r}")
        if my_number_shaped(self.request_id):
            raise CarriesMyNumber(f"request_id must stay below {MAX_NUMERIC}")
        for what in ("requester", "provider", "task"):
            check_name(what, getattr(self, what))
        if not isinstance(self.subject, AgencyCode):
            raise ValidationError("a response names its subject by an AgencyCode")
        if not isinstance(self.values, tuple) or not isinstance(self.missing, tuple):
            raise ValidationError("values and missing must be tuples")
        for pair in self.values:
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise ValidationError(f"values are (item, value) pairs, got {pair!r}")
            check_value(pair[0], pair[1])
        for item in self.missing:
            check_item(item)
        object.__setattr__(self, "at", check_time(self.at))

    def as_dict(self) -> dict[str, Scalar]:
        """The values found, by item."""
        return dict(self.values)
