"""Every desk's planned customers seated in one compiled pass (`desk_plan.seat_planned_all`) get the
seats `plan_all` and `seat_planned` give desk by desk, and the desks join late customers the same."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.fast.desk_plan import PlannedDesk, seat_planned_all

TIMES = st.integers(0, 30).map(float)  # few values: many ties
DURATIONS = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.25, 7.0, 1e-300, 1e12])
DESK = st.tuples(st.integers(1, 5), st.lists(st.tuples(TIMES, DURATIONS), max_size=25))


@pytest.mark.parametrize("compiled", [True, False])
@settings(max_examples=60, deadline=None)
@given(desks=st.lists(DESK, min_size=1, max_size=6), late=st.tuples(TIMES, DURATIONS))
def test_seating_every_desk_at_once_gives_each_desk_its_own_seats(compiled, desks, late):
    at, dur, part, bounds = [], [], [], [0]
    one, all_at_once = [], []
    for k, (servers, customers) in enumerate(desks):
        customers = sorted(customers, key=lambda c: c[0])
        desk = PlannedDesk(servers, f"d{k}")
        desk.plan_all([a for a, _ in customers], [d for _, d in customers], list(range(len(customers))))
        desk.seat_planned()
        one.append(desk)
        all_at_once.append(PlannedDesk(servers, f"d{k}"))
        at += [a for a, _ in customers]
        dur += [d for _, d in customers]
        part += list(range(len(customers)))
        bounds.append(len(at))
    finish = seat_planned_all(all_at_once, np.array(at), np.array(dur), np.array(part, dtype=np.int64), bounds,
                              compiled)
    assert finish.tolist() == [f for d in one for f in d.finished]
    for a, b in zip(one, all_at_once, strict=True):
        assert (a.at, a.duration, a.part, a.started, a.finished) == (b.at, b.duration, b.part, b.started, b.finished)
        assert a.join(*late) == b.join(*late)  # and they go on alike when someone joins late
        assert a.visits() == b.visits()


def test_seats_given_for_another_number_of_customers_are_refused():
    desk = PlannedDesk(1, "d")
    desk.plan_all([0.0, 1.0], [1.0, 1.0], [0, 1])
    with pytest.raises(ValueError, match="2 planned customers, 1 and 1 seats"):
        desk.seated([0.0], [1.0])
