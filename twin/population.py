"""A synthetic city: residents and households as columns, facilities as a frame.

Only synthetic people: names are generated, My Numbers are random valid numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from twin.errors import ValidationError
from twin.ids import synthetic_my_numbers
from twin.presets import CityPreset, preset, structure

AS_OF = dt.date(2026, 4, 1)  # the reference date ages are taken at
# Household-size shares 1..6 (assumption tuned to a large-city mean of about 2.0, FACTS.md).
HOUSEHOLD_SIZE_SHARES = np.array([0.44, 0.29, 0.13, 0.10, 0.03, 0.01])
# Relative card holding by age band (assumption: the national pattern by age is lower for
# infants, whose parents apply less, and for the very old, who visit counters less; the curve
# is scaled so the city's total equals its published ownership rate).
CARD_AGE_EDGES = np.array([0, 5, 15, 75, 85, 200])
CARD_AGE_WEIGHT = np.array([0.60, 0.85, 1.05, 0.95, 0.70])
DENSITY_PER_KM2 = 4000.0  # assumption (unverified) for the synthetic map's city area
SEX_MALE, SEX_FEMALE = 1, 2  # ISO 5218 codes


@dataclass(frozen=True)
class City:
    """A built city: the preset, how it was built, and its frames."""

    preset: CityPreset
    seed: int
    scale: float
    residents: pl.DataFrame
    households: pl.DataFrame
    facilities: pl.DataFrame
    notes: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        """The preset name."""
        return self.preset.name

    def summary(self) -> dict[str, object]:
        """Headline counts: population, wards, households, card holders, facilities by kind."""
        r = self.residents
        kinds = self.facilities.group_by("kind").len().sort("kind")
        return {
            "city": self.name,
            "name_ja": self.preset.name_ja,
            "seed": self.seed,
            "scale": self.scale,
            "residents": r.height,
            "wards": self.preset.wards,
            "households": self.households.height,
            "card_holders": int(r["has_card"].sum()),
            "card_ownership": round(float(r["has_card"].mean() or 0.0), 4),
            "no_card": int((~r["has_card"]).sum()),
            "age_0_14": int((r["age"] < 15).sum()),
            "age_65_plus": int((r["age"] >= 65).sum()),
            "facilities": dict(zip(kinds["kind"].to_list(), kinds["len"].to_list(), strict=True)),
        }


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ages drawn to the census shares: uniform within 0–14 and 15–64, declining past 65."""
    s = structure()
    band = rng.choice(3, size=n, p=[s["age_share_0_14"], s["age_share_15_64"], s["age_share_65_plus"]])
    young = rng.integers(0, 15, n)
    working = rng.integers(15, 65, n)
    old = np.minimum(65 + rng.exponential(11.0, n).astype(np.int64), 105)
    return np.select([band == 0, band == 1], [young, working], old).astype(np.int16)


def _household_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Household sizes whose sum is exactly `n`."""
    draws = rng.choice(np.arange(1, 7), size=int(n / 1.9) + 16, p=HOUSEHOLD_SIZE_SHARES)
    cum = np.cumsum(draws)
    k = int(np.searchsorted(cum, n))  # first household reaching n
    sizes = draws[: k + 1].copy()
    sizes[-1] -= int(cum[k] - n)
    return sizes[sizes > 0]


def _place_ages(rng: np.random.Generator, ages: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """Arrange ages so every household's first member is an adult and children fill later slots."""
    n = ages.size
    is_child = ages < 18
    children, adults = ages[is_child], ages[~is_child]
    rng.shuffle(children)
    rng.shuffle(adults)
    out = np.empty(n, dtype=ages.dtype)
    child_slots = np.flatnonzero(slot >= 2)
    rng.shuffle(child_slots)
    second_slots = np.flatnonzero(slot == 1)
    rng.shuffle(second_slots)
    child_pos = np.concatenate([child_slots, second_slots])[: children.size]
    taken = np.zeros(n, dtype=bool)
    taken[child_pos] = True
    out[child_pos] = children
    out[~taken] = adults
    return out


def _card_holding(rng: np.random.Generator, ages: np.ndarray, rate: float) -> np.ndarray:
    """Who holds a valid card: the city's rate, bent by the age curve."""
    w = CARD_AGE_WEIGHT[np.searchsorted(CARD_AGE_EDGES, ages, side="right") - 1]
    p = np.clip(w * (rate / w.mean()), 0.0, 0.99)
    return rng.random(ages.size) < p


