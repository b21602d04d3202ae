"""City presets: the 20 designated cities (政令指定都市), read from calibration/data with sources."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from twin.errors import ValidationError

DATA_DIR = Path(__file__).resolve().parent.parent / "calibration" / "data"
DEFAULT_CITY = "kumamoto"


@dataclass(frozen=True, slots=True)
class CityPreset:
    """One designated city's published figures."""

    name: str
    name_ja: str
    population: int
    wards: int
    card_ownership: float  # share of residents holding a valid card
    sources: tuple[tuple[str, str], ...]  # (figure, source)


@cache
def presets() -> dict[str, CityPreset]:
    """Every city preset by its lower-case romanised name."""
    df = pl.read_csv(DATA_DIR / "cities.csv")
    out = {}
    for row in df.iter_rows(named=True):
        sources = tuple((k.removeprefix("source_"), v) for k, v in row.items() if k.startswith("source_"))
        out[row["name"]] = CityPreset(
            name=row["name"],
            name_ja=row["name_ja"],
            population=int(row["population"]),
            wards=int(row["wards"]),
            card_ownership=float(row["card_ownership"]),
            sources=sources,
        )
    return out


def preset(name: str) -> CityPreset:
    """The preset called `name`; an unknown name is an error listing the valid ones."""
    table = presets()
    if not isinstance(name, str) or name not in table:
        near = difflib.get_close_matches(str(name).lower(), table, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValidationError(f"unknown city {name!r}{hint}; valid cities: {', '.join(sorted(table))}")
    return table[name]


@cache
def structure() -> dict[str, float]:
    """Population-structure and facility-density figures by name (see the CSV for sources)."""
    df = pl.read_csv(DATA_DIR / "population_structure.csv")
    return {r["figure"]: float(r["value"]) for r in df.iter_rows(named=True)}
