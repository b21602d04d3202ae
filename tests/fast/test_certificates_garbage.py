"""A fast certificate run leaves nothing in reference cycles: its refusals are answers without the frames
that raised them, so the run's objects are freed at once instead of waiting for the cycle collector."""

from __future__ import annotations

import gc

from scenarios import certificates
from scenarios.runner import make_params
from tests.fast.test_certificates_engines import HARSH


def test_a_harsh_fast_run_leaves_no_garbage_in_cycles():
    p = make_params("certificates", "full", overrides=HARSH | {"scale": 0.01, "engine": "fast"})
    certificates.run(p, 1)  # warm: caches filled once per process are not the run's
    gc.collect()
    gc.disable()
    try:
        kpis = certificates.run(p, 2).kpis  # the rest of the result is dropped here
        found = gc.collect()
    finally:
        gc.enable()
    assert kpis["pin_locks"] > 0 and kpis["kiosk_faults"] > 0  # refusals raised on both paths
    assert found == 0
