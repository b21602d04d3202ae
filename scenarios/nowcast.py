"""Forecast from the live state (ナウキャスト): replications of shelter check-in started from a snapshot.

A `LiveState` is what the live service knows at one instant: per shelter the registered count,
the arrivals so far when a desk counts them, readers online, paper staff and capacity, and the
recent card service time. The forecast runs replications FROM that instant on the fast
engine's FIFO stages (`scenarios.fast.kernel.FifoStage`), not from time zero:

- the rest of the arrivals: the evacuation curve conditioned on what has arrived. People
  arrive in groups (households, mean size g). A shelter's expected total of groups is unknown;
  with groups so far A/g ~ Poisson(theta * F(t)) (F: share of the curve's arrivals by now) and a
  flat prior, theta ~ Gamma(A/g + 1, rate F(t)); the rest ~ Poisson(theta * (1 - F(t))) groups
  of 1 + Poisson(g - 1) people, at times drawn from the curve after now (up to its peak).
  When the total is known (`expected`: a drill's participants, or a plan taken as true), the
  rest is that total minus the arrivals, at times from the curve after now.
- people waiting now are not seen by taps: with arrivals counted, waiting = arrived -
  registered; without, nobody is taken as waiting and the answer says so (`lacking`).
- the reduced model: every person queues once at its shelter (card users at the readers, the
  rest at the paper desk); no redirects, household groups, outages or departures (the full
  disaster model's); a shelter "fills" when its arrivals reach its capacity.

Answers are 95 % prediction intervals (2.5-97.5 % of replications): where the one future the
city will see should fall, not a confidence interval of a mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from calibration.params import EvacuationCurve
from scenarios.fast.kernel import FifoStage
from twin.errors import ValidationError

SHARE = 0.95


@dataclass(frozen=True)
class ShelterState:
    """One shelter at the snapshot."""

    shelter_id: int
    capacity: int
    registered: int
    arrived: int | None  # None: the live service did not count arrivals here
    readers_online: int
    paper_staff: int
    expected: int | None = None  # planned evacuees in all (a drill's participants); None: not known

    def __post_init__(self) -> None:
        if min(self.capacity, self.registered, self.readers_online, self.paper_staff) < 0:
            raise ValidationError(f"shelter {self.shelter_id}: counts must be >= 0")
        if self.arrived is not None and self.arrived < self.registered:
            raise ValidationError(f"shelter {self.shelter_id}: arrived ({self.arrived}) < registered "
                                  f"({self.registered})")
        if self.readers_online + self.paper_staff == 0:
            raise ValidationError(f"shelter {self.shelter_id}: no reader and no paper staff: nobody can register")


@dataclass(frozen=True)
class LiveState:
    """What the live service knows at `hours` after the quake."""

    hours: float
    shelters: tuple[ShelterState, ...]
    card_mu: float  # recent card service time: ln T ~ N(card_mu, card_sigma), seconds
    card_sigma: float
    paper_mean_s: float
    card_share: float  # share of evacuees who check in by card
    time_to_peak_h: float
    rise_shape: float
    horizon_h: float = 48.0
    group_size: float = 1.0  # mean people arriving together (households): clumps the arrivals


    def __post_init__(self) -> None:
        if not self.shelters:
            raise ValidationError("the live state has no shelters")
        if not 0 <= self.hours < self.horizon_h:
            raise ValidationError(f"the snapshot time {self.hours} h must lie in [0, horizon {self.horizon_h} h)")
        if self.group_size < 1:
            raise ValidationError(f"group_size must be >= 1, got {self.group_size}")
        if not 0 <= self.card_share <= 1 or self.card_sigma < 0 or self.paper_mean_s <= 0:
            raise ValidationError("card_share must be in [0, 1], card_sigma >= 0, paper_mean_s > 0")


@dataclass(frozen=True)
class Band:
    """A 95 % prediction interval over replications, with its median."""

    median: float
    low: float
    high: float
    n: int

    def contains(self, x: float) -> bool:
        """Whether `x` lies inside."""
        return self.low <= x <= self.high

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as None)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in {"median": self.median, "low": self.low, "high": self.high, "n": self.n}.items()}


def band(values: np.ndarray, lo: float = 0.0) -> Band:
    """Median and 2.5-97.5 % of the finite values, clipped into [lo, inf)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Band(math.nan, math.nan, math.nan, 0)
    q = np.maximum(np.quantile(x, [0.5, 0.025, 0.975]), lo)
    return Band(float(q[0]), float(q[1]), float(q[2]), int(x.size))


