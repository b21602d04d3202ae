"""NumPy's huge-page advice switched off around a run that allocates many short-lived large arrays.

On Linux with transparent huge pages set to `madvise`, NumPy advises huge pages for every array of
4 MB or more. Where the kernel is slow to hand out a fresh huge page (measured on this project's
2-core machines: ten 30 MB arrays filled in 0.75-1.9 s of kernel time, 0.08 s with 4 KB pages),
a run's first large allocations cost more than the work done on them. The advice is read by NumPy
per allocation (`numpy._core.multiarray._set_madvise_hugepage`, the switch behind the
NUMPY_MADVISE_HUGEPAGE variable), so it is off for the block and restored after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from numpy._core import multiarray


@contextmanager
def small_pages() -> Iterator[None]:
    """No huge-page advice for the arrays allocated in the block (restored as it was after it)."""
    switch = getattr(multiarray, "_set_madvise_hugepage", None)
    if switch is None:  # a NumPy without the switch: nothing to change
        yield
        return
    was = switch(False)
    try:
        yield
    finally:
        switch(was)
