"""Where each line of the review comes from: the report, the project's reading, an assumption, or a law.

Every finding, refusal, ordinance, dependency, effect and cost of the review carries a
`Basis`. `report` quotes the Japanese words it rests on (a test checks each quote against the
cited lines of the report); `reading` names the lines it interprets and why; `assumption`
names its source ("none" when there is none); `law` names an article, printed as numbered at
the legal baseline's date (twin/policy_data/laws.toml) with its current number, or marked
unverified.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from twin.errors import ValidationError

BASES = ("report", "reading", "assumption", "law")
LAWS_FILE = Path(__file__).resolve().parent / "policy_data" / "laws.toml"
_LINES = re.compile(r"L(\d+)(?:-(\d+))?")


@dataclass(frozen=True, slots=True)
class Basis:
    """What a line rests on: its kind, the report lines, and the quote, reason, source or article."""

    kind: str  # report | reading | assumption | law
    ref: str = ""  # chapter, page, table row and lines of the report ("" for an assumption from elsewhere)
    quote: str = ""  # report: the report's own words, verbatim within the cited lines
    why: str = ""  # reading: one sentence on why the project reads the lines so
    source: str = ""  # assumption: where the figure or rule comes from, or "none"
    law: str = ""  # law: the article, a key of laws.toml

    def label(self) -> str:
        """One line for a reader: the kind, then the quote, reason, source or article."""
        if self.kind == "report":
            return f"report {self.ref}: 「{self.quote}」"
        if self.kind == "reading":
            return f"reading of {self.ref}: {self.why}"
        if self.kind == "assumption":
            return f"assumption ({self.source or 'none'})"
        return f"law: {article_label(self.law)}" + (f"; report {self.ref}" if self.ref else "")

    def short(self) -> str:
        """The kind and the lines, for narrow columns."""
        return f"{self.kind} {self.ref}".strip()


def basis_of(row: dict[str, Any], where: str = "review data") -> Basis:
    """The Basis a data row states; ValidationError naming `where` when it is incomplete."""
    kind = row.get("basis", "report")
    if kind not in BASES:
        raise ValidationError(f"{where}: basis must be one of {BASES}, got {kind!r}")
    b = Basis(kind, row.get("ref", ""), row.get("quote", ""), row.get("why", ""), row.get("source", ""), row.get("law", ""))
    need = {"report": ("ref", "quote"), "reading": ("ref", "why"), "assumption": ("source",), "law": ("law",)}[kind]
    missing = [k for k in need if not getattr(b, k)]
    if missing:
        raise ValidationError(f"{where}: basis {kind!r} needs {' and '.join(missing)}")
    if kind == "law" and b.law not in laws()["articles"]:
        raise ValidationError(f"{where}: law {b.law!r} is not listed in {LAWS_FILE.name}")
    return b


def cited_lines(ref: str) -> list[int]:
    """Every line number a reference cites (L562-563 gives 562 and 563)."""
    out: list[int] = []
    for a, b in _LINES.findall(ref):
        out += range(int(a), int(b or a) + 1)
    return out


@cache
def laws() -> dict[str, Any]:
    """The legal baseline: its as-of date and the articles cited, with their current numbering."""
    with open(LAWS_FILE, "rb") as fh:
        data = tomllib.load(fh)
    base = data.get("baseline", {})
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(base.get("as_of", ""))):
        raise ValidationError(f"{LAWS_FILE.name}: baseline.as_of must be a YYYY-MM-DD date")
    for key, art in data.get("articles", {}).items():
        if not art.get("ja") or "current" not in art or (art["current"] and not art.get("current_source")):
            raise ValidationError(f"{LAWS_FILE.name}: article {key!r} needs ja, current and (when current is set) current_source")
    return data


def as_of() -> str:
    """The date the legal baseline's article numbers refer to."""
    return laws()["baseline"]["as_of"]


def article_label(key: str) -> str:
    """An article as numbered at the baseline date, with its current number or 'unverified'."""
    art = laws()["articles"].get(key)
    if art is None:
        return key
    now = f"now {art['current']} ({art['current_source']})" if art["current"] else "current numbering unverified"
    return f"{key} ({art['ja']}) as numbered on {as_of()}; {now}"