@dataclass(frozen=True)
class Forecast:
    """The answers: time until 95 % registered, shelters that fill and when, peak wait per shelter."""

    hours: float
    reps: int
    t95_h: Band
    t95_reached: float  # share of replications reaching 95 % within the horizon
    fill_probability: dict[int, float]
    fill_h: dict[int, Band]
    peak_wait_min: dict[int, Band]
    lacking: tuple[str, ...]
    what_if: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"hours": self.hours, "reps": self.reps, "interval": "95 % prediction interval over replications",
                "t95_h": self.t95_h.to_dict(), "t95_reached_share": self.t95_reached,
                "shelters": {str(s): {"fill_probability": self.fill_probability[s],
                                      "fill_h": self.fill_h[s].to_dict(),
                                      "peak_wait_min": self.peak_wait_min[s].to_dict()}
                             for s in self.fill_probability},
                "lacking": list(self.lacking), "what_if": self.what_if}


def _rest_of_arrivals(state: LiveState, s: ShelterState, rng: np.random.Generator) -> np.ndarray:
    """Arrival times (h) after the snapshot, from the curve conditioned on the arrivals so far."""
    curve = EvacuationCurve(0.1, state.time_to_peak_h, 0.0, state.rise_shape)
    at_peak = float(curve.arrived_fraction(state.time_to_peak_h))
    now = float(curve.arrived_fraction(min(state.hours, state.time_to_peak_h)))
    share_now = now / at_peak
    if share_now >= 1.0:
        return np.empty(0)
    seen = s.arrived if s.arrived is not None else s.registered
    g = state.group_size
    if s.expected is not None:  # the total is known: the rest is what has not come yet
        rest = max(s.expected - seen, 0)
        sizes = 1 + rng.poisson(g - 1, rest)
        sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), rest)) + 1]
        if sizes.size:
            sizes[-1] -= int(sizes.sum()) - rest
        u = rng.uniform(now, at_peak, sizes.size)
        times = np.sort(curve.rise_scale_h * (-np.log1p(-u)) ** (1 / curve.rise_shape))
        return np.repeat(times, sizes)
    theta = rng.gamma(seen / g + 1, 1.0 / max(share_now, 1e-9))  # groups, not people, arrive independently
    n = int(rng.poisson(theta * (1 - share_now)))
    u = rng.uniform(now, at_peak, n)
    times = np.sort(curve.rise_scale_h * (-np.log1p(-u)) ** (1 / curve.rise_shape))
    return np.repeat(times, 1 + rng.poisson(g - 1, n))


def _one_shelter(state: LiveState, s: ShelterState, extra: int, rng: np.random.Generator
                 ) -> tuple[np.ndarray, float, float, int]:
    """One replication at one shelter: registration times (h) of everyone not yet registered, peak wait (min), fill time (h), arrivals."""
    waiting = 0 if s.arrived is None else s.arrived - s.registered
    later = _rest_of_arrivals(state, s, rng)
    at = np.concatenate([np.full(waiting, state.hours), later]) * 3600.0
    card = rng.random(at.size) < state.card_share
    dur = np.where(card, rng.lognormal(state.card_mu, state.card_sigma, at.size),
                   rng.lognormal(math.log(state.paper_mean_s) - state.card_sigma**2 / 2, state.card_sigma, at.size))
    t0 = state.hours * 3600.0
    k = s.readers_online + extra
    readers = FifoStage(k, "readers", np.full(k, t0)) if k else None
    paper = FifoStage(max(s.paper_staff, 1), "paper", np.full(max(s.paper_staff, 1), t0))
    done, peak = np.empty(at.size), 0.0
    for i in range(at.size):
        stage = readers if card[i] and readers is not None else paper
        start, end, _ = stage.arrive(float(at[i]), float(dur[i]))
        done[i], peak = end, max(peak, start - at[i])
    seen = (s.arrived if s.arrived is not None else s.registered) + later.size
    fill = math.nan
    if seen >= s.capacity > 0:
        before = (s.arrived if s.arrived is not None else s.registered)
        fill = state.hours if before >= s.capacity else float(later[s.capacity - before - 1])
    return done / 3600.0, peak / 60.0, fill, seen


