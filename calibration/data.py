"""The published figures in calibration/data, each row with its source."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from twin.errors import NotFound

DATA_DIR = Path(__file__).resolve().parent / "data"


@cache
def table(name: str) -> pl.DataFrame:
    """The CSV `calibration/data/<name>.csv` as a polars frame."""
    path = DATA_DIR / f"{name}.csv"
    if not path.is_file():
        known = sorted(p.stem for p in DATA_DIR.glob("*.csv"))
        raise NotFound(f"no calibration table {name!r}; tables: {', '.join(known)}")
    return pl.read_csv(path, infer_schema_length=None)


def row(name: str, **match: object) -> dict:
    """The one row of table `name` whose columns equal `match`."""
    df = table(name)
    for col, val in match.items():
        df = df.filter(pl.col(col) == val)
    if df.height != 1:
        raise NotFound(f"{name}: expected one row matching {match}, found {df.height}")
    return df.row(0, named=True)


def assumption(figure: str) -> float:
    """A numeric figure from assumptions.csv."""
    return float(row("assumptions", figure=figure)["value"])


def source_of(name: str, **match: object) -> str:
    """The source text of one row, with its status when it is not plainly published."""
    r = row(name, **match)
    status = r.get("status") or "published"
    return r["source"] if status == "published" else f"{r['source']} [{status}]"
