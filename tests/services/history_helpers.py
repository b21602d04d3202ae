"""A random day of shelter traffic for the history tests (not a test module)."""

from __future__ import annotations

import numpy as np

from tests.services.safety_helpers import T0, card_holders
from twin.errors import TwinError
from twin.identity import Assurance, Identity
from twin.services.safety import Safety
from twin.services.shelter_types import ShelterParams


def busy_day(city, seed: int, steps: int = 600, record: bool = True
             ) -> tuple[Safety, list[tuple[float, list[int], list[int], np.ndarray]]]:
    """A network through taps (online and offline, then synced), identity check-ins that move
    people, paper forms (some wrong or unreadable) and their entry, check-outs and refusals, at
    times with many ties; the state after every step: (time, desk counts, identified, where)."""
    rng = np.random.default_rng(seed)
    params = ShelterParams(readers_per_shelter=2, capacity_per_shelter=4,
                           paper_wrong_resident_rate=0.3, paper_unreadable_rate=0.1)
    safety = Safety.from_city(city, T0, shelter_params=params)
    net = safety.shelters
    if record:
        net.record_history()
    residents, serials = card_holders(city, 60)
    people = list(range(40)) + residents[:20]
    fids = net.facility_ids.tolist()[:6]
    readers = [r for r, s in net.readers.items() if s < 6]
    states, t = [], T0
    for _ in range(steps):
        t += float(rng.integers(0, 3)) * 7.5  # a third of the steps at the previous step's time
        u = rng.random()
        try:
            if u < 0.25:
                k = int(rng.integers(len(serials)))
                net.tap(readers[int(rng.integers(len(readers)))], serials[k], t)
            elif u < 0.35:
                r = readers[int(rng.integers(len(readers)))]
                net.set_online(r, not net.online[r], t)
            elif u < 0.55:
                who = people[int(rng.integers(len(people)))]
                net.check_in_identity(Identity(who, "counter_photo_id", Assurance.HIGH, t),
                                      fids[int(rng.integers(len(fids)))], t)
            elif u < 0.7:
                who = people[int(rng.integers(len(people)))]
                net.paper_form(fids[int(rng.integers(len(fids)))], who, t, rng)
            elif u < 0.78:
                net.reconcile_paper(t, int(rng.integers(0, 4)))
            elif u < 0.9:
                who = people[int(rng.integers(len(people)))]
                net.check_out_identity(Identity(who, "counter_photo_id", Assurance.HIGH, t), t)
            elif u < 0.95:
                k = int(rng.integers(len(serials)))
                net.check_out(readers[int(rng.integers(len(readers)))], serials[k], t)
            else:
                net.tap(10**6, serials[0], t)  # an unknown reader: refused, logged
        except TwinError:
            pass
        states.append((t, list(net.occ), [r - a for r, a in zip(net.reg, net.anon, strict=True)],
                       net.where.copy()))
    return safety, states


def state_at(states, at: float):
    """The state after the last step at or before `at` (None before the first step)."""
    last = None
    for st in states:
        if st[0] > at:
            break
        last = st
    return last