def _replicate(state: LiveState, reps: int, seed: int, add: dict[int, int]) -> dict[str, Any]:
    """Run the replications; raw per-replication figures."""
    ids = [s.shelter_id for s in state.shelters]
    t95, fill, peak = np.full(reps, np.nan), {i: np.full(reps, np.nan) for i in ids}, {i: np.zeros(reps) for i in ids}
    root = np.random.SeedSequence(seed)
    for r, child in enumerate(root.spawn(reps)):
        rngs = [np.random.default_rng(c) for c in child.spawn(len(ids))]  # common random numbers per shelter
        done, total, already = [], 0, 0
        for s, rng in zip(state.shelters, rngs, strict=True):
            times, pk, fl, seen = _one_shelter(state, s, add.get(s.shelter_id, 0), rng)
            done.append(times)
            total += max(seen, s.registered)
            already += s.registered
            peak[s.shelter_id][r], fill[s.shelter_id][r] = pk, fl
        need = math.ceil(SHARE * total) - already
        new = np.sort(np.concatenate(done))
        if need <= 0:
            t95[r] = state.hours
        elif need <= new.size and new[need - 1] <= state.horizon_h:
            t95[r] = new[need - 1]
    return {"t95": t95, "fill": fill, "peak": peak}


def _summary(state: LiveState, raw: dict[str, Any], reps: int, lacking: tuple[str, ...]) -> Forecast:
    fill = raw["fill"]
    return Forecast(state.hours, reps, band(raw["t95"], state.hours), float(np.isfinite(raw["t95"]).mean()),
                    {s: float(np.isfinite(v).mean()) for s, v in fill.items()},
                    {s: band(v, state.hours) for s, v in fill.items()},
                    {s: band(v) for s, v in raw["peak"].items()}, lacking)


def lacking_of(state: LiveState) -> tuple[str, ...]:
    """What the live state does not tell, and how the forecast treats it."""
    out = []
    blind = [s.shelter_id for s in state.shelters if s.arrived is None]
    if blind:
        out.append(f"arrivals not counted at shelters {blind}: people waiting there taken as 0 and the "
                   "curve conditioned on registrations (the forecast is early)")
    off = [s.shelter_id for s in state.shelters if s.readers_online == 0]
    if off:
        out.append(f"no reader online at shelters {off}: card users go to the paper desk until readers return")
    out.append("departures, redirects and household groups are not modelled (reduced model)")
    return tuple(out)


def forecast(state: LiveState, reps: int = 40, seed: int = 0, add_readers: dict[int, int] | None = None
             ) -> Forecast:
    """Replications from the snapshot; with `add_readers` the what-if side by side (same random numbers)."""
    if reps < 2:
        raise ValidationError(f"a forecast needs at least 2 replications, got {reps}")
    known = {s.shelter_id for s in state.shelters}
    add = dict(add_readers or {})
    bad = sorted(set(add) - known)
    if bad or any(n < 0 for n in add.values()):
        raise ValidationError(f"add_readers: unknown shelters {bad} or a negative count (known: {sorted(known)})")
    lacking = lacking_of(state)
    base = _summary(state, _replicate(state, reps, seed, {}), reps, lacking)
    if not add:
        return base
    alt = _summary(state, _replicate(state, reps, seed, add), reps, lacking)
    return replace(base, what_if={"add_readers": {str(k): v for k, v in add.items()}, "forecast": alt.to_dict()})
