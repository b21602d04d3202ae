"""`check_in_run`'s usual rows compiled by numba (imported by `shelter_run` on first use).

The kernel does what `shelter_run`'s loop does for the rows that change nothing but the counts,
records and paper forms (a card checked in, a paper form taken), and stops before any other row
(a refusal, a full shelter, a move between shelters, a second tap, an offline or unknown reader,
a time that is not finite, a form for nobody): the Python loop takes over there. It draws the
paper forms' random numbers through the generator's own C functions (`random()` and
`integers(0, m)` exactly as NumPy draws them), called by address: passing the `Generator` to a
compiled function costs ~5 us per call in numba's unboxing, more than a whole run of rows.
"""

from __future__ import annotations

import ctypes

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from twin.services.shelter_outcomes import IN, QUEUED

U32_MAX = 0xFFFFFFFF


@intrinsic
def _call_double(typingctx, fn, state):  # pragma: no cover (compiled)
    """`double fn(void *state)` called by address."""
    def codegen(context, builder, signature, args):
        ptr = ir.IntType(8).as_pointer()
        f = builder.inttoptr(args[0], ir.FunctionType(ir.DoubleType(), [ptr]).as_pointer())
        return builder.call(f, [builder.inttoptr(args[1], ptr)])
    return types.float64(types.uint64, types.uint64), codegen


@intrinsic
def _call_u32(typingctx, fn, state):  # pragma: no cover (compiled)
    """`uint32_t fn(void *state)` called by address."""
    def codegen(context, builder, signature, args):
        ptr = ir.IntType(8).as_pointer()
        f = builder.inttoptr(args[0], ir.FunctionType(ir.IntType(32), [ptr]).as_pointer())
        return builder.call(f, [builder.inttoptr(args[1], ptr)])
    return types.uint32(types.uint64, types.uint64), codegen


def generator_address(rng: np.random.Generator) -> np.ndarray:
    """The generator's state and its `next_double`, `next_uint32` functions as addresses (uint64)."""
    c = rng.bit_generator.ctypes
    fn = [ctypes.cast(f, ctypes.c_void_p).value for f in (c.next_double, c.next_uint32)]
    return np.array([c.state_address, *fn], dtype=np.uint64)


@numba.njit(cache=True, nogil=True)
def _below(gen: np.ndarray, rng: int) -> int:  # pragma: no cover (compiled)
    """NumPy's `integers(0, rng + 1)` for 0 <= rng < 2**32 - 1: none drawn for 0, else Lemire's
    bounded draw on 32 bits (`buffered_bounded_lemire_uint32`: one call draws for itself)."""
    if rng == 0:
        return 0
    excl = np.uint64(rng + 1)
    m = np.uint64(_call_u32(gen[2], gen[0])) * excl
    left = m & np.uint64(U32_MAX)
    if left < excl:
        threshold = np.uint64((U32_MAX - rng) % (rng + 1))
        while left < threshold:
            m = np.uint64(_call_u32(gen[2], gen[0])) * excl
            left = m & np.uint64(U32_MAX)
    return np.int64(m >> np.uint64(32))


@numba.njit(cache=True, nogil=True)
def run_rows(card, where, who, holders, times, rs, occ, reg, cap, anon, place, since,
             gen, unreadable, wrong, forms0, at, ints, n0, f_at, f_ints):  # pragma: no cover (compiled)
    """Check the usual rows in from the first on (see the module); (rows done, forms taken).

    Per row done: `at[n0 + k]` and `ints[:, n0 + k]` = (card?, reader or -1, shelter, resident or -1,
    outcome, form id or -1, desk count after, identified count after); per form `f_at`, `f_ints`
    (shelter, written resident, true resident) from 0. `rs`: reader id -> shelter index (-1:
    unknown or offline); `holders`: each card's holder (-1: none; `SerialIndex.holders_of`, while
    nothing is revoked); `gen`: `generator_address`."""
    n, n_s, residents = times.size, occ.size, place.size
    nf = 0
    small = residents - 2 < U32_MAX  # (another resident drawn on 64 bits: the Python loop's)
    for k in range(n):
        t = times[k]
        if not np.isfinite(t):
            return k, nf
        w, x, o = where[k], who[k], n0 + k
        if card[k]:
            if w < 0 or w >= rs.size or rs[w] < 0:
                return k, nf
            s, rid = rs[w], holders[k]
            if not 0 <= rid < residents or place[rid] >= 0 or occ[s] >= cap[s]:  # here already, moving, or full
                return k, nf
            occ[s] += 1
            reg[s] += 1
            place[rid] = s
            since[rid] = t
            ints[1, o], ints[3, o], ints[5, o] = w, rid, -1
        else:
            if not (0 <= x < residents and 0 <= w < n_s) or occ[w] >= cap[w] or not small:
                return k, nf
            s = w
            u = _call_double(gen[1], gen[0])  # `_written`'s draws, in its order
            if u < unreadable:
                written = -1
            elif u < wrong and residents > 1:
                other = _below(gen, residents - 2)
                written = other + (1 if other >= x else 0)
            else:
                written = x
            f_at[nf] = t
            f_ints[0, nf], f_ints[1, nf], f_ints[2, nf] = s, written, x
            occ[s] += 1
            ints[1, o], ints[3, o], ints[5, o] = -1, -1, forms0 + nf
            nf += 1
        at[o] = t
        ints[0, o], ints[2, o], ints[4, o] = card[k], s, IN if card[k] else QUEUED
        ints[6, o], ints[7, o] = occ[s], reg[s] - anon[s]
    return n, nf
