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
- the groups meet the capacities in time order: who does not fit walks to the nearest open
  shelter with room (the service's redirect) or has no place; a shelter "fills" when its
  arrivals reach its capacity. A group's card holders queue as one at a reader, the rest as one
  at a paper desk (`scenarios.nowcast_model`). Not modelled: departures, reader outages to
  come, face checks, paper transcription.
- what-ifs on the same random numbers: more readers (`add_readers`), a closed shelter opened
  now (`open_shelters`: it takes its share of its neighbours' coming groups, as the disaster
  model's distance-decay choice among the 3 nearest would give it, and redirects reach it).

Answers are 95 % prediction intervals (2.5-97.5 % of replications): where the one future the
city will see should fall, not a confidence interval of a mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from scenarios.nowcast_model import opening_shares, rest_of_groups, route, serve
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
    x_km: float = 0.0  # place (redirects go to the nearest open shelter with room)
    y_km: float = 0.0
    is_open: bool = True  # a closed shelter takes nobody until a what-if opens it
    card_stretch: float = 1.0  # service-time factor of a reduced-scale desk (1 in the live service)
    paper_stretch: float = 1.0

    def __post_init__(self) -> None:
        if min(self.capacity, self.registered, self.readers_online, self.paper_staff) < 0:
            raise ValidationError(f"shelter {self.shelter_id}: counts must be >= 0")
        if self.arrived is not None and self.arrived < self.registered:
            raise ValidationError(f"shelter {self.shelter_id}: arrived ({self.arrived}) < registered "
                                  f"({self.registered})")
        if not self.is_open and self.registered:
            raise ValidationError(f"shelter {self.shelter_id} has {self.registered} registered: it is open")
        if min(self.card_stretch, self.paper_stretch) <= 0:
            raise ValidationError(f"shelter {self.shelter_id}: stretches must be > 0")
        if self.readers_online + self.paper_staff == 0:
            raise ValidationError(f"shelter {self.shelter_id}: no reader and no paper staff: nobody can register")

    @property
    def seen(self) -> int:
        """People known to have arrived (arrivals when counted, else registrations)."""
        return self.arrived if self.arrived is not None else self.registered


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
    walk_speed_kmh: float = 3.0  # redirected groups walk to the next shelter (the disaster model's)
    choice_decay_km: float = 1.0  # distance decay of the choice among the 3 nearest shelters

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
    redirected: Band  # people who walked on from a full shelter
    no_place: Band  # people for whom no open shelter had room
    is_open: dict[int, bool] = field(default_factory=dict)
    what_if: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"hours": self.hours, "reps": self.reps, "interval": "95 % prediction interval over replications",
                "t95_h": self.t95_h.to_dict(), "t95_reached_share": self.t95_reached,
                "redirected": self.redirected.to_dict(), "no_place": self.no_place.to_dict(),
                "shelters": {str(s): {"open": self.is_open.get(s, True),
                                      "fill_probability": self.fill_probability[s],
                                      "fill_h": self.fill_h[s].to_dict(),
                                      "peak_wait_min": self.peak_wait_min[s].to_dict()}
                             for s in self.fill_probability},
                "lacking": list(self.lacking), "what_if": self.what_if}


def _replicate(state: LiveState, reps: int, seed: int, add: dict[int, int], opened: list[int]) -> dict[str, Any]:
    """Run the replications; raw per-replication figures."""
    sh = state.shelters
    ids = [s.shelter_id for s in sh]
    xy = np.array([(s.x_km, s.y_km) for s in sh], dtype=float)
    was_open = np.array([s.is_open for s in sh])
    is_open = was_open.copy()
    at = [ids.index(o) for o in opened]
    is_open[at] = True
    shares = opening_shares(xy, was_open, at, state.choice_decay_km) if at else None
    cap = np.array([s.capacity for s in sh], dtype=np.int64)
    occupied = np.array([max(s.seen, s.registered) for s in sh], dtype=np.int64)
    already = int(sum(s.registered for s in sh))
    out = {k: np.full(reps, np.nan) for k in ("t95", "redirected", "no_place")}
    fill, peak = {i: np.full(reps, np.nan) for i in ids}, {i: np.zeros(reps) for i in ids}
    for r, child in enumerate(np.random.SeedSequence(seed).spawn(reps)):
        rngs = [[np.random.default_rng(c) for c in cs.spawn(3)] for cs in child.spawn(len(ids))]  # common random numbers per shelter
        groups = [rest_of_groups(state, s, g[0]) for s, g in zip(sh, rngs, strict=True)]
        pick = [g[0].random(t.size) for g, (t, _) in zip(rngs, groups, strict=True)]  # drawn also without a what-if
        if shares is not None:
            groups = _reassign(groups, pick, shares, at)
        routed = route(state.hours, groups, occupied, cap, xy, is_open, state.walk_speed_kmh)
        done = []
        for j, s in enumerate(sh):
            waiting = 0 if s.arrived is None else s.arrived - s.registered
            n = waiting + int(sum(routed.sizes[j]))
            card = rngs[j][1].random(n) < state.card_share
            d = rngs[j][2].lognormal(0.0, state.card_sigma, (2, n))
            dur = (d[0] * math.exp(state.card_mu) * s.card_stretch,
                   d[1] * state.paper_mean_s * math.exp(-state.card_sigma**2 / 2) * s.paper_stretch)
            times, pk = serve(state.hours, routed.times[j], routed.sizes[j], waiting,
                              s.readers_online + add.get(s.shelter_id, 0), s.paper_staff, dur, card)
            done.append(times)
            peak[s.shelter_id][r], fill[s.shelter_id][r] = pk, routed.fill_h[j]
        new = np.sort(np.concatenate(done))
        need = math.ceil(SHARE * (already + new.size)) - already
        if need <= 0:
            out["t95"][r] = state.hours
        elif need <= new.size and new[need - 1] <= state.horizon_h:
            out["t95"][r] = new[need - 1]
        out["redirected"][r], out["no_place"][r] = routed.redirected, routed.no_place
    return {**out, "fill": fill, "peak": peak, "open": dict(zip(ids, is_open.tolist(), strict=True))}


def _reassign(groups: list[tuple[np.ndarray, np.ndarray]], pick: list[np.ndarray], shares: np.ndarray,
              at: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Move each coming group to an opened shelter with its share (uniform draws `pick`)."""
    out = [list(g) for g in groups]
    moved: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {o: [] for o in at}
    for j, ((t, z), u) in enumerate(zip(groups, pick, strict=True)):
        cum = np.cumsum(shares[j])
        if not t.size or cum[-1] <= 0:
            continue
        where = np.searchsorted(cum, u, side="right")  # len(at): stays
        for k, o in enumerate(at):
            hit = where == k
            moved[o].append((t[hit], z[hit]))
        out[j] = [t[where == len(at)], z[where == len(at)]]
    for o, parts in moved.items():
        t = np.concatenate([out[o][0], *(p[0] for p in parts)])
        z = np.concatenate([out[o][1], *(p[1] for p in parts)]).astype(np.int64)
        order = np.argsort(t, kind="stable")
        out[o] = [t[order], z[order]]
    return [(t, z) for t, z in out]


def _summary(state: LiveState, raw: dict[str, Any], reps: int, lacking: tuple[str, ...]) -> Forecast:
    fill = raw["fill"]
    return Forecast(state.hours, reps, band(raw["t95"], state.hours), float(np.isfinite(raw["t95"]).mean()),
                    {s: float(np.isfinite(v).mean()) for s, v in fill.items()},
                    {s: band(v, state.hours) for s, v in fill.items()},
                    {s: band(v) for s, v in raw["peak"].items()}, lacking,
                    band(raw["redirected"]), band(raw["no_place"]), raw["open"])


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
    closed = [s.shelter_id for s in state.shelters if not s.is_open]
    if closed:
        out.append(f"shelters {closed} are closed: they take nobody, redirects pass them by")
    out.append("not modelled: departures (they free places), reader outages to come, face checks, paper "
               "transcription; redirected people walk on at once (they do not queue at the full shelter first)")
    return tuple(out)


def forecast(state: LiveState, reps: int = 40, seed: int = 0, add_readers: dict[int, int] | None = None,
             open_shelters: list[int] | None = None) -> Forecast:
    """Replications from the snapshot; with `add_readers` or `open_shelters` the what-if side by side
    (same random numbers)."""
    if reps < 2:
        raise ValidationError(f"a forecast needs at least 2 replications, got {reps}")
    known = {s.shelter_id: s for s in state.shelters}
    add, opened = dict(add_readers or {}), list(dict.fromkeys(open_shelters or []))
    bad = sorted(set(add) - set(known))
    if bad or any(n < 0 for n in add.values()):
        raise ValidationError(f"add_readers: unknown shelters {bad} or a negative count (known: {sorted(known)})")
    unknown = [o for o in opened if o not in known]
    if unknown:
        raise ValidationError(f"open: unknown shelters {unknown} (known: {sorted(known)})")
    already = [o for o in opened if known[o].is_open]
    if already:
        raise ValidationError(f"open: shelters {already} are already open (closed: "
                              f"{[k for k, v in known.items() if not v.is_open]})")
    lacking = lacking_of(state)
    base = _summary(state, _replicate(state, reps, seed, {}, []), reps, lacking)
    if not add and not opened:
        return base
    alt = _summary(state, _replicate(state, reps, seed, add, opened), reps, lacking)
    return replace(base, what_if={"add_readers": {str(k): v for k, v in add.items()}, "open": opened,
                                  "forecast": alt.to_dict()})
