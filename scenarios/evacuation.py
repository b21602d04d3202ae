"""Who evacuates after the quake, in which groups, when, to which shelter, and how they check in.

Drawn in bulk with numpy from the city's residents and households (columns, not objects):
households are picked at random until the evacuee count is reached; a household arrives
together or its members arrive apart (from elsewhere in the city, so they may pick another
shelter); each arrival group picks one of the nearest shelters with a distance-decay choice;
each person checks in by card tap, paper form, or — having lost every ID — a face-photo check.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from scenarios.nearest import nearest
from scenarios.streams import Streams, as_streams
from twin.population import City
from twin.sorted_search import stable_order

CARD, PAPER, FACE = 0, 1, 2  # check-in method per person
METHOD_NAMES = ("card_tap", "paper_form", "face_check")
NEAREST_SHELTERS = 3  # shelters an evacuee considers


@dataclass(frozen=True)
class Evacuation:
    """Arrival groups (one per household together, one per person apart) and their members."""

    group_arrival_s: np.ndarray  # seconds after the quake, ascending
    group_shelter: np.ndarray  # index into `shelters`
    group_household: np.ndarray
    group_start: np.ndarray  # members of group g: member_* [start[g]:start[g+1]]
    member_resident: np.ndarray
    member_method: np.ndarray  # CARD, PAPER or FACE
    member_serial: np.ndarray  # card serial of those who tap, else -1
    member_household: np.ndarray
    apart_household: np.ndarray  # household ids whose members arrived apart (2+ members)
    shelters: pl.DataFrame  # the city's shelters (facility_id, ward, x_km, y_km, capacity)

    @property
    def groups(self) -> int:
        """Number of arrival groups."""
        return self.group_arrival_s.size

    @property
    def people(self) -> int:
        """Number of evacuees."""
        return self.member_resident.size


def pick_households(rng: np.random.Generator, sizes: np.ndarray, target: int) -> np.ndarray:
    """Random household indices whose members add up to about `target` people."""
    order = rng.permutation(sizes.size)
    # households have a member or more, so the first target + 1 of them reach the target: only
    # their sizes are added up (all of them if some are empty)
    head = order[:max(target, 0) + 1]
    cum = np.cumsum(sizes[head])
    if head.size < order.size and not cum[-1] >= target:
        cum = np.cumsum(sizes[order])
    k = int(np.searchsorted(cum, target)) + 1
    return np.sort(order[: min(k, sizes.size)])


def choose_shelters(rng: np.random.Generator, xy: np.ndarray, shelters_xy: np.ndarray,
                    decay_km: float) -> np.ndarray:
    """For each point, one of its nearest shelters, chosen with weight exp(-distance / decay)."""
    k = min(NEAREST_SHELTERS, shelters_xy.shape[0])
    if k == 1:
        return np.asarray(cKDTree(shelters_xy).query(xy, k=k)[1], dtype=np.int64)
    dist, idx = nearest(xy, shelters_xy, k)  # (the tree's answers)
    w = np.exp(-(dist - dist[:, :1]) / decay_km)
    cum = np.cumsum(w, axis=1)
    pick = (rng.random(len(xy))[:, None] * cum[:, -1:] > cum).sum(axis=1)
    return idx[np.arange(len(xy)), pick].astype(np.int64)


def checkin_methods(rng: np.random.Generator, has_card: np.ndarray, carried_share: float,
                    no_id_share: float, readers: bool, face_check: bool) -> np.ndarray:
    """Each evacuee's check-in method: card tap, paper form, or face check (lost every ID)."""
    n = has_card.size
    no_id = rng.random(n) < no_id_share
    carries = has_card & (rng.random(n) < carried_share) & ~no_id
    method = np.full(n, PAPER, dtype=np.int8)
    if readers:
        method[carries] = CARD
    if face_check:
        method[no_id] = FACE
    return method


def draw_evacuation(rng: np.random.Generator | Streams, city: City, p,
                    arrival_hours) -> Evacuation:
    """Draw the whole evacuation: households, groups, arrival times, shelters and methods.

    `p` has the DisasterParams fields used here; `arrival_hours(rng, n)` draws n arrival times
    in hours after the quake. Each source has its own stream when `rng` is `Streams`.
    """
    streams = as_streams(rng)
    rng = streams["households"]
    share, together_share = p.evacuation_share, p.household_together_share
    hh, res = city.households, city.residents
    sizes = hh["size"].to_numpy().astype(np.int64)
    chosen = pick_households(rng, sizes, int(round(share * res.height)))
    together = rng.random(chosen.size) < together_share
    together |= sizes[chosen] == 1
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])  # residents are household-contiguous
    # members of chosen households, in household order
    m_hh = np.repeat(chosen, sizes[chosen])
    m_res = starts[m_hh] + _ranks(sizes[chosen])
    m_together = np.repeat(together, sizes[chosen])
    # groups: a together household is one group; an apart one gives one group per member
    new_group = ~m_together | np.r_[True, m_hh[1:] != m_hh[:-1]]
    g_first = np.flatnonzero(new_group)
    g_hh = m_hh[g_first]
    xy = np.stack([hh["x_km"].to_numpy()[g_hh], hh["y_km"].to_numpy()[g_hh]], axis=1)
    apart_g = ~m_together[g_first]
    xy[apart_g] += streams["apart_start"].normal(0.0, p.apart_distance_km,
                                                 size=(int(apart_g.sum()), 2))
    shelters = city.facilities.filter(pl.col("kind") == "shelter")
    s_xy = shelters.select("x_km", "y_km").to_numpy()
    g_shelter = choose_shelters(streams["shelter_choice"], xy, s_xy, p.shelter_choice_decay_km)
    g_arrival = np.asarray(arrival_hours(streams["arrivals"], g_first.size),
                           dtype=np.float64) * 3600.0
    ev = _assemble(city, m_res, m_hh, g_first, g_hh, g_shelter, g_arrival, chosen[~together],
                   shelters)
    has_card = city.residents["has_card"].gather(ev.member_resident).to_numpy()
    method = checkin_methods(streams["methods"], has_card, p.card_carried_share, p.no_id_share,
                             p.readers_per_shelter > 0, p.face_check_enabled)
    serial = np.where(method == CARD, ev.member_serial, -1)
    return dataclasses.replace(ev, member_method=method, member_serial=serial)


def _ranks(sizes: np.ndarray) -> np.ndarray:
    """0..size-1 for each block of the given sizes, concatenated."""
    total = int(sizes.sum())
    return np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def _assemble(city, m_res, m_hh, g_first, g_hh, g_shelter, g_arrival, apart,
              shelters) -> Evacuation:
    """Sort groups by arrival time and lay members out group by group."""
    order = stable_order(g_arrival)
    g_size = np.diff(np.r_[g_first, m_res.size])
    member_idx = np.repeat(g_first[order], g_size[order]) + _ranks(g_size[order])
    res = m_res[member_idx]
    serial = city.residents["card_serial"].gather(res).fill_null(-1).to_numpy()  # the evacuees' only
    return Evacuation(
        group_arrival_s=g_arrival[order],
        group_shelter=g_shelter[order],
        group_household=g_hh[order],
        group_start=np.r_[0, np.cumsum(g_size[order])].astype(np.int64),
        member_resident=res,
        member_method=np.zeros(res.size, dtype=np.int8),
        member_serial=serial,
        member_household=m_hh[member_idx],
        apart_household=apart[city.households["size"].to_numpy()[apart] > 1],
        shelters=shelters,
    )
