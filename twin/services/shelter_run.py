"""A run of single check-ins (card taps and paper forms mixed, in order), as columns in one call.

A simulation serving hundreds of thousands of people one after another spends most of its time
in the calls between them. `check_in_run` takes a run as columns (per row: a card tap or a paper
form, a reader id or shelter index, a serial or resident id, a time) and does for each row what
`ShelterNetwork.tap_code` or `paper_code` does (the same state changes, register rows, refusals
logged, paper-form draws), until a row whose outcome its caller must react to before the next one
(REFUSED, FULL, NO_ROOM: done, and last) or a row the per-person path must take (an unknown or
offline reader, a time that is not finite: not done, and nothing after it).

The usual rows (a card checked in, a paper form taken) are done by compiled code
(`shelter_run_kernel`, numba, imported on the first run) writing the counts, records, register
rows and paper forms in place; the Python loop here takes the run over from the first other row.
It does the whole run where the compiled code cannot know a card's holder: a serial resolver
other than the serial index, or one with a revoked card (`SerialIndex.revoked_any`).
"""

from __future__ import annotations

import time
from array import array
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.errors import TwinError
from twin.services.shelter_outcomes import FULL, IN, MOVED, NO_ROOM, QUEUED, REFUSED, step_in
from twin.services.shelter_paper import PENDING

if TYPE_CHECKING:
    from twin.services.shelters import ShelterNetwork


def check_in_run(net: ShelterNetwork, card, where, who, times, rng: np.random.Generator,
                 holders: np.ndarray | None = None, compiled: bool = True) -> tuple[list[int], int]:
    """Check the rows in, in order: per row, a card tap (`card`: reader id `where`, serial `who`) or
    a paper form (shelter index `where`, resident id `who`) at `times` (lists or arrays). Returns the
    outcome codes of the rows done (a prefix: see the module) and the last one's redirect (-1: none).
    `holders`: the serial index's `holders_of(who)`, if the caller has it (arrays only; read only
    while the index has no revoked card, when it is each serial's holder). `compiled=False`: the
    Python loop only (the same outcomes, without loading numba)."""
    first = _compiled(net, card, where, who, times, rng, holders) if compiled else []
    done = len(first)
    if done == len(times):
        return first, -1
    rest = [v[done:] for v in (card, where, who, times)]
    outs, red = _python(net, *(v.tolist() if isinstance(v, np.ndarray) else v for v in rest), rng)
    return first + outs if done else outs, red


_KERNEL: Any = None  # `shelter_run_kernel`, once imported


def _compiled(net: ShelterNetwork, card, where, who, times, rng: np.random.Generator,
              holders: np.ndarray | None) -> list[int]:
    """The compiled part of a run (see the module): the outcome codes of the rows it did."""
    resolver = net.resolver
    revoked = getattr(resolver, "revoked_any", None)
    if revoked is None or revoked() or not len(times):
        return []
    taps = net.taps
    run = taps.run
    state = run.state
    if state is None or state[0] != net.reader_epoch or state[1] is not rng:
        state = run.state = _state(net, rng)
    k = len(times)
    if not (len(card) == len(where) == len(who) == k and (holders is None or len(holders) == k)):
        raise ValueError(f"a run's columns must be as long as its {k} times")  # (as the Python loop's zip)
    if not (type(card) is type(where) is type(who) is type(times) is np.ndarray and where.dtype.kind == "i"
            and who.dtype.kind == "i"):  # (a value of another type is left to the Python loop: its place
        where, who = (np.array([v if type(v) is int else -1 for v in (col.tolist() if isinstance(col, np.ndarray)
                                                                       else col)], dtype=np.int64)
                      for col in (where, who))  # holds -1, where the compiled rows stop)
        card, times, holders = np.asarray(card, dtype=bool), np.asarray(times, dtype=np.float64), None
    if holders is None:
        holders = resolver.holders_of(who)
    n0 = run.n
    if n0 + k > run.at.size or k > run.form_at.size:  # (the compiled code writes without bounds checks)
        run.room(k)
    forms = net.paper  # (`_KERNEL`: imported by `_state`, above)
    done, nf = _KERNEL.run_rows(card, where, who, holders, times, *state[2:], len(forms.at), run.at, run.ints, n0,
                                run.form_at, run.form_ints)
    if not done:
        return []
    run.n = n0 + done
    taps.ran(n0, n0 + done)
    if nf:
        forms.at.extend(run.form_at[:nf].tolist())
        fi = run.form_ints[:, :nf].tolist()
        forms.shelter.extend(fi[0])
        forms.written.extend(fi[1])
        forms.truth.extend(fi[2])
        forms.status.extend([PENDING] * nf)
    return run.ints[4, n0:n0 + done].tolist()