def _ward_layout(seed: int, p: CityPreset):
    """Ward centres on a disk sized by population (km) and each ward's share of residents.

    Drawn from their own stream, so every scale of a city has the same wards and map.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, sum(map(ord, p.name)), 1]))
    radius = np.sqrt(p.population / DENSITY_PER_KM2 / np.pi)
    w = p.wards
    angle = np.linspace(0, 2 * np.pi, w, endpoint=False) + rng.uniform(0, 2 * np.pi)
    dist = np.where(np.arange(w) == 0, 0.0, radius * 0.6)
    centres = np.stack([dist * np.cos(angle), dist * np.sin(angle)], axis=1)
    shares = rng.dirichlet(np.full(w, 20.0))
    spread = radius / np.sqrt(w) * 0.6
    return centres, shares, spread


def build_city(name: str, seed: int = 0, scale: float = 1.0) -> City:
    """Build a synthetic city from a preset; the same (name, seed, scale) gives the same city."""
    p = preset(name)
    if not isinstance(scale, (int, float)) or not 0 < scale <= 1:
        raise ValidationError(f"scale must be in (0, 1], got {scale!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValidationError(f"seed must be a non-negative int, got {seed!r}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, sum(map(ord, name))]))
    n = max(int(round(p.population * scale)), p.wards)

    sizes = _household_sizes(rng, n)
    h = sizes.size
    household = np.repeat(np.arange(h, dtype=np.int64), sizes)
    starts = np.cumsum(sizes) - sizes
    slot = np.arange(n) - np.repeat(starts, sizes)
    ages = _place_ages(rng, _ages(rng, n), slot)

    centres, shares, spread = _ward_layout(seed, p)
    hh_ward = rng.choice(p.wards, size=h, p=shares).astype(np.int16)
    hh_xy = centres[hh_ward] + rng.normal(0.0, spread, size=(h, 2))
    ward = hh_ward[household]

    has_card = _card_holding(rng, ages, p.card_ownership)
    serial = np.full(n, -1, dtype=np.int64)
    holders = np.flatnonzero(has_card)
    serial[holders] = 10**9 + rng.permutation(holders.size).astype(np.int64) * 7 + seed % 7
    birth = np.datetime64(AS_OF) - (ages.astype(np.int64) * 365 + rng.integers(0, 365, n)).astype(
        "timedelta64[D]"
    )
    adult = ages >= 18
    residents = pl.DataFrame(
        {
            "resident_id": np.arange(n, dtype=np.int64),
            "household_id": household,
            "ward": ward,
            "age": ages,
            "birth_date": birth,
            "sex": np.where(rng.random(n) < 0.515, SEX_FEMALE, SEX_MALE).astype(np.uint8),
            "has_card": has_card,
            "card_serial": serial,
            "my_number": synthetic_my_numbers(n, seed),
            "seal_registered": adult & (rng.random(n) < 0.55),
            "library_member": rng.random(n) < 0.25,
            "school_child": (ages >= 6) & (ages < 18),
            "tax_record": adult & (ages < 80) & (rng.random(n) < 0.85),
            "family_register_here": rng.random(n) < 0.7,
        }
    ).with_columns(pl.col("card_serial").replace(-1, None))
    sites, _district = shelter_districts(hh_xy, hh_ward, sizes, facility_counts(
        p, shares, scale, structure()["residents_per_shelter"]), centres)
    households = pl.DataFrame(
        {
            "household_id": np.arange(h, dtype=np.int64),
            "ward": hh_ward,
            "size": sizes.astype(np.int16),
            "x_km": hh_xy[:, 0],
            "y_km": hh_xy[:, 1],
        }
    )
    facilities = build_facilities(rng, p, scale, centres, shares, spread, sites)
    return City(p, seed, float(scale), residents, households, facilities, notes=_NOTES)


_NOTES = (
    "ages: 2020 census shares (recalled, not re-checked); household sizes: assumption, mean about 2.0",
    "card holding by age: assumption (lower for infants and the very old), scaled to the city's rate",
    "facility counts: densities in calibration/data/population_structure.csv (assumptions marked)",
    "coordinates: synthetic map, density 4,000 per km2 (assumption)",
)

# kind -> (figure in population_structure.csv, per-ward fixed count or None)
FACILITY_KINDS = {
    "shelter": ("residents_per_shelter", None),
    "school": ("residents_per_school", None),
    "cram_school": ("residents_per_cram_school", None),
    "store": ("residents_per_store", None),
    "public_kiosk_site": (None, "public_kiosks_per_ward"),
    "counter": (None, None),  # one per ward office
}
SHELTER_CAPACITY = 1000  # persons per shelter, assumption (unverified): a school gym and classrooms


def facility_counts(p: CityPreset, shares: np.ndarray, scale: float, per: float) -> np.ndarray:
    """Facilities of a per-population kind in each ward at this scale (at least one per ward)."""
    return np.maximum(1, np.round(shares * p.population * scale / per)).astype(int)


def balanced_sites(xy: np.ndarray, weight: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k sites, each at the centre of an equal share of the weight, and each point's site.

    Recursive median cuts along the longer side: shelters are schools, whose districts are
    drawn to serve similar numbers of residents (assumption), so every district holds about
    1/k of the ward's residents at any scale.
    """
    labels = np.zeros(len(xy), dtype=np.int64)
    if k <= 1 or len(xy) <= 1:
        w = weight if len(xy) and weight.sum() > 0 else np.ones(len(xy))
        centre = (xy * w[:, None]).sum(0) / w.sum() if len(xy) else np.zeros(2)
        return np.repeat(centre[None, :], max(k, 1), axis=0), labels
    axis = int(np.argmax(xy.max(0) - xy.min(0)))
    order = np.argsort(xy[:, axis], kind="stable")
    left_k = k // 2
    cum = np.cumsum(weight[order])
    cut = min(max(int(np.searchsorted(cum, cum[-1] * left_k / k)) + 1, 1), len(xy) - 1)
    a, b = order[:cut], order[cut:]
    sa, la = balanced_sites(xy[a], weight[a], left_k)
    sb, lb = balanced_sites(xy[b], weight[b], k - left_k)
    labels[a], labels[b] = la, lb + left_k
    return np.vstack([sa, sb]), labels


