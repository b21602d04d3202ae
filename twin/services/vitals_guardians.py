"""Who may act for a child in the vital-records handbooks: guardians (親権者) while the child is a minor."""

from __future__ import annotations

import polars as pl

from twin.clock import local_date

ADULT_AGE = 18  # the age of majority (Civil Code Art. 4, since April 2022)


def guardians_from_households(residents: pl.DataFrame, now: float) -> list[tuple[int, int]]:
    """(child, guardian) pairs: for each minor, the two eldest adults of the household who are
    16 to 50 years older (an assumption standing in for the family register's parent link)."""
    today = local_date(now)
    try:
        cutoff = today.replace(year=today.year - ADULT_AGE)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - ADULT_AGE, day=28)
    r = residents.select("resident_id", "household_id", "birth_date").with_columns(
        minor=pl.col("birth_date") > pl.lit(cutoff)
    )
    kids = r.filter(pl.col("minor")).select("resident_id", "household_id", "birth_date")
    adults = r.filter(~pl.col("minor")).select(
        guardian="resident_id", household_id="household_id", guardian_birth="birth_date"
    )
    gap = (pl.col("birth_date") - pl.col("guardian_birth")).dt.total_days() / 365.25
    pairs = (
        kids.join(adults, on="household_id")
        .filter(gap.is_between(16, 50))
        .sort("resident_id", "guardian_birth", "guardian")
        .group_by("resident_id", maintain_order=True)
        .head(2)
        .sort("resident_id", "guardian")
    )
    return [(int(c), int(g)) for c, g in pairs.select("resident_id", "guardian").iter_rows()]
