"""A run of single check-ins (card taps and paper forms mixed, in order), as columns in one call.

A simulation serving hundreds of thousands of people one after another spends most of its time
in the calls between them. `check_in_run` takes a run as columns (per row: a card tap or a paper
form, a reader id or shelter index, a serial or resident id, a time) and does for each row what
`ShelterNetwork.tap_code` or `paper_code` does (the same state changes, register rows, refusals
logged, paper-form draws), until a row whose outcome its caller must react to before the next one
(REFUSED, FULL, NO_ROOM: done, and last) or a row the per-person path must take (an unknown or
offline reader, a time that is not finite: not done, and nothing after it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twin.errors import TwinError
from twin.services.shelter_outcomes import FULL, IN, MOVED, NO_ROOM, QUEUED, REFUSED, step_in
from twin.services.shelter_paper import PENDING, _written

if TYPE_CHECKING:
    from twin.services.shelters import ShelterNetwork


def check_in_run(net: ShelterNetwork, card: list[bool], where: list[int], who: list[int],
                 times: list[float], rng: np.random.Generator) -> tuple[list[int], int]:
    """Check the rows in, in order: per row, a card tap (`card`: reader id `where`, serial `who`) or
    a paper form (shelter index `where`, resident id `who`) at `times`. Returns the outcome codes
    of the rows done (a prefix: see the module) and the last one's redirect (-1: none)."""
    readers, online, resolve = net.readers, net.online, net.resolver.resident_of
    holders = getattr(net.resolver, "holders", None)  # (a `SerialIndex` with nothing revoked: its table)
    known = (holders() if holders is not None else None) or {}
    occ, cap = net.occ, net.cap
    reg, rows, forms = net.reg, net.taps.append_row, net.paper
    residents = net.where.size
    at_shelter, since = net.where, net.since
    outs: list[int] = []
    done = outs.append
    for c, w, x, t in zip(card, where, who, times, strict=True):
        if t - t != 0.0:  # NaN or infinite: the per-person path refuses it
            break
        if c:
            s = readers.get(w)
            if s is None or not online[w]:  # refused as unknown, or queued: the per-person path
                break
            rid = known.get(x)
            if rid is None:
                try:
                    rid = int(resolve(x, t))
                except TwinError as e:
                    net.refuse(t, w, x, e.code, s)
                    done(REFUSED)
                    return outs, -1
            out = step_in(at_shelter.item(rid), s, occ, reg, cap)
            if out == IN or out == MOVED:
                at_shelter[rid] = s
                since[rid] = t
            elif out == FULL:
                red = net.nearest_with_room(s)
                out = FULL if red >= 0 else NO_ROOM
                rows((t, "card", w, s, rid, out, "", red, -1))
                done(out)
                return outs, red
            rows((t, "card", w, s, rid, out, "", -1, -1))
            done(out)
            continue
        if not (isinstance(x, int) and 0 <= x < residents and 0 <= w < len(cap)):
            break  # not a resident or not a shelter: the per-person path refuses it
        if occ[w] >= cap[w]:
            red = net.nearest_with_room(w)
            out = FULL if red >= 0 else NO_ROOM
            rows((t, "paper", -1, w, -1, out, "", red, -1))
            done(out)
            return outs, red
        form_id = len(forms.at)
        forms.at.append(t)
        forms.shelter.append(w)
        forms.written.append(_written(net, x, rng))
        forms.truth.append(x)
        forms.status.append(PENDING)
        occ[w] += 1
        rows((t, "paper", -1, w, -1, QUEUED, "", -1, form_id))
        done(QUEUED)
    return outs, -1