def shelter_districts(hh_xy: np.ndarray, hh_ward: np.ndarray, sizes: np.ndarray,
                      counts: np.ndarray, centres: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Each ward's shelter sites, and each household's designated shelter (index among shelters,
    in ward order)."""
    sites, district = [], np.zeros(len(hh_xy), dtype=np.int64)
    offset = 0
    for w, c in enumerate(counts):
        mine = np.flatnonzero(hh_ward == w)
        if mine.size:
            xy, labels = balanced_sites(hh_xy[mine], sizes[mine].astype(np.float64), int(c))
        else:  # a ward with no household at a tiny scale: its shelters at the ward centre
            xy, labels = np.repeat(centres[w][None, :], int(c), axis=0), np.zeros(0, np.int64)
        sites.append(xy)
        district[mine] = labels + offset
        offset += int(c)
    return sites, district


def build_facilities(rng, p: CityPreset, scale: float, centres, shares, spread,
                     shelter_sites: list[np.ndarray] | None = None) -> pl.DataFrame:
    """Shelters, schools, stores, public kiosk sites and ward-office counters, per ward.

    Column `represents`: how many of the whole city's facilities of that kind and ward each one
    stands for (1 at full scale; e.g. 18 for the one shelter of a ward at scale 0.05), so a
    scenario can keep every per-facility load as in the full city. Shelters sit at
    `shelter_sites` (per ward, from `shelter_districts`) when given.
    """
    s = structure()
    rows: dict[str, list] = {"kind": [], "ward": [], "x_km": [], "y_km": [], "capacity": [],
                             "represents": []}
    for kind, (per, fixed) in FACILITY_KINDS.items():
        if per is not None:
            counts = facility_counts(p, shares, scale, s[per])
            represents = facility_counts(p, shares, 1.0, s[per]) / counts
        else:
            counts = np.full(p.wards, int(s[fixed]) if fixed is not None else 1)
            represents = np.ones(p.wards)
        for w, c in enumerate(counts):
            if kind == "shelter" and shelter_sites is not None:
                xy = shelter_sites[w]
            else:
                xy = centres[w] + (rng.normal(0.0, spread, size=(c, 2)) if kind != "counter" else 0.0)
            xy = np.broadcast_to(xy, (c, 2))
            rows["kind"] += [kind] * c
            rows["ward"] += [w] * c
            rows["x_km"] += xy[:, 0].tolist()
            rows["y_km"] += xy[:, 1].tolist()
            rows["capacity"] += [SHELTER_CAPACITY if kind == "shelter" else 0] * c
            rows["represents"] += [float(represents[w])] * c
    df = pl.DataFrame(rows, schema_overrides={"ward": pl.Int16, "capacity": pl.Int32,
                                              "represents": pl.Float64})
    return df.with_row_index("facility_id").with_columns(pl.col("facility_id").cast(pl.Int64))
