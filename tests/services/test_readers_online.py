"""The shelters' occupancy counts the readers online beside the readers registered."""

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
