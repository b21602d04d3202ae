"""The shelter history refuses to answer when a resident's record ended elsewhere than its rows say."""

from __future__ import annotations

import pytest

from tests.services.safety_helpers import T0
from twin.errors import Conflict
from twin.identity import Assurance, Identity
from twin.services.safety import Safety


@pytest.mark.parametrize("who", ["a resident with rows", "a resident without rows"])
def test_a_record_changed_past_the_register_is_refused_whoever_it_is(small_city, who):
    net = Safety.from_city(small_city, T0).shelters
    net.record_history()
    fids = net.facility_ids.tolist()
    for k, (rid, fid) in enumerate(((3, fids[0]), (4, fids[1]), (3, fids[1]))):  # 3 checks in, then moves
        net.check_in_identity(Identity(rid, "counter_photo_id", Assurance.HIGH, T0), fid, T0 + k)
    rows = [net.resident_index(r) for r in (3, 4, 5)]
    assert net.history().where_at(rows, [T0 + 9.0] * 3).tolist() == [1, 1, -1]  # consistent so far
    net.where[net.resident_index(3 if who == "a resident with rows" else 5)] = 2  # no row written
    with pytest.raises(Conflict, match="without a register row"):
        net.history()
