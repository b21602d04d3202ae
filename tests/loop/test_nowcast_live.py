"""The live state from a drill's journals: readers taken offline count as offline, and the forecast says so."""

from __future__ import annotations

import json

from actors.hosts_safety import ShelterHost
from actors.routes_forecast import defaults
from actors.spec import ServiceSpec
from calibration.drill import read_drill
from scenarios.nowcast import forecast
from scenarios.nowcast_live import live_state, readers_offline
from tests.actors.live_helpers import T_LIVE
from tests.loop.drill_helpers import make_drill


def test_readers_switched_off_in_the_journal_are_offline_in_the_forecast(tmp_path):
    made = make_drill(tmp_path)
    spec = ServiceSpec(data_dir=str(tmp_path), scale=0.01, shelter_groups=1, resident_shards=1, built_at=T_LIVE).open()
    host = ShelterHost(spec, 0)
    shelter = made["shelters"][1]
    readers = host.readers()
    mine = [r for r, s in readers if s == shelter]
    for reader in mine:  # every reader of reader 1's shelter loses the network
        host.command("online", {"reader_id": reader, "online": False, "now": T_LIVE + 9000.0})
    rows = host.headcounts(T_LIVE + 9000.0, report=False)["rows"]
    host.store.close()
    data = read_drill(tmp_path)
    off, unplaced = readers_offline(data)
    tapped = {r for r in made["shelters"] if made["shelters"][r] == shelter}
    assert off[shelter] == len(tapped) and unplaced == len(mine) - len(tapped)  # readers that never tapped: unknown
    state, notes = live_state(rows, data, T_LIVE + 9000.0, T_LIVE - 6 * 3600.0, defaults(spec))
    s = next(x for x in state.shelters if x.shelter_id == shelter)
    assert s.readers_online == len(mine) - len(tapped) and state.group_size > 1
    assert any(f"{unplaced} offline reader(s) neither in the device list nor ever tapped" in n for n in notes)
    assert forecast(state, reps=3).t95_h.n == 3
    # with the service's device list in the folder (as `run.py serve` writes it), every reader is placed
    devices = [{"role": "shelter", "group": 0, "reader_id": r, "facility_id": f} for r, f in readers]
    (tmp_path / "credentials.json").write_text(json.dumps({"devices": devices}))
    assert readers_offline(data) == ({shelter: len(mine)}, 0)
    state, _ = live_state(rows, data, T_LIVE + 9000.0, T_LIVE - 6 * 3600.0, defaults(spec))
    s = next(x for x in state.shelters if x.shelter_id == shelter)
    assert s.readers_online == 0 and s.paper_staff >= 1
    assert any(f"no reader online at shelters [{shelter}]" in n for n in forecast(state, reps=3).lacking)
