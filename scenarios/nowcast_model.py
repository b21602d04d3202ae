"""One replication of the nowcast: the rest of the arrivals, where they go, and the desks.

Per replication: each open shelter draws its rest of the arrivals as household groups
(`rest_of_groups`: the evacuation curve conditioned on what has arrived); a shelter opened by
the what-if takes a share of its neighbours' groups (`opening_shares`: the disaster model's
distance-decay choice among the 3 nearest shelters, seen from each neighbour's place); groups
then meet the capacities in time order (`route`): who does not fit walks to the nearest open
shelter with room, as `ShelterNetwork.nearest_with_room` sends them, or has no place; last,
each shelter's desks serve the groups that came (`serve`): a group's card holders at one
reader one after another, the rest at one paper desk (as `DisasterModel.check_in`).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from calibration.params import EvacuationCurve
from scenarios.evacuation import NEAREST_SHELTERS
from scenarios.fast.kernel import FifoStage


@dataclass(frozen=True)
class Routed:
    """Groups per shelter after capacities and redirects: times (h) and sizes; fills and no-places."""

    times: list[list[float]]
    sizes: list[list[int]]
    fill_h: np.ndarray  # when each shelter's arrivals reached its capacity (NaN: never)
    no_place: int
    redirected: int


def curve_times(state, u: np.ndarray) -> np.ndarray:
    """Arrival hours at curve quantiles `u` (shares of the curve's arrivals up to its peak)."""
    curve = EvacuationCurve(0.1, state.time_to_peak_h, 0.0, state.rise_shape)
    return np.sort(curve.rise_scale_h * (-np.log1p(-u)) ** (1 / curve.rise_shape))


def curve_shares(state) -> tuple[float, float]:
    """(share of the curve's arrivals by now, by its peak) on the Weibull rise."""
    curve = EvacuationCurve(0.1, state.time_to_peak_h, 0.0, state.rise_shape)
    return (float(curve.arrived_fraction(min(state.hours, state.time_to_peak_h))),
            float(curve.arrived_fraction(state.time_to_peak_h)))


def rest_of_groups(state, s, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times (h) and sizes of the groups still to come at shelter `s`.

    With groups so far A/g ~ Poisson(theta F) and a flat prior, theta ~ Gamma(A/g + 1, F); the
    rest ~ Poisson(theta (1 - F)) groups of 1 + Poisson(g - 1). A known total (`expected`)
    fixes the rest instead. Times from the curve after now, up to its peak.
    """
    now, at_peak = curve_shares(state)
    share_now = now / at_peak
    if share_now >= 1.0 or not s.is_open:
        return np.empty(0), np.empty(0, np.int64)
    seen = s.seen
    g = state.group_size
    if s.expected is not None:
        rest = max(s.expected - seen, 0)
        sizes = 1 + rng.poisson(g - 1, rest)
        sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), rest)) + 1]
        if sizes.size:
            sizes[-1] -= int(sizes.sum()) - rest
        sizes = sizes[sizes > 0]
    else:
        theta = rng.gamma(seen / g + 1, 1.0 / max(share_now, 1e-9))
        sizes = 1 + rng.poisson(g - 1, int(rng.poisson(theta * (1 - share_now))))
    return curve_times(state, rng.uniform(now, at_peak, sizes.size)), sizes.astype(np.int64)


def opening_shares(xy: np.ndarray, is_open: np.ndarray, opened: list[int], decay_km: float) -> np.ndarray:
    """Per shelter: the share of its coming groups that go to a newly opened shelter instead.

    People near shelter j chose among the 3 nearest open shelters with weight exp(-d / decay)
    (`scenarios.evacuation.choose_shelters`); seen from j's place, an opened shelter among the
    new 3 nearest takes its weight's share. Returns shares (n, len(opened)).
    """
    now_open = is_open.copy()
    now_open[opened] = True
    cand = np.flatnonzero(now_open)
    out = np.zeros((xy.shape[0], len(opened)))
    for j in np.flatnonzero(is_open):
        d = np.hypot(*(xy[cand] - xy[j]).T)
        near = np.argsort(d, kind="stable")[:NEAREST_SHELTERS]
        w = np.exp(-(d[near] - d[near].min()) / decay_km)
        for k, o in enumerate(opened):
            hit = np.flatnonzero(cand[near] == o)
            if hit.size:
                out[j, k] = w[hit[0]] / w.sum()
    return out


def route(hours: float, groups: list[tuple[np.ndarray, np.ndarray]], occupied: np.ndarray, cap: np.ndarray,
          xy: np.ndarray, is_open: np.ndarray, walk_kmh: float) -> Routed:
    """Groups meet the capacities in time order; who does not fit walks to the nearest open shelter with room."""
    n = len(groups)
    occ, fill = occupied.astype(np.int64).copy(), np.full(n, np.nan)
    limited = cap > 0  # capacity 0: no limit known
    fill[limited & (occ >= cap)] = hours
    heap = [(float(t), i, s, int(z)) for s, (ts, zs) in enumerate(groups)
            for i, (t, z) in enumerate(zip(ts.tolist(), zs.tolist(), strict=True))]
    heapq.heapify(heap)
    times: list[list[float]] = [[] for _ in range(n)]
    sizes: list[list[int]] = [[] for _ in range(n)]
    order: dict[int, np.ndarray] = {}
    no_place = redirected = 0
    seq = len(heap)
    while heap:
        t, _, s, z = heapq.heappop(heap)
        take = z if not limited[s] else max(0, min(z, int(cap[s] - occ[s])))
        if take:
            times[s].append(t)
            sizes[s].append(take)
            occ[s] += take
            if limited[s] and occ[s] >= cap[s] and math.isnan(fill[s]):
                fill[s] = t
        rest = z - take
        if not rest:
            continue
        if s not in order:
            order[s] = np.argsort(np.hypot(*(xy - xy[s]).T), kind="stable")
        target = next((int(k) for k in order[s] if k != s and is_open[k] and (not limited[k] or occ[k] < cap[k])), -1)
        if target < 0:
            no_place += rest
            continue
        redirected += rest
        seq += 1
        walk = float(np.hypot(*(xy[target] - xy[s]))) / walk_kmh
        heapq.heappush(heap, (t + walk, seq, target, rest))
    return Routed(times, sizes, fill, no_place, redirected)


def serve(hours: float, times: list[float], sizes: list[int], waiting: int, readers: int, staff: int,
          durations: tuple[np.ndarray, np.ndarray], card: np.ndarray) -> tuple[np.ndarray, float]:
    """Registration times (h) of everyone served, and the peak wait (min), at one shelter's desks.

    `durations` (card, paper) and `card` hold one draw per person (those waiting now first); a
    group's card holders queue as one at a reader, its others as one at a paper desk.
    """
    t0 = hours * 3600.0
    reader = FifoStage(readers, "readers", np.full(readers, t0)) if readers else None
    paper = FifoStage(max(staff, 1), "paper", np.full(max(staff, 1), t0))
    d_card, d_paper, by_card = durations[0].tolist(), durations[1].tolist(), card.tolist()
    done = [0.0] * len(by_card)
    peak, i = 0.0, 0
    for at_h, z in zip([hours] * waiting + times, [1] * waiting + sizes, strict=True):
        at = at_h * 3600.0
        mine = range(i, i + z)
        for desk, members, d in ((reader, [m for m in mine if by_card[m]], d_card),
                                 (paper, [m for m in mine if not by_card[m]], d_paper)):
            if not members:
                continue
            if desk is None:  # no reader: card holders go to the paper desk
                desk, d = paper, d_paper
            start, _, _ = desk.arrive(at, sum(d[m] for m in members))
            peak = max(peak, start - at)
            for m in members:
                start += d[m]
                done[m] = start
        i += z
    return np.asarray(done) / 3600.0, peak / 60.0
