"""The forecast's head counts when a shelter group does not answer: its last answer, marked stale, or left out."""

from __future__ import annotations

import pytest

from actors.context import Unavailable
from actors.routes_forecast import merge_answers
from scenarios.nowcast_live import live_state

ROW = {"capacity": 100, "readers": 2, "paper_staff": 1, "desk_count": 30, "registered": 25}
DEFAULTS = {"card_tap_mean_s": 21.1, "checkin_sigma": 0.5, "paper_form_mean_s": 184.0, "time_to_peak_h": 20.0,
            "rise_shape": 2.0, "horizon_h": 48.0, "card_share": 0.6, "group_size": 1.5}


def test_a_silent_group_is_taken_as_of_its_last_answer_and_its_arrivals_as_unknown():
    last: dict = {}
    fresh = [{"rows": [{**ROW, "shelter_id": 1}]}, {"rows": [{**ROW, "shelter_id": 2}]}]
    rows, never, notes = merge_answers(fresh, 1000.0, last)
    assert [r["shelter_id"] for r in rows] == [1, 2] and not never and not notes and set(last) == {0, 1}
    rows, never, notes = merge_answers([fresh[0], TimeoutError()], 1090.0, last)
    assert rows[1]["stale_s"] == 90.0 and "stale_s" not in rows[0]
    assert "shelter group 1 did not answer (no answer in time): shelters [2] taken as of its last answer 90 s ago" \
        in notes[0]
    state, _ = live_state(rows, None, 1090.0, 1090.0 - 6 * 3600, DEFAULTS)
    assert state.shelters[1].arrived is None and state.shelters[0].arrived == 30 and state.group_size == 1.5


def test_a_group_never_heard_from_is_left_out_and_none_answering_is_503():
    rows, never, _ = merge_answers([{"rows": [{**ROW, "shelter_id": 1}]}, RuntimeError("down")], 5.0, {})
    assert [r["shelter_id"] for r in rows] == [1] and never == [1]
    with pytest.raises(Unavailable, match="no shelter group answered"):
        merge_answers([RuntimeError("down")], 5.0, {})
