"""The fitted quantities themselves: service times, the evacuation curve, counters, kiosks, demand.

Each is a frozen value read from `calibration/fitted/params.json` by `calibration.params`
(which documents every key and its source); imports only numpy and the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

import numpy as np

from twin.errors import ValidationError

_Z95 = 1.6448536269514722  # standard normal 95th percentile


def check_keys(cls: type, data: Mapping[str, Any]) -> None:
    """Refuse unknown or missing keys, naming them."""
    names = {f.name for f in fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValidationError(f"{cls.__name__}: unknown key(s) {unknown}; known: {sorted(names)}")
    required = {f.name for f in fields(cls) if f.init and f.default is MISSING and f.default_factory is MISSING}
    missing = sorted(required - set(data))
    if missing:
        raise ValidationError(f"{cls.__name__}: missing key(s) {missing}")


@dataclass(frozen=True, slots=True)
class ServiceTime:
    """A lognormal time in seconds: ln(T) ~ Normal(mu, sigma)."""

    mu: float
    sigma: float
    sources: tuple[str, ...] = ()
    status: str = "fitted"  # fitted | assumption

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mu) and math.isfinite(self.sigma)) or self.sigma < 0:
            raise ValidationError(f"ServiceTime needs finite mu and sigma >= 0, got {self.mu}, {self.sigma}")
        object.__setattr__(self, "sources", tuple(self.sources))

    @classmethod
    def from_mean(cls, mean_s: float, sigma: float, sources: tuple[str, ...] = (), status: str = "fitted") -> ServiceTime:
        """The lognormal with this mean (seconds) and log-spread."""
        if mean_s <= 0:
            raise ValidationError(f"mean time must be positive, got {mean_s}")
        return cls(math.log(mean_s) - sigma * sigma / 2, sigma, tuple(sources), status)

    @property
    def mean_s(self) -> float:
        """Mean time in seconds."""
        return math.exp(self.mu + self.sigma**2 / 2)

    @property
    def median_s(self) -> float:
        """Median time in seconds."""
        return math.exp(self.mu)

    @property
    def p95_s(self) -> float:
        """95th percentile in seconds."""
        return math.exp(self.mu + _Z95 * self.sigma)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> np.ndarray:
        """Draw times in seconds."""
        return rng.lognormal(self.mu, self.sigma, size)

    def scaled(self, factor: float) -> ServiceTime:
        """The same shape with every time multiplied by `factor`."""
        return ServiceTime(self.mu + math.log(factor), self.sigma, self.sources, self.status)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the derived mean/median/p95 for readers of the file."""
        d = asdict(self)
        d["sources"] = list(self.sources)
        d.update(mean_s=self.mean_s, median_s=self.median_s, p95_s=self.p95_s)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceTime:
        """Build from `to_dict` output (the derived keys are checked, not trusted)."""
        d = dict(data)
        derived = {k: d.pop(k) for k in ("mean_s", "median_s", "p95_s") if k in d}
        check_keys(cls, d)
        st = cls(**{**d, "sources": tuple(d.get("sources", ()))})
        for k, v in derived.items():
            if not math.isclose(getattr(st, k), float(v), rel_tol=1e-6):
                raise ValidationError(f"ServiceTime {k}={v} disagrees with mu/sigma ({getattr(st, k):.6g})")
        return st


