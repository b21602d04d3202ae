"""The column form of a family look-up answers, refuses and logs as `locate_many` does."""

from __future__ import annotations

import polars as pl
import pytest

from tests.services.safety_helpers import T0
from twin.errors import TwinError
from twin.identity import Assurance, Identity
from twin.services.safety import Safety


def _household(city, size: int) -> list[int]:
    r = city.residents
    hh = r.group_by("household_id").len().filter(pl.col("len") == size).sort("household_id")["household_id"][0]
    return r.filter(pl.col("household_id") == hh).sort("resident_id")["resident_id"].to_list()


def _answer(call):
    try:
        return call()
    except TwinError as err:
        return type(err).__name__, str(err)


@pytest.mark.parametrize("case", ["found and not", "outsider second", "weak asker", "unknown id"])
def test_unplaced_gives_locate_manys_answers_refusals_and_log(small_city, case):
    a, b, c, d = _household(small_city, 4)
    outsider = _household(small_city, 2)[0]
    asker = Identity(a, "card_serial", Assurance.MEDIUM, T0)
    targets = {"found and not": [b, c, d], "outsider second": [b, outsider, c],
               "weak asker": [b], "unknown id": [b, 10**9]}[case]
    if case == "weak asker":
        asker = Identity(a, "paper_form", Assurance.LOW, T0)
    runs = []
    for form in ("locate_many", "unplaced"):
        safety = Safety.from_city(small_city, T0)
        fid = int(safety.shelters.facility_ids[1])
        safety.shelters.check_in_identity(Identity(c, "counter_photo_id", Assurance.HIGH, T0), fid, T0 + 5)
        got = _answer(lambda s=safety, f=form: getattr(s.family, f)(asker, targets, T0 + 60))
        if form == "locate_many" and isinstance(got, list):
            got = [loc.shelter_id is None for loc in got]
        runs.append((got, [e.as_row() for e in safety.events]))
    assert runs[0] == runs[1]
    if case == "found and not":
        assert runs[0][0] == [True, False, True]
