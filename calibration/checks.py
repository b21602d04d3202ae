"""One validation row: a published figure, the twin's value, the error and the verdict."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

PASS, FAIL, CANNOT = "pass", "fail", "cannot reproduce"


def number(x: float) -> str:
    """A figure as people write it: 1,550,000 / 262 / 0.1029."""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


@dataclass(frozen=True)
class Published:
    """A published figure: exact (low == high), a lower bound (high None), an upper bound
    (low None) or an interval."""

    low: float | None
    high: float | None

    def __post_init__(self) -> None:
        if self.low is None and self.high is None:
            raise ValueError("a published figure needs at least one bound")

    def text(self, unit: str) -> str:
        """How the figure reads: '262 s', '>= 300 s', '<= 180 min', '120-180 s'."""
        u = f" {unit}" if unit else ""
        if self.high is None:
            return f">= {number(self.low)}{u}"
        if self.low is None:
            return f"<= {number(self.high)}{u}"
        if self.low == self.high:
            return f"{number(self.low)}{u}"
        return f"{number(self.low)}-{number(self.high)}{u}"

    def relative_error(self, twin: float) -> float:
        """0 inside the figure's range, else the signed distance to the nearest edge over it."""
        if self.low is not None and twin < self.low:
            return (twin - self.low) / abs(self.low)
        if self.high is not None and twin > self.high:
            return (twin - self.high) / abs(self.high)
        return 0.0


@dataclass(frozen=True)
class Check:
    """One row of the validation table."""

    area: str
    figure: str
    published: str
    twin: float | None
    unit: str
    rel_error: float | None
    tolerance: float
    verdict: str
    computed_by: str
    source: str

    def to_dict(self) -> dict:
        """JSON-ready (NaN-free)."""
        return asdict(self)


def check(area: str, figure: str, pub: Published, twin: float | None, unit: str, tolerance: float,
          computed_by: str, source: str) -> Check:
    """Compare the twin's value with a published figure; None or NaN means it cannot reproduce it."""
    if twin is None or not math.isfinite(twin):
        return Check(area, figure, pub.text(unit), None, unit, None, tolerance, CANNOT, computed_by, source)
    err = pub.relative_error(twin)
    verdict = PASS if abs(err) <= tolerance + 1e-12 else FAIL
    return Check(area, figure, pub.text(unit), float(twin), unit, float(err), tolerance, verdict, computed_by, source)


def cannot(area: str, figure: str, pub: Published, unit: str, why: str, source: str) -> Check:
    """A figure the twin cannot reproduce, with the reason."""
    return Check(area, figure, pub.text(unit), None, unit, None, 0.0, CANNOT, why, source)
