"""The shelters' occupancy counts the readers online beside the readers registered, and the paper forms waiting."""

from __future__ import annotations

from tests.services.safety_helpers import T0
from twin.services.shelters import ShelterNetwork


def test_a_reader_set_offline_leaves_the_online_count_and_coming_back_restores_it(small_city):
    net = ShelterNetwork.from_city(small_city, now=T0)
    first = int(net.facility_ids[0])
    reader = min(r for r, s in net.readers.items() if s == 0)
    assert net.occupancy()["readers_online"].to_list() == net.occupancy()["readers"].to_list()
    net.set_online(reader, False, T0 + 1)
    occ = net.occupancy()
    assert occ["readers_online"][0] == occ["readers"][0] - 1 and occ["readers_online"][1:].equals(occ["readers"][1:])
    net.register_reader(first, T0 + 2)
    assert net.occupancy()["readers_online"][0] == occ["readers"][0]  # the new one is online
    net.set_online(reader, True, T0 + 3)
    assert net.occupancy()["readers_online"].to_list() == net.occupancy()["readers"].to_list()


def test_paper_forms_wait_for_transcription_in_the_occupancy_until_reconciled(small_city):
    import numpy as np

    net = ShelterNetwork.from_city(small_city, now=T0)
    first, second = (int(f) for f in net.facility_ids[:2])
    rng = np.random.default_rng(1)
    people = small_city.residents["resident_id"].to_list()[:3]
    for i, rid in enumerate(people):
        net.paper_form(first if i < 2 else second, int(rid), T0 + i, rng)
    pending = dict(zip(*net.occupancy().select("shelter_id", "paper_pending"), strict=True))
    assert (pending[first], pending[second], sum(pending.values())) == (2, 1, 3)
    net.reconcile_paper(T0 + 10, limit=2)  # oldest first: both of the first shelter's
    pending = dict(zip(*net.occupancy().select("shelter_id", "paper_pending"), strict=True))
    assert (pending[first], pending[second]) == (0, 1)
