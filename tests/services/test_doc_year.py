"""Document numbers carry the JST year of their instant, read as `local_date` reads it, at the turn of
the year too (a microsecond's rounding either side of midnight JST, in any order of instants)."""

from __future__ import annotations

import numpy as np

from twin.clock import jst, local_date
from twin.services import certificate_register as register


def test_a_document_number_carries_the_local_year_of_its_instant_in_any_order():
    turns = [jst(y, 1, 1) for y in (2025, 2026, 2027)]
    edges = [t + d for t in turns for d in (-1.0000001, -1.0, -0.9999999, -5e-7, -4e-7, -1e-7, 0.0, 1e-7, 4e-7,
                                           5e-7, 0.9999996, 1.0, 1.0000001)]
    rng = np.random.default_rng(2)
    nows = [*edges, *rng.uniform(turns[0] - 86400 * 30, turns[-1] + 86400 * 30, 3000).tolist()]
    for order in (nows, sorted(nows), [nows[j] for j in rng.permutation(len(nows))]):
        for k, now in enumerate(order):
            channel = ("kiosk", "counter")[k % 2]
            assert register.doc_no(k, channel, now) == f"{local_date(now).year}-{'KC'[k % 2]}{k:09d}", now
            if k % 7 == 3:  # a year read elsewhere in between (the number's prefixes keep their own span)
                register.year_of(order[-1 - k])
    assert {register.year_of(t - 4e-7) for t in turns} == {2025, 2026, 2027}  # rounds into the new year
