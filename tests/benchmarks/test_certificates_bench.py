"""The certificate benchmark's per-visit figure: the design's own peak when no share is given."""

from __future__ import annotations

from benchmarks.bench_certificates_engine import certificate_visit_us, load_line
from scenarios import certificates
from scenarios.runner import make_params


def test_the_design_peak_line_counts_the_visits_of_the_designs_own_demand_and_days():
    p = make_params("certificates", "full", overrides={"scale": 0.01, "city_seed": 1, "engine": "fast"})
    visits = certificates.run(p, 1).frames["visits"]
    expected = int(visits["planned_channel"].is_in(["kiosk", "counter"]).sum())
    us, n = certificate_visit_us("fast", "hmac", None, None, scale=0.01)
    assert n == expected > 10_000 and 0 < us < 1e4  # the whole 7-day peak, not a slice
    small_us, small_n = certificate_visit_us("fast", "hmac", 0.02, 1, scale=0.01)
    assert 0 < small_n < n / 20 and small_us > 0


def test_the_load_line_states_the_load_at_the_start_and_the_end_of_the_benchmark():
    line = load_line(1.24, 3.06)
    assert "1.2 at the start" in line and "3.1 at the end" in line and "bare SimPy" in line
