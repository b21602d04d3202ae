"""Events built from columns are the events built one by one: same values, types, order, pickling."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.errors import ValidationError
from twin.events import Event, EventLog, events_of_columns
from twin.services.face_events import FaceCheckAttempted
from twin.services.safety_events import FamilyLookup, HeadcountReported


@dataclass(frozen=True)
class Unslotted(Event):
    """An event class without slots (built through its `__init__`)."""

    note: str
    kind: ClassVar[str] = "unslotted"


@dataclass(frozen=True, slots=True)
class Checked(Event):
    """An event class that checks itself (built through its `__init__`, so the check runs)."""

    n: int
    kind: ClassVar[str] = "checked"

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValidationError(f"n must be >= 0, got {self.n}")


texts = st.text(max_size=5)
floats = st.floats(allow_nan=True, allow_infinity=True)
ROWS = {
    FamilyLookup: st.tuples(floats, st.integers(), st.integers(), st.booleans(), texts),
    HeadcountReported: st.tuples(floats, st.integers(), st.integers(), st.integers(), floats),
    FaceCheckAttempted: st.tuples(floats, st.integers(), texts, floats, st.booleans(), st.booleans(),
                                  st.integers(0, 3), st.booleans(), texts),
    Unslotted: st.tuples(floats, texts),
    Checked: st.tuples(floats, st.integers(0, 9)),
}


@given(data=st.data(), cls=st.sampled_from(list(ROWS)))
def test_events_from_columns_equal_the_events_built_row_by_row(data, cls):
    rows = data.draw(st.lists(ROWS[cls], max_size=20))
    columns = [[r[i] for r in rows] for i in range(len(dataclasses.fields(cls)))]
    made, want = events_of_columns(cls, *columns), [cls(*r) for r in rows]
    assert [type(e) for e in made] == [type(e) for e in want]
    assert [repr(e) for e in made] == [repr(e) for e in want]  # NaN fields too
    assert [repr(e) for e in pickle.loads(pickle.dumps(made))] == [repr(e) for e in want]
    log = EventLog()
    log.extend_columns(cls, *columns)
    assert [e.as_row() for e in log] == [e.as_row() for e in made]


def test_built_events_stay_frozen_and_a_class_that_checks_itself_still_checks():
    (e,) = events_of_columns(FamilyLookup, [1.0], [2], [3], [True], [""])
    with pytest.raises(AttributeError):
        e.target_id = 9
    with pytest.raises(ValidationError, match="n must be >= 0"):
        events_of_columns(Checked, [1.0, 2.0], [1, -1])


def test_columns_of_different_lengths_or_too_few_are_refused():
    with pytest.raises(ValueError, match="one length"):
        events_of_columns(FamilyLookup, [1.0, 2.0], [2], [3], [True], [""])
    with pytest.raises(TypeError):
        events_of_columns(FamilyLookup, [1.0], [2])


def test_a_log_holding_columns_reads_as_if_each_event_had_been_appended_in_turn():
    import numpy as np

    log, ref = EventLog(), EventLog()
    t, who = np.array([1.0, 2.0, 3.0]), np.array([4, 5, 6])
    steps = [
        lambda g: g.append(HeadcountReported(0.5, 1, 2, 3, 0.5)),
        lambda g: g.extend_columns(FamilyLookup, t, who, who + 1, np.array([True, False, True]),
                                   np.array(["", "not_found", ""])),
        lambda g: g.extend_columns(FamilyLookup, [9.0], [1], [2], [True], [""]),  # one row
        lambda g: g.extend_columns(FamilyLookup, np.zeros(0), [], [], [], []),  # none
        lambda g: g.append(HeadcountReported(4.0, 1, 2, 3, 4.0)),
    ]
    for step in steps:
        step(log)
    t[:] = -1.0  # the caller reuses its arrays: the log keeps what was recorded
    ref.append(HeadcountReported(0.5, 1, 2, 3, 0.5))
    ref.extend(FamilyLookup(*r) for r in [(1.0, 4, 5, True, ""), (2.0, 5, 6, False, "not_found"),
                                          (3.0, 6, 7, True, ""), (9.0, 1, 2, True, "")])
    ref.append(HeadcountReported(4.0, 1, 2, 3, 4.0))
    assert len(log) == len(ref) == 6  # counted without building anything
    copy = pickle.loads(pickle.dumps(log))  # a log still holding columns pickles
    assert [e.as_row() for e in log] == [e.as_row() for e in ref] == [e.as_row() for e in copy]
    assert [type(v) for v in log.of(FamilyLookup)[1].as_row().values()] == [float, int, int, bool, str, str]
    assert log.to_frame().equals(ref.to_frame())
    log.extend_columns(FamilyLookup, [10.0], [1], [2], [True], [""])
    assert len(log.drain()) == 7 and len(log) == 0 and list(log) == []


def test_columns_a_class_would_refuse_are_refused_when_recorded_not_when_read():
    log = EventLog()
    with pytest.raises(ValidationError, match="n must be >= 0"):
        log.extend_columns(Checked, [1.0], [-1])
    with pytest.raises(ValueError, match="one length"):
        log.extend_columns(FamilyLookup, [1.0, 2.0], [2], [3], [True], [""])
    with pytest.raises(TypeError):
        log.extend_columns(FamilyLookup, [1.0], [2])
    assert len(log) == 0