def _kernel() -> Any:
    """`shelter_run_kernel`, imported on first use (numba loads with it)."""
    global _KERNEL
    if _KERNEL is None:
        from twin.services import shelter_run_kernel

        _KERNEL = shelter_run_kernel
    return _KERNEL


def load_compiled() -> float:
    """Import the compiled rows and load their machine code from numba's cache (compiled on a
    machine's first run), as a run's first call would; the seconds it took (once per process)."""
    t = time.perf_counter()
    i, f = np.zeros(0, dtype=np.int64), np.zeros(0)
    _kernel().run_rows(np.zeros(0, dtype=bool), i, i, i, f, i, *(np.frombuffer(array("q"), dtype=np.int64),) * 4,
                       np.zeros(0, dtype=np.int32), f, np.zeros(3, dtype=np.uint64), 0.0, 0.0, 0, f,
                       np.zeros((8, 0), dtype=np.int64), 0, f, np.zeros((3, 0), dtype=np.int64))
    return time.perf_counter() - t


def _state(net: ShelterNetwork, rng: np.random.Generator) -> tuple:
    """What the compiled rows read and write, as arrays (kept by the register's `run` while the
    network's readers and the generator stay the same; the counts and records are never replaced):
    (reader epoch, generator, reader id -> shelter index or -1, the counts' views, records, the
    generator's addresses, paper error rates)."""
    size = max(net.readers, default=0) + 1
    rs = np.full(size, -1, dtype=np.int64)
    for r, s in net.readers.items():
        if net.online[r] and r >= 0:
            rs[r] = s
    views = tuple(np.frombuffer(a, dtype=np.int64) for a in (net.occ, net.reg, net.cap, net.anon))
    p = net.params
    return (net.reader_epoch, rng, rs, *views, net.where, net.since, _kernel().generator_address(rng),
            p.paper_unreadable_rate, p.paper_unreadable_rate + p.paper_wrong_resident_rate)


def _python(net: ShelterNetwork, card, where, who, times, rng: np.random.Generator) -> tuple[list[int], int]:
    """`check_in_run` one row after another in Python."""
    readers, online, resolve = net.readers, net.online, net.resolver.resident_of
    holders = getattr(net.resolver, "holders", None)  # (a `SerialIndex` with nothing revoked: its table)
    known = (holders() if holders is not None else None) or {}
    occ, cap = net.occ, net.cap
    reg, rows, forms = net.reg, net.taps.append_row, net.paper
    residents = net.where.size
    at_shelter, since = net.where, net.since
    f_at, f_shelter, f_written, f_truth, f_status = forms.at, forms.shelter, forms.written, forms.truth, forms.status
    random, unreadable = rng.random, net.params.paper_unreadable_rate
    wrong = unreadable + net.params.paper_wrong_resident_rate
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
            cur = at_shelter.item(rid)
            if cur < 0 and occ[s] < cap[s]:  # `step_in`'s usual case, inline
                occ[s] += 1
                reg[s] += 1
                out = IN
            else:
                out = step_in(cur, s, occ, reg, cap)
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
        form_id = len(f_at)
        f_at.append(t)
        f_shelter.append(w)
        u = random()  # `_written`, inline: the same draws and comparisons
        if u < unreadable:
            f_written.append(-1)
        elif u < wrong and residents > 1:
            other = int(rng.integers(residents - 1))
            f_written.append(other + (other >= x))
        else:
            f_written.append(x)
        f_truth.append(x)
        f_status.append(PENDING)
        occ[w] += 1
        rows((t, "paper", -1, w, -1, QUEUED, "", -1, form_id))
        done(QUEUED)
    return outs, -1
