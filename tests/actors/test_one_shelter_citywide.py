"""A resident is recorded at one shelter city-wide, across shelter groups: the newest record stays,
a late upload of an older queued tap does not move anyone back, and racing check-ins settle."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from actors.hosts_safety import ShelterHost
from devices import contract
from tests.actors.live_helpers import T_LIVE
from tests.actors.test_hosts import holder_rows, make_spec, taps


def test_a_release_clears_only_a_record_no_newer_than_its_limit_and_replays_so(tmp_path):
    spec = make_spec(tmp_path)
    host = ShelterHost(spec, 0)
    reader = host.readers()[0][0]
    rows = holder_rows(spec, 3)
    host.taps("checkin", taps(rows, reader, T_LIVE))  # records begin at T_LIVE, +1, +2
    rids = [r["resident_id"] for r in rows]
    assert host.records(rids) == [T_LIVE, T_LIVE + 1, T_LIVE + 2]
    gone = host.release(rids, T_LIVE + 10, before=[T_LIVE, T_LIVE, T_LIVE + 2])
    assert gone == 2  # the second resident's record (T_LIVE + 1) is newer than its limit
    assert host.records(rids) == [None, T_LIVE + 1, None]
    assert host.release(rids, T_LIVE + 11, before=[T_LIVE + 5] * 3) == 1
    assert host.release(rids, T_LIVE + 12) == 0  # nobody left here
    host.store.close()
    again = ShelterHost(spec, 0)
    try:
        assert again.records(rids) == [None, None, None]
    finally:
        again.store.close()


def post(live, device, body, path=contract.TAPS_PATH):
    return live.http.post(path, json=body, headers=live.headers(device))


def groups(live, ray, resident_ids: list[int]) -> list[list[float | None]]:
    """Per group, when each resident's record there began (None: not there)."""
    hosts = [ray.get_actor(f"shelters_{g}", namespace=live.spec.namespace) for g in range(live.spec.shelter_groups)]
    return ray.get([h.records.remote(resident_ids) for h in hosts])


def test_a_queued_tap_uploaded_late_does_not_move_back_a_resident_checked_in_since_elsewhere(live, ray_session):
    a, b = live.device("shelter", group=0), live.device("shelter", group=1)
    who = live.holders(1, skip=1100).row(0, named=True)
    now = live.now()
    assert post(live, b, live.tap(b, who["card_serial"], at=now)).status_code == 201
    stale = live.tap(a, who["card_serial"], at=now - 600)  # read at group 0's shelter ten minutes earlier
    r = post(live, a, {"taps": [stale]}, contract.BATCH_PATH)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "recorded"
    at_a, at_b = (g[0] for g in groups(live, ray_session, [who["resident_id"]]))
    assert at_a is None and at_b == pytest.approx(round(now, 3))


def test_the_same_cards_tapped_at_once_in_two_groups_are_each_recorded_in_exactly_one(live, ray_session):
    a, b = live.device("shelter", group=0), live.device("shelter", group=1)
    people = live.holders(24, skip=1110)
    now = live.now()
    bodies = [(dev, live.tap(dev, serial, at=now + i * 0.01 + (0.001 if dev is b else 0.0)))
              for i, serial in enumerate(people["card_serial"].to_list()) for dev in (a, b)]
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda d: post(live, d[0], d[1]).status_code, bodies))
    assert codes == [201] * len(bodies)
    seen = groups(live, ray_session, people["resident_id"].to_list())
    for i in range(people.height):
        held = [g for g in range(len(seen)) if seen[g][i] is not None]
        assert held == [1]  # group 1's tap is the newer one for every card
