"""Several check-ins at one desk at one instant (a group served together), answering plain codes.

The same calls as `ShelterNetwork.tap` and `paper_form` one person after another, with the
same state changes, register rows and logged refusals, minus the per-person answer objects:
a simulation serving hundreds of thousands of groups asks for codes, not `TapResult`s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twin.errors import NotFound, TwinError
from twin.services.card_serials import finite_time
from twin.services.shelter_outcomes import FULL, REFUSED
from twin.services.shelter_paper import fill_code

if TYPE_CHECKING:
    from twin.services.shelters import ShelterNetwork


def tap_part(net: ShelterNetwork, reader_ids: list[int], serials: list[int], now: float
             ) -> tuple[list[int], int]:
    """Each card's outcome code in order (REFUSED where `tap` raises) and the first redirect."""
    t = finite_time(now)
    outs: list[int] = []
    first = -1
    for reader_id, serial in zip(reader_ids, serials, strict=True):
        out, red = tap_code(net, reader_id, serial, t)
        if out == FULL and first < 0:
            first = red
        outs.append(out)
    return outs, first


def tap_code(net: ShelterNetwork, reader_id: int, serial: int, t: float) -> tuple[int, int]:
    """One tap at a finite time `t`: (outcome code, redirect index or -1); REFUSED where `tap`
    raises (logged the same way)."""
    s = net.readers.get(reader_id)
    try:
        if s is None or not net.online[reader_id]:  # refused, or queued on an offline reader
            res = net.tap(reader_id, serial, t)
            return int(res.outcome), -1 if res.redirect_to is None else net.shelter_index(res.redirect_to)
        try:
            rid = net.resolver.resident_of(serial, t)
        except TwinError as e:
            net.refuse(t, reader_id, serial, e.code, s)
            raise
    except TwinError:
        return REFUSED, -1
    return net.admit_code(rid, s, t, "card", reader_id)


def paper_part(net: ShelterNetwork, s: int, resident_ids: list[int], now: float,
               rng: np.random.Generator) -> tuple[list[int], int]:
    """Each person's paper-form outcome code in order (REFUSED where `paper_form` raises) and the
    first redirect."""
    t = _checked(net, s, now)
    outs: list[int] = []
    first = -1
    for rid in resident_ids:
        out, red = _form_code(net, s, rid, t, rng)
        if out == FULL and first < 0:
            first = red
        outs.append(out)
    return outs, first


def paper_code(net: ShelterNetwork, s: int, resident_id: int, now: float, rng: np.random.Generator
               ) -> tuple[int, int]:
    """One paper form at shelter index `s`: (outcome code, redirect index or -1); REFUSED where
    `paper_form` raises."""
    return _form_code(net, s, resident_id, _checked(net, s, now), rng)


def _form_code(net: ShelterNetwork, s: int, resident_id: int, t: float, rng: np.random.Generator
               ) -> tuple[int, int]:
    """`paper_code` at a checked shelter and finite time."""
    try:
        return fill_code(net, s, resident_id, t, rng)
    except TwinError:
        return REFUSED, -1


def _checked(net: ShelterNetwork, s: int, now: float) -> float:
    """`now` as a finite time, if `s` is one of the network's shelter indices."""
    t = finite_time(now)
    if not 0 <= s < net.shelter_count:
        raise NotFound(f"shelter index {s!r} is not one of this network's {net.shelter_count} shelters")
    return t