@dataclass(frozen=True, slots=True)
class EvacuationCurve:
    """Share of the population in shelters over the hours after a main shock."""

    peak_share: float
    time_to_peak_h: float
    decline_per_day: float
    rise_shape: float
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.peak_share <= 1:
            raise ValidationError(f"peak_share must be in (0, 1], got {self.peak_share}")
        if self.time_to_peak_h <= 0 or self.decline_per_day < 0 or self.rise_shape <= 0:
            raise ValidationError("time_to_peak_h and rise_shape must be > 0, decline_per_day >= 0")
        object.__setattr__(self, "sources", tuple(self.sources))

    @property
    def rise_scale_h(self) -> float:
        """Weibull scale (hours) such that 95 % of peak arrivals are in by time_to_peak_h."""
        return self.time_to_peak_h / (-math.log(0.05)) ** (1 / self.rise_shape)

    def arrived_fraction(self, hours: np.ndarray | float) -> np.ndarray:
        """Share of the peak's evacuees who have arrived by `hours` (Weibull CDF)."""
        t = np.clip(np.asarray(hours, dtype=float), 0, None)
        return 1 - np.exp(-((t / self.rise_scale_h) ** self.rise_shape))

    def present_share(self, hours: np.ndarray | float) -> np.ndarray:
        """Share of the population in shelters at `hours` after the shock."""
        t = np.asarray(hours, dtype=float)
        rise = self.peak_share * self.arrived_fraction(t) / self.arrived_fraction(self.time_to_peak_h)
        fall = self.peak_share * np.exp(-self.decline_per_day * (t - self.time_to_peak_h) / 24)
        return np.where(t <= self.time_to_peak_h, rise, fall)

    def sample_arrival_hours(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Arrival times (hours after the shock) of n evacuees, truncated at the peak."""
        cap = float(self.arrived_fraction(self.time_to_peak_h))
        u = rng.uniform(0, cap, n)
        return self.rise_scale_h * (-np.log1p(-u)) ** (1 / self.rise_shape)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {**asdict(self), "sources": list(self.sources)}


@dataclass(frozen=True, slots=True)
class CounterService:
    """City-office certificate counters (窓口): service times, guide rate, cost, hours."""

    minutes_per_person_ahead: float
    reference_windows: int
    service_time: ServiceTime
    cost_yen_per_certificate: float
    open_hour: float
    close_hour: float
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.minutes_per_person_ahead <= 0 or self.reference_windows < 1:
            raise ValidationError("minutes_per_person_ahead must be > 0 and reference_windows >= 1")
        if not 0 <= self.open_hour < self.close_hour <= 24:
            raise ValidationError(f"bad office hours {self.open_hour}-{self.close_hour}")
        object.__setattr__(self, "sources", tuple(self.sources))

    def service_time_for(self, windows: int) -> ServiceTime:
        """One window's service time when `windows` share the queue at the guide's rate."""
        if windows < 1:
            raise ValidationError(f"windows must be >= 1, got {windows}")
        return self.service_time.scaled(windows / self.reference_windows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {**asdict(self), "service_time": self.service_time.to_dict(), "sources": list(self.sources)}


@dataclass(frozen=True, slots=True)
class KioskService:
    """Convenience-store and public kiosks (キオスク端末): time, share of demand, hours."""

    service_time: ServiceTime
    share_scale: float
    share_exponent: float
    open_hour: float
    close_hour: float
    closed_month_days: tuple[tuple[int, int], ...]
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.share_scale <= 0 or self.share_exponent <= 0:
            raise ValidationError("share_scale and share_exponent must be > 0")
        object.__setattr__(self, "closed_month_days", tuple(tuple(md) for md in self.closed_month_days))
        object.__setattr__(self, "sources", tuple(self.sources))

    def share_of_demand(self, ownership: np.ndarray | float) -> np.ndarray:
        """Share of certificate requests served by kiosks at this card ownership."""
        own = np.clip(np.asarray(ownership, dtype=float), 0, 1)
        return np.minimum(own, self.share_scale * own**self.share_exponent)

    def holder_probability(self, ownership: np.ndarray | float) -> np.ndarray:
        """Chance that a card holder's request goes to a kiosk (share / ownership)."""
        own = np.clip(np.asarray(ownership, dtype=float), 1e-12, 1)
        return self.share_of_demand(own) / own

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        d = {**asdict(self), "service_time": self.service_time.to_dict(), "sources": list(self.sources)}
        d["closed_month_days"] = [list(md) for md in self.closed_month_days]
        return d


@dataclass(frozen=True, slots=True)
class DemandProfile:
    """When certificate requests come: season, day of week, hour of day."""

    requests_per_resident_per_year: float
    day_of_week: tuple[float, ...]
    peak_hour_centre: float
    peak_hour_sd: float
    hour_base: float
    season_peak_factor: float
    season_peak_day: float
    season_width_before_days: float
    season_width_after_days: float
    tax_season_factor: float
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.day_of_week) != 7 or min(self.day_of_week) < 0:
            raise ValidationError("day_of_week needs 7 non-negative multipliers, Monday first")
        if self.peak_hour_sd <= 0 or self.season_peak_factor < 1 or self.requests_per_resident_per_year <= 0:
            raise ValidationError("peak_hour_sd > 0, season_peak_factor >= 1, requests rate > 0 required")
        object.__setattr__(self, "day_of_week", tuple(float(x) for x in self.day_of_week))
        object.__setattr__(self, "sources", tuple(self.sources))

    def season_factor(self, day_of_year: np.ndarray | float) -> np.ndarray:
        """Demand multiplier by day of year (1 = an ordinary day)."""
        d = np.asarray(day_of_year, dtype=float)
        w = np.where(d < self.season_peak_day, self.season_width_before_days, self.season_width_after_days)
        bump = (self.season_peak_factor - 1) * np.exp(-0.5 * ((d - self.season_peak_day) / w) ** 2)
        tax = self.tax_season_factor - 1
        in_tax = (d >= 152) & (d <= 196)  # 1 June .. mid-July (non-leap day numbers)
        return 1 + bump + np.where(in_tax, tax, 0.0)

    def daily_factor(self, day_of_year: np.ndarray | float, weekday: np.ndarray | int) -> np.ndarray:
        """Season x day-of-week multiplier (weekday 0 = Monday)."""
        dow = np.asarray(self.day_of_week)[np.asarray(weekday, dtype=int)]
        return self.season_factor(day_of_year) * dow

    def hourly_weights(self, hours: np.ndarray | float) -> np.ndarray:
        """Relative request rate at clock hour `hours` (unnormalised)."""
        h = np.asarray(hours, dtype=float)
        return self.hour_base + np.exp(-0.5 * ((h - self.peak_hour_centre) / self.peak_hour_sd) ** 2)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {**asdict(self), "day_of_week": list(self.day_of_week), "sources": list(self.sources)}
