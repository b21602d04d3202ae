"""A desk seated before the run and re-seated when customers join late gives every customer the
start and finish of one FIFO desk seating everyone in the loop's order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.fast.desk_plan import PlannedDesk
from scenarios.fast.kernel import FifoSeats
from twin.errors import ValidationError

TIMES = st.integers(0, 30).map(float)  # few values: many ties
DURATIONS = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.25, 7.0])


def planned(servers: int, customers: list[tuple[float, float]]) -> PlannedDesk:
    """A desk with `customers` (joining time, desk time) planned in time order and seated."""
    customers = sorted(customers, key=lambda c: c[0])
    desk = PlannedDesk(servers, "d")
    desk.plan_all([a for a, _ in customers], [d for _, d in customers], list(range(len(customers))))
    desk.seat_planned()
    return desk


def reference(servers: int, desk: PlannedDesk, late: list[tuple[float, float]]
              ) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(start, finish) of the planned and the late customers from one FIFO desk, everyone in
    the loop's order: by joining time; at one time the late ones first, each kind in its order."""
    order = sorted([(a, 0, k, d) for k, (a, d) in enumerate(late)]
                   + [(a, 1, j, d) for j, (a, d) in enumerate(zip(desk.at, desk.duration, strict=True))])
    seats, got = FifoSeats(servers), {}
    for a, kind, k, d in order:
        got[kind, k] = seats.seat(a, d)
    return ([got[1, j] for j in range(len(desk.at))], [got[0, k] for k in range(len(late))])


@settings(max_examples=150, deadline=None)
@given(servers=st.integers(1, 3),
       customers=st.lists(st.tuples(TIMES, DURATIONS), max_size=25),
       late=st.lists(st.tuples(TIMES, DURATIONS), max_size=8))
def test_late_joiners_re_seat_the_planned_customers_as_one_fifo_desk_would(servers, customers, late):
    desk = planned(servers, customers)
    late = sorted(late, key=lambda c: c[0])  # the loop's clock: late joiners come in time order
    ends = []
    for at, d in late:
        before = list(desk.finished)
        end, moved = desk.join(at, d)
        ends.append((desk.late[-1][1], end))
        assert moved == [j for j, (b, a) in enumerate(zip(before, desk.finished, strict=True)) if a != b]
        assert all(desk.finished[j] > before[j] for j in moved)  # a late joiner only delays
    want_planned, want_late = reference(servers, desk, late)
    assert list(zip(desk.started, desk.finished, strict=True)) == want_planned
    assert ends == want_late


def test_a_late_joiner_at_a_planned_arrival_goes_first_and_delays_it():
    desk = planned(1, [(0.0, 5.0), (5.0, 1.0)])
    end, moved = desk.join(5.0, 2.0)
    assert (end, moved) == (7.0, [1]) and desk.finished == [5.0, 8.0]


def test_a_late_joiner_an_idle_desk_absorbs_moves_nobody():
    desk = planned(2, [(0.0, 1.0), (10.0, 1.0), (20.0, 1.0)])
    assert desk.join(12.0, 3.0) == (15.0, [])
    assert desk.finished == [1.0, 11.0, 21.0]


def test_the_span_covers_the_services_finished_by_the_end():
    desk = planned(1, [(0.0, 4.0), (1.0, 4.0), (9.0, 1.0)])
    desk.join(2.0, 1.0)  # after the one who came at 1.0, before the one at 9.0
    assert desk.visits() == ([0.0, 1.0, 9.0, 2.0], [4.0, 8.0, 10.0, 9.0])
    desk.close(9.5)  # the one who came at 9.0 is still at the desk
    assert desk.span() == (0.0, 9.0)
    desk.close(0.5)
    assert desk.span() is None


def test_a_plan_comes_before_seating_and_a_desk_needs_a_server():
    desk = planned(1, [(0.0, 1.0)])
    with pytest.raises(RuntimeError, match="plan before seating"):
        desk.plan_all([1.0], [1.0], [1])
    with pytest.raises(ValidationError):
        PlannedDesk(0, "none")
